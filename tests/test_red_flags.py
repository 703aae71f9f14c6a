"""The red flags (issue 20) on crafted label sets and on the demo: each raised with its
evidence, and "tuning justified" never given while one stands."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from core.report.build import build_report
from core.report.red_flags import Scatter, too_broad
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.store.settings import set_setting
from core.taxonomy import TAXONOMY_DIR, parse_taxonomy
from tests.conftest import add_transcripts, make_record
from tests.demo_helpers import demo_database
from tests.report_helpers import T0, ann, insert_annotations, labeled_set, second_opinions


def flags(report) -> dict:
    return {f.flag: f for f in report.red_flags}


def raised(report) -> list[str]:
    return [f.flag for f in report.red_flags if f.status == "raised"]


def test_45_examples_of_a_proposed_category_raise_too_few(db, taxonomy):
    labeled_set(db, taxonomy, {"tone_policy": 45, "wrong_retrieval": 55}, spread=True)
    f = flags(build_report(db, taxonomy))["too_few_examples"]
    assert (f.status, f.value, f.threshold) == ("raised", 45, 50)
    assert f.evidence == "labeled examples: Tone / policy 45"


def test_50_examples_clear_the_flag_though_the_readiness_check_still_wants_100(db, taxonomy):
    labeled_set(db, taxonomy, {"tone_policy": 50, "wrong_retrieval": 50}, spread=True)
    r = build_report(db, taxonomy)
    assert flags(r)["too_few_examples"].status == "clear"
    check = next(c for c in r.readiness if c.check == "min_examples_per_tuned_category")
    assert (check.value, check.passed) == (50, False)


def test_12_percent_disagreement_raises_noisy_labels_with_its_interval(db, taxonomy):
    ids = labeled_set(db, taxonomy, {"tone_policy": 30, "wrong_retrieval": 20}, spread=True)
    second = ["escalation" if i < 6 else ("tone_policy" if i < 30 else "wrong_retrieval")
              for i in range(50)]
    second_opinions(db, taxonomy, ids, second)
    r = build_report(db, taxonomy)
    f = flags(r)["noisy_labels"]
    assert (f.status, f.value, f.threshold) == ("raised", 0.12, 0.1)
    assert f.ci_low < 0.12 < f.ci_high
    assert f.evidence.startswith("reviewers disagree on 6 of 50 double-labeled transcripts: "
                                 "12.0% (95% CI 5.6%–23.8%)")
    assert r.agreement.krippendorff_alpha >= 0.6  # alpha alone would not have caught it


def test_fewer_than_30_double_labeled_is_not_assessed(db, taxonomy):
    ids = labeled_set(db, taxonomy, {"tone_policy": 20}, spread=True)
    second_opinions(db, taxonomy, ids[:10], ["escalation"] * 10)
    f = flags(build_report(db, taxonomy))["noisy_labels"]
    assert (f.status, f.evidence) == ("not_assessed",
                                      "10 double-labeled transcripts, at least 30 needed")


def _edited_taxonomy(tmp_path: Path, old: str, new: str, name: str = "default") -> object:
    text = (TAXONOMY_DIR / "default.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return parse_taxonomy(path)


def _label_under(db, taxonomy, ids, labels, start_minute):
    insert_annotations(db, [ann(taxonomy, tid, "ann", lab, start_minute + i)
                            for i, (tid, lab) in enumerate(zip(ids, labels, strict=True))])


def test_a_definition_change_mid_window_is_a_moving_target(db, taxonomy, tmp_path):
    v2 = _edited_taxonomy(tmp_path, "The facts were right but the manner broke the rules",
                          "The facts were right but the voice or the policy was wrong")
    register_taxonomy(db, v2)
    ids = add_transcripts(db, [make_record(i) for i in range(80)])
    labels = ["tone_policy", "wrong_retrieval"] * 40
    _label_under(db, taxonomy, ids[:40], labels[:40], 0)
    _label_under(db, v2, ids[40:], labels[40:], 100)
    r = build_report(db, v2)
    f = flags(r)["moving_target"]
    assert f.status == "raised"
    assert f.evidence.startswith(f"default@{taxonomy.version} → default@{v2.version} (first used "
                                 f"{(T0 + timedelta(minutes=100)):%Y-%m-%d}): changed tone_policy")
    assert "p = 1" in f.evidence  # the shares did not move: the definitions did


def test_a_version_that_only_adds_a_category_does_not_move_the_target(db, taxonomy, tmp_path):
    extra = ('\n[[categories]]\nkey = "stale_cache"\nname = "Stale cache"\nfix_class = "pipeline"\n'
             'definition = "A cached answer outlived its source."\nnot_this_when = "Fresh."\n'
             'examples = ["Old price served."]\ntypical_fix = "Expire the cache."\n')
    text = (TAXONOMY_DIR / "default.toml").read_text(encoding="utf-8") + extra
    (tmp_path / "default.toml").write_text(text, encoding="utf-8")
    v2 = parse_taxonomy(tmp_path / "default.toml")
    register_taxonomy(db, v2)
    ids = add_transcripts(db, [make_record(i) for i in range(80)])
    labels = ["tone_policy", "wrong_retrieval"] * 40
    _label_under(db, taxonomy, ids[:40], labels[:40], 0)
    _label_under(db, v2, ids[40:], labels[40:], 100)
    f = flags(build_report(db, v2))["moving_target"]
    assert f.status == "clear"
    assert f.evidence.startswith("no definition changed in the labeling window (1 version(s) "
                                 "only added categories)")


def test_a_switch_to_another_taxonomy_mid_window_is_a_moving_target(db, taxonomy):
    agent = parse_taxonomy(TAXONOMY_DIR / "agent.toml")
    register_taxonomy(db, agent)
    ids = add_transcripts(db, [make_record(i) for i in range(60)])
    _label_under(db, taxonomy, ids[:30], ["missed_tool_call"] * 30, 0)
    _label_under(db, agent, ids[30:], ["missed_tool_call"] * 30, 100)
    f = flags(build_report(db, agent))["moving_target"]
    assert f.status == "raised"
    assert f"default@{taxonomy.version} → agent@{agent.version}" in f.evidence
    assert "changed missed_tool_call" in f.evidence and "removed missing_knowledge" in f.evidence


def test_shifted_shares_between_halves_raise_a_moving_target(db, taxonomy):
    ids = add_transcripts(db, [make_record(i) for i in range(80)])
    first = ["tone_policy"] * 32 + ["escalation"] * 8
    second = ["tone_policy"] * 8 + ["escalation"] * 32
    _label_under(db, taxonomy, ids, first + second, 0)
    f = flags(build_report(db, taxonomy))["moving_target"]
    assert f.status == "raised"
    assert "first vs second half of the labeling window" in f.evidence
    assert "40 and 40 failures" in f.evidence and "largest shift escalation 20% → 80%" in f.evidence


def test_steady_shares_by_the_transcripts_own_time_are_clear(db, taxonomy):
    ids = add_transcripts(db, [make_record(i, metadata={
        "created_at": (T0 + timedelta(days=i)).isoformat()}) for i in range(60)])
    labels = ["tone_policy", "escalation", "wrong_retrieval"] * 20
    _label_under(db, taxonomy, ids, labels, 0)
    f = flags(build_report(db, taxonomy))["moving_target"]
    assert f.status == "clear"
    assert "half of the period the transcripts cover (metadata.created_at)" in f.evidence


def test_hallucination_type_failures_leading_raise_a_flag(db, taxonomy):
    assert [c.key for c in taxonomy.categories if c.hallucination] == ["missing_knowledge"]
    labeled_set(db, taxonomy, {"missing_knowledge": 40, "tone_policy": 30}, spread=True)
    f = flags(build_report(db, taxonomy))["hallucination_leading"]
    assert f.status == "raised"
    assert f.evidence == ("Missing knowledge (marked hallucination): 40 of 70 failures (57.1%); "
                          "the largest other category, Tone / policy, holds 30")


def test_prompting_first_no_raises_and_unanswered_keeps_tuning_back(db, taxonomy):
    ids = labeled_set(db, taxonomy, {"tone_policy": 180, "wrong_retrieval": 20},
                      context_present="yes", spread=True)
    second_opinions(db, taxonomy, ids[:20] + ids[180:], ["tone_policy"] * 20 + ["wrong_retrieval"] * 20)
    r = build_report(db, taxonomy)
    assert all(c.passed for c in r.readiness) and raised(r) == []
    assert (flags(r)["prompting_not_tried"].status, r.verdict) == ("unanswered", "behavior_not_ready")
    assert r.verdict_sentence.endswith("0 of 5 readiness checks fail; unanswered: tried prompting first?.")
    set_setting(db, "tried_prompting_first", "no", "lead")
    r = build_report(db, taxonomy)
    assert (raised(r), r.verdict) == (["prompting_not_tried"], "behavior_not_ready")
    set_setting(db, "tried_prompting_first", "yes", "lead")
    r = build_report(db, taxonomy)
    assert r.verdict == "tuning_justified"
    assert r.verdict_sentence.endswith("no red flag stands (not assessed: task too broad).")


def test_too_broad_cites_the_scatter_when_discovery_gives_it(taxonomy):
    behavior = Counter({"tone_policy": 30, "escalation": 5})
    unknown = too_broad(behavior, taxonomy.decision, taxonomy, None)
    assert unknown.status == "not_assessed" and "not assessed in this version" in unknown.evidence
    scattered = too_broad(behavior, taxonomy.decision, taxonomy,
                          lambda key: Scatter(True, f"{key}: notes fall in 6 clusters"))
    assert scattered.status == "raised" and scattered.evidence.endswith("notes fall in 6 clusters")
    spread = too_broad(Counter({"tone_policy": 4, "escalation": 4, "schema_format": 2}),
                       taxonomy.decision, taxonomy, None)
    assert spread.status == "clear"


def test_the_demo_earns_exactly_the_noisy_label_flag(tmp_path, taxonomy):
    demo_database(tmp_path / "demo.duckdb")
    with connect(tmp_path / "demo.duckdb") as db:
        r = build_report(db, taxonomy)
    assert raised(r) == ["noisy_labels"]
    statuses = {f.flag: f.status for f in r.red_flags}
    assert statuses == {"too_few_examples": "clear", "noisy_labels": "raised",
                        "moving_target": "clear", "hallucination_leading": "clear",
                        "too_broad": "clear", "prompting_not_tried": "unanswered"}
    noisy = flags(r)["noisy_labels"]
    assert noisy.evidence.startswith("reviewers disagree on 6 of 48 double-labeled transcripts: 12.5%")


def test_a_raised_flag_is_named_in_a_not_ready_sentence(db, taxonomy):
    ids = labeled_set(db, taxonomy, {"tone_policy": 180, "wrong_retrieval": 20},
                      context_present="yes", spread=True)
    second = ["escalation" if i < 5 else lab for i, lab in
              enumerate(["tone_policy"] * 20 + ["wrong_retrieval"] * 20)]
    second_opinions(db, taxonomy, ids[:20] + ids[180:], second)
    set_setting(db, "tried_prompting_first", "yes", "lead")
    r = build_report(db, replace(taxonomy))
    assert raised(r) == ["noisy_labels"] and r.verdict == "behavior_not_ready"
    assert r.verdict_sentence.endswith("readiness checks fail; red flag: noisy labels.")


THEMES = {
    "format": ["replied in prose where the ticket form needs JSON with the refund fields",
               "the JSON answer missed the closing brace and the amount field",
               "returned a markdown table instead of the JSON schema the form expects"],
    "tone": ["curt and dismissive with an upset customer about the late delivery",
             "sarcastic remark to the customer who asked twice about the invoice",
             "blamed the customer rudely for the failed payment"],
    "handoff": ["should have handed the legal threat to a human agent at once",
                "kept answering a fraud report instead of escalating to the security team",
                "did not transfer the account closure request to a human as policy says"],
}


def _notes_on(db, taxonomy, themes: list[list[str]], n: int = 60) -> None:
    ids = add_transcripts(db, [make_record(9000 + i) for i in range(n)])
    notes = [themes[i % len(themes)][(i // len(themes)) % 3] + f" (case {i})" for i in range(n)]
    insert_annotations(db, [ann(taxonomy, t, "ann", "tone_policy", i, note=note)
                            for i, (t, note) in enumerate(zip(ids, notes, strict=True))])


def test_notes_of_the_top_category_scattering_over_themes_raise_too_broad(db, taxonomy):
    _notes_on(db, taxonomy, [THEMES["format"], THEMES["tone"], THEMES["handoff"]])
    f = flags(build_report(db, taxonomy))["too_broad"]
    assert f.status == "raised", f.evidence
    assert "discovered clusters" in f.evidence and "of 60 behavior failures" in f.evidence


def test_notes_that_say_one_thing_leave_too_broad_clear(db, taxonomy):
    _notes_on(db, taxonomy, [["curt and dismissive with the customer about the refund",
                              "curt and dismissive with the customer about the refund delay",
                              "curt and dismissive with the customer about a refund"]])
    f = flags(build_report(db, taxonomy))["too_broad"]
    assert f.status in ("clear", "not_assessed"), f.evidence
