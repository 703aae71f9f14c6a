"""The verdict, readiness checklist and more-failures-needed, built from real DuckDB storage."""

import dataclasses
import json
from datetime import datetime

import pytest

from core.report.build import build_report
from core.stats import wilson_lower
from core.store.connection import utcnow
from core.store.prelabels import Prelabel, save_prelabels
from core.store.settings import set_setting
from tests.conftest import add_transcripts, make_record
from tests.report_helpers import ann, insert_annotations, labeled_set, second_opinions

WHEN = datetime(2026, 3, 3, 12, 0)


def report(db, taxonomy, **kw):
    return build_report(db, taxonomy, generated_at=WHEN, **kw)


def test_114_of_200_pipeline_is_pipeline_first(db, taxonomy):
    labeled_set(db, taxonomy, {"wrong_retrieval": 60, "missed_tool_call": 54, "tone_policy": 86})
    r = report(db, taxonomy)
    assert r.verdict == "pipeline_first"
    assert (r.n_failures, r.fix_classes["pipeline"].count) == (200, 114)
    assert round(r.fix_classes["pipeline"].ci_low, 4) == 0.5007
    assert r.more_failures_needed == 0
    assert [a.key for a in r.next_actions] == ["wrong_retrieval", "missed_tool_call"]
    assert r.next_actions[0].typical_fix == taxonomy.category("wrong_retrieval").typical_fix
    assert "Fix the pipeline first" in r.verdict_sentence and "50.1%" in r.verdict_sentence


def test_113_of_200_pipeline_is_inconclusive_with_more_needed(db, taxonomy):
    labeled_set(db, taxonomy, {"wrong_retrieval": 113, "tone_policy": 87})
    r = report(db, taxonomy)
    assert r.verdict == "inconclusive"
    assert round(r.fix_classes["pipeline"].ci_low, 4) == 0.4957
    needed = r.more_failures_needed
    assert needed > 0 and wilson_lower(0.565, 200 + needed) > 0.5
    assert f"{needed:,} more labeled failures" in r.more_failures_reason


def behavior_ready(db, taxonomy, tone=180, pipeline=20, double=40, double_agree=True,
                   context="yes"):
    """A behavior-dominant set that passes every readiness check and raises no red flag unless
    told otherwise: labels spread over the window, prompting tried first."""
    set_setting(db, "tried_prompting_first", "yes", "lead")
    ids = labeled_set(db, taxonomy, {"tone_policy": tone, "wrong_retrieval": pipeline},
                      context_present=context, spread=True)
    if double:  # both classes double-labeled, so alpha is defined
        pick = ids[: double // 2] + ids[tone: tone + double - double // 2]
        first = ["tone_policy"] * (double // 2) + ["wrong_retrieval"] * (double - double // 2)
        second = [lab if double_agree or i % 2 else "escalation" for i, lab in enumerate(first)]
        second_opinions(db, taxonomy, pick, second)
    return ids


def checks(r):
    return {c.check: c.passed for c in r.readiness}


def test_behavior_dominant_with_every_check_passing_is_tuning_justified(db, taxonomy):
    behavior_ready(db, taxonomy)
    r = report(db, taxonomy)
    assert r.verdict == "tuning_justified", r.readiness
    assert all(checks(r).values())
    assert [c.check for c in r.readiness] == [
        "tuned_category_min_share", "min_examples_per_tuned_category", "min_alpha",
        "min_context_present_share", "min_top_behavior_share"]
    assert r.agreement.krippendorff_alpha == 1.0 and r.agreement.n_items == 40


@pytest.mark.parametrize("variant,failing", [
    ({"tone": 90, "pipeline": 25}, "min_examples_per_tuned_category"),
    ({"double_agree": False}, "min_alpha"),
    ({"double": 10}, "min_alpha"),
    ({"context": "no"}, "min_context_present_share"),
])
def test_behavior_dominant_with_one_failing_check_is_not_ready(db, taxonomy, variant, failing):
    behavior_ready(db, taxonomy, **variant)
    r = report(db, taxonomy)
    assert r.verdict == "behavior_not_ready"
    assert [k for k, ok in checks(r).items() if not ok] == [failing]


def test_too_few_double_labeled_is_not_measured(db, taxonomy):
    behavior_ready(db, taxonomy, double=10)
    alpha = next(c for c in report(db, taxonomy).readiness if c.check == "min_alpha")
    assert (alpha.value, alpha.passed) == (None, False)
    assert alpha.detail.startswith("not measured: 10 double-labeled")


@pytest.mark.parametrize("context", ["unknown", None])
def test_context_present_unknown_is_not_measured_and_not_no(db, taxonomy, context):
    """Unknown (or unset) is no answer: the share is not told, the check does not pass, and
    the JSON keeps one item under its key with the sentence in `detail`."""
    behavior_ready(db, taxonomy, context=context)
    r = report(db, taxonomy)
    ctx = next(c for c in r.readiness if c.check == "min_context_present_share")
    assert (ctx.value, ctx.passed) == (None, False)
    assert ctx.detail.startswith("not measured: answered for 0 of 180 behavior failures, at "
                                 "least 80% needed")
    items = [c for c in json.loads(json.dumps(r.to_dict()))["readiness"]
             if c["check"] == "min_context_present_share"]
    assert len(items) == 1 and items[0]["value"] is None and items[0]["detail"] == ctx.detail


def test_context_present_share_is_over_answered_labels(db, taxonomy):
    """'no' is an answer, 'unknown' is not: 120 yes, 30 no, 20 unknown of 170 behavior
    failures → 120 / 150 = 80%, answered for 150 of 170 (88%, above the 80% needed)."""
    start = 0
    for value, n in (("yes", 120), ("no", 30), ("unknown", 20)):
        labeled_set(db, taxonomy, {"tone_policy": n}, start=start, context_present=value)
        start += n
    ctx = next(c for c in report(db, taxonomy).readiness if c.check == "min_context_present_share")
    assert ctx.detail == ("context present = yes in 120 of 150; answered for 150 of 170 behavior "
                          "failures")
    assert ctx.value == pytest.approx(0.8) and ctx.passed


def test_spread_behavior_fails_the_narrow_task_check(db, taxonomy):
    ids = labeled_set(db, taxonomy, {"tone_policy": 110, "escalation": 105, "schema_format": 100},
                      context_present="yes")
    second_opinions(db, taxonomy, ids[:20] + ids[110:130], ["tone_policy"] * 20 + ["escalation"] * 20)
    r = report(db, taxonomy)
    assert r.verdict == "behavior_not_ready"
    assert [k for k, ok in checks(r).items() if not ok] == ["min_top_behavior_share"]


def test_no_category_reaching_the_tuning_share_fails_first_two_checks(db, taxonomy):
    behavior_ready(db, taxonomy)
    strict = dataclasses.replace(taxonomy, decision={**taxonomy.decision,
                                                     "tuned_category_min_share": 0.95})
    r = report(db, strict)
    assert r.verdict == "behavior_not_ready"
    assert [k for k, ok in checks(r).items() if not ok] == [
        "tuned_category_min_share", "min_examples_per_tuned_category"]


def test_zero_labels_is_inconclusive_with_nulls(db, taxonomy):
    add_transcripts(db, [make_record(i) for i in range(3)])
    r = report(db, taxonomy)
    assert (r.verdict, r.n_transcripts, r.n_labeled, r.n_failures) == ("inconclusive", 3, 0, 0)
    assert r.more_failures_needed is None and "no labeled failures" in r.more_failures_reason
    assert r.fix_classes["pipeline"].share is None and r.no_failure.share is None
    assert r.agreement.krippendorff_alpha is None
    json.dumps(r.to_dict())


def test_one_category_only(db, taxonomy):
    labeled_set(db, taxonomy, {"missed_tool_call": 30})
    r = report(db, taxonomy)
    assert r.verdict == "pipeline_first"
    assert r.categories["missed_tool_call"].share == 1.0
    assert r.categories["wrong_retrieval"].count == 0


def test_all_no_failure(db, taxonomy):
    labeled_set(db, taxonomy, {"no_failure": 50})
    r = report(db, taxonomy)
    assert (r.verdict, r.n_labeled, r.n_failures) == ("inconclusive", 50, 0)
    assert r.no_failure.share == 1.0 and r.more_failures_needed is None


def test_model_class_dominant_gives_no_more_failures_figure(db, taxonomy):
    labeled_set(db, taxonomy, {"reasoning": 150, "wrong_retrieval": 50})
    r = report(db, taxonomy)
    assert (r.verdict, r.leading_class) == ("inconclusive", "model")
    assert r.more_failures_needed is None and "model-class" in r.more_failures_reason


def test_leading_share_at_most_half_gives_null_with_reason(db, taxonomy):
    labeled_set(db, taxonomy, {"wrong_retrieval": 50, "tone_policy": 50})
    r = report(db, taxonomy)
    assert r.more_failures_needed is None and "never decides" in r.more_failures_reason


def test_open_disagreements_left_out_and_counted(db, taxonomy):
    ids = labeled_set(db, taxonomy, {"wrong_retrieval": 5})
    second_opinions(db, taxonomy, ids[:2], ["tone_policy", "wrong_retrieval"])
    r = report(db, taxonomy)
    assert (r.n_labeled, r.n_open_disagreements, r.n_failures) == (4, 1, 4)
    assert r.agreement.disagreements[0].status == "disagreement"


def test_prelabels_and_archived_transcripts_do_not_count(db, taxonomy):
    labeled_set(db, taxonomy, {"wrong_retrieval": 3})
    add_transcripts(db, [make_record(i) for i in range(100, 110)])
    save_prelabels(db, [Prelabel(f"t{i}", None, "offline", "m", "v1", taxonomy.version, "ok",
                                 "tone_policy", confidence=0.9) for i in range(100, 110)])
    db.con.execute("UPDATE transcripts SET archived = true WHERE transcript_id = 't0'")
    r = report(db, taxonomy)
    assert (r.n_transcripts, r.n_labeled, r.categories["tone_policy"].count) == (12, 2, 0)


def test_random_only_keeps_random_queue_transcripts_and_warns_on_non_random(db, taxonomy):
    labeled_set(db, taxonomy, {"wrong_retrieval": 8})
    labeled_set(db, taxonomy, {"tone_policy": 4}, start=50, queue="low_confidence")
    full = report(db, taxonomy)
    assert full.sampling.non_random_share == pytest.approx(4 / 12)
    assert full.sampling.warning and full.sampling.warning in full.warnings
    only = report(db, taxonomy, random_only=True)
    assert (only.n_labeled, only.sampling.random_only) == (8, True)
    assert only.sampling.n_excluded_by_random_only == 4
    assert only.categories["tone_policy"].count == 0


def test_context_present_and_ideal_responses_follow_the_final_label(db, taxonomy):
    add_transcripts(db, [make_record(i) for i in range(2)])
    insert_annotations(db, [
        ann(taxonomy, "t0", "ann", "tone_policy", 0, context_present="no"),
        ann(taxonomy, "t0", "bob", "escalation", 1, context_present="no",
            ideal_response="I'll hand you over."),
        ann(taxonomy, "t0", "lead", "tone_policy", 2, kind="adjudication", context_present="yes"),
        ann(taxonomy, "t1", "ann", "tone_policy", 3, context_present="no",
            ideal_response="Sorry for the wait — here is the fix."),
    ])
    r = report(db, taxonomy)
    ctx = next(c for c in r.readiness if c.check == "min_context_present_share")
    assert ctx.value == 0.5 and ctx.detail == ("context present = yes in 1 of 2; answered for 2 "
                                               "of 2 behavior failures")
    assert [(a.key, a.count, a.ideal_responses) for a in r.next_actions] == [("tone_policy", 2, 1)]


def test_mixed_taxonomy_versions_warn(db, taxonomy):
    labeled_set(db, taxonomy, {"wrong_retrieval": 3})
    insert_annotations(db, [ann(taxonomy, "t0", "ann", "noisy_context", 5, taxonomy_version="old",
                                created_at=utcnow())])
    r = report(db, taxonomy)
    assert r.taxonomy.warning and "old" in r.taxonomy.warning
    assert r.categories["noisy_context"].count == 1  # fix class from the current taxonomy


def test_slices_tiny_missing_and_empty(db, taxonomy):
    labeled_set(db, taxonomy, {"wrong_retrieval": 3}, metadata={"tier": "gold"})
    labeled_set(db, taxonomy, {"tone_policy": 1}, start=10, metadata={})
    r = report(db, taxonomy, slice_fields=["tier", "absent"])
    assert [(s.value, s.n_labeled, s.n_failures, s.small, s.top_category)
            for s in r.slices["tier"]] == [("gold", 3, 3, True, "wrong_retrieval"),
                                          ("(missing)", 1, 1, True, "tone_policy")]
    assert [s.value for s in r.slices["absent"]] == ["(missing)"]
    assert r.warnings == ("slice 'absent': no transcript in the report has this field (a "
                          "metadata key or `source`); check its spelling",)
    by_source = report(db, taxonomy, slice_fields=["source"]).slices["source"]
    assert [(s.value, s.n_labeled) for s in by_source] == [("test", 4)]  # the column
    empty = build_report(db, taxonomy, random_only=True, slice_fields=["tier"], generated_at=WHEN)
    assert empty.slices["tier"] != ()  # random queue labels are included
    db.con.execute("DELETE FROM annotations")
    assert report(db, taxonomy, slice_fields=["tier"]).slices == {"tier": ()}


def test_sampling_names_the_samples_the_labels_came_from(db, taxonomy):
    db.con.execute("INSERT INTO samples VALUES ('s1', 'random', 7, 300, NULL, NULL, 'lead', ?)",
                   [datetime(2026, 3, 1, 8)])
    labeled_set(db, taxonomy, {"wrong_retrieval": 3}, sample_id="s1")
    labeled_set(db, taxonomy, {"tone_policy": 1}, start=10)
    s = report(db, taxonomy).sampling
    assert s.samples == ({"sample_id": "s1", "method": "random", "seed": 7, "n": 300,
                          "filter": None, "stratify_by": None,
                          "created_at": "2026-03-01T08:00:00", "n_labels": 3},)
    assert (s.queues, s.non_random_share, s.warning) == ({"random": 4}, 0.0, None)
