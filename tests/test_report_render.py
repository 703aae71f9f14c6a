"""The report's JSON keys, HTML and Markdown exports, and the `triage report` command."""

import dataclasses
import json
import re
from datetime import datetime

import pytest

from core.cli.main import run
from core.report.build import build_report
from core.report.render import render_html, render_markdown
from core.store.settings import set_setting
from tests.conftest import add_transcripts, make_record
from tests.report_helpers import ann, insert_annotations, labeled_set, second_opinions

WHEN = datetime(2026, 3, 3, 12, 0)
SCRIPT = '<script>window.__pwned = 1; alert("pwned")</script>'
IMG = '<img src=x onerror="window.__pwned = 2">'
PRELABELER = {
    "labeler": "offline", "model": "tfidf-logreg", "n": 120, "accuracy": 0.82, "kappa": 0.71,
    "per_category": {"wrong_retrieval": {"precision": 0.9, "recall": 0.95, "support": 100},
                     "escalation": {"precision": 0.5, "recall": 0.1, "support": 20}},
    "confusion": {"labels": ["wrong_retrieval", "escalation"], "matrix": [[95, 5], [18, 2]]},
    "by_confidence": [{"bucket": "0.0–0.5", "n": 30, "accuracy": 0.5},
                      {"bucket": "0.5–1.0", "n": 90, "accuracy": 0.93}],
}


def hostile_set(db, taxonomy):
    """A small set with a transcript whose text and metadata carry HTML that must not run."""
    ids = labeled_set(db, taxonomy, {"wrong_retrieval": 6, "tone_policy": 3, "no_failure": 1})
    second_opinions(db, taxonomy, ids[:3], ["wrong_retrieval", "noisy_context", "wrong_retrieval"])
    add_transcripts(db, [make_record("a0", text=SCRIPT, metadata={"channel": IMG})])
    # The reviewer marks the hostile user message (#1) as the failure and quotes the metadata.
    insert_annotations(db, [ann(taxonomy, "a0", "ann", "wrong_retrieval", 50, failure_turn=1,
                                note=f"channel was {IMG}")])
    set_setting(db, "report_fields", ["channel"], "lead")  # so examples print the hostile value


def test_json_keys_are_the_documented_ones(db, taxonomy):
    hostile_set(db, taxonomy)
    d = build_report(db, taxonomy, slice_fields=["channel"], generated_at=WHEN).to_dict()
    assert list(d) == [
        "verdict", "verdict_sentence", "leading_class", "n_transcripts", "n_labeled", "n_failures",
        "n_open_disagreements", "fix_classes", "categories", "no_failure", "readiness",
        "more_failures_needed", "more_failures_reason", "agreement", "prelabeler", "sampling",
        "next_actions", "slices", "examples", "taxonomy", "reviewers", "date_range", "warnings",
        "generated_at", "population", "verdict_basis", "human_verdict", "cost", "red_flags",
        "left_out"]
    assert d["examples"][0].keys() == {"transcript_id", "short_id", "category", "snippet",
                                       "snippet_from", "note", "metadata"}
    assert d["left_out"] == {"demo": 0, "archived": 0}
    assert list(d["fix_classes"]) == ["pipeline", "behavior", "model"]
    assert set(d["categories"]["wrong_retrieval"]) == {"count", "share", "ci_low", "ci_high"}
    assert set(d["readiness"][0]) == {"check", "label", "value", "threshold", "passed", "detail"}
    assert list(d["agreement"])[:6] == ["krippendorff_alpha", "ci_low", "ci_high", "n_items",
                                         "raw_agreement", "pairwise_kappa"]
    assert d["agreement"]["pairwise_kappa"][0].keys() == {"a", "b", "n", "kappa"}
    assert (d["n_transcripts"], d["n_labeled"], d["n_failures"], d["n_open_disagreements"]) == (
        11, 10, 9, 1)
    assert d["categories"]["wrong_retrieval"]["count"] == 6
    assert d["generated_at"] == "2026-03-03T12:00:00" and d["prelabeler"] is None
    json.dumps(d)


def test_html_is_self_contained_and_escapes_transcripts_and_metadata(db, taxonomy):
    hostile_set(db, taxonomy)
    r = build_report(db, taxonomy, slice_fields=["channel"], generated_at=WHEN)
    page = render_html(r, taxonomy)
    assert SCRIPT not in page and IMG not in page
    assert html_escaped(SCRIPT) in page and html_escaped(IMG) in page
    outside_plotly = re.sub(r"<script type='text/javascript'>.*?</script>", "", page, count=1,
                            flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", outside_plotly)
    assert page.count("<script type='text/javascript'>") == 1  # plotly.js inlined once
    assert "Plotly.newPlot" in page and "@page" in page and "@media print" in page
    assert render_html(r, taxonomy) == page  # reproducible: no random ids


def html_escaped(text):
    import html

    return html.escape(text)


def test_prelabeler_section_renders_recall_with_support_kappa_confusion_and_confidence(db, taxonomy):
    labeled_set(db, taxonomy, {"wrong_retrieval": 4})
    r = dataclasses.replace(build_report(db, taxonomy, generated_at=WHEN), prelabeler=PRELABELER)
    page, md = render_html(r, taxonomy), render_markdown(r, taxonomy)
    for text in ("Pre-labeler per category", "Escalation / abstention</td><td>0.50</td><td>0.10"
                 "</td><td>20", "Confusion matrix", "<td>0.5–1.0</td><td>90</td><td>93%</td>",
                 "Cohen's kappa <b>0.71</b>", "accuracy <b>82%</b>"):
        assert text in page, text
    assert "| Escalation / abstention | 0.50 | 0.10 | 20 |" in md
    assert "| Wrong retrieval | 95 | 5 |" in md  # category names, not keys
    assert "| human \\\\ pre-label | Wrong retrieval | Escalation / abstention |" in md
    assert "The offline pre-labeler (tfidf-logreg) on 120" in page  # not "offline (offline (…))"


def test_markdown_has_the_verdict_and_charts_as_tables(db, taxonomy):
    hostile_set(db, taxonomy)
    md = render_markdown(build_report(db, taxonomy, slice_fields=["channel"], generated_at=WHEN),
                         taxonomy)
    assert md.startswith("# Triage report: ")
    assert "| pipeline | 6 | 66.7% | 35.4%–87.9% |" in md
    assert "| Wrong retrieval | pipeline | 6 | 66.7% |" in md
    assert "<img" not in md and "&lt;img src=x onerror=\"window.__pwned = 2\">" in md


def test_cli_json_is_reproducible_with_generated_at(db, db_path, taxonomy, capsys):
    hostile_set(db, taxonomy)
    db.close()
    args = ["--db", str(db_path), "report", "--generated-at", "2026-03-03T12:00:00",
            "--slice", "channel"]
    assert run(args) == 0
    first = capsys.readouterr().out
    assert run(args) == 0
    assert capsys.readouterr().out == first
    d = json.loads(first)
    assert d["generated_at"] == "2026-03-03T12:00:00" and "channel" in d["slices"]


def test_cli_writes_html_and_markdown_files(db, db_path, taxonomy, tmp_path, capsys):
    hostile_set(db, taxonomy)
    db.close()
    for fmt in ("html", "md"):
        out = tmp_path / f"r.{fmt}"
        assert run(["--db", str(db_path), "report", "--format", fmt, "--output", str(out)]) == 0
        assert out.stat().st_size > 0
    assert "wrote" in capsys.readouterr().err


def test_cli_random_only_and_bad_generated_at(db, db_path, taxonomy, capsys):
    labeled_set(db, taxonomy, {"wrong_retrieval": 2})
    labeled_set(db, taxonomy, {"tone_policy": 2}, start=10, queue="filtered")
    db.close()
    assert run(["--db", str(db_path), "report", "--random-only"]) == 0
    assert json.loads(capsys.readouterr().out)["n_labeled"] == 2
    assert run(["--db", str(db_path), "report", "--generated-at", "yesterday"]) == 2
    assert "not an ISO date-time" in capsys.readouterr().err


def test_cli_pdf_without_a_browser_names_what_to_install(db, db_path, tmp_path, monkeypatch, capsys):
    db.close()
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on this PATH
    code = run(["--db", str(db_path), "report", "--format", "pdf", "--output", str(tmp_path / "r.pdf")])
    err = capsys.readouterr().err
    assert code == 2
    assert "apt-get install -y chromium" in err and "Traceback" not in err
    assert not (tmp_path / "r.pdf").exists()


def test_cli_usage_errors_exit_2(db, db_path, capsys):
    db.close()
    assert run(["--db", str(db_path), "report", "--format", "pdf"]) == 2
    assert "--format pdf needs --output FILE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        run(["--db", str(db_path), "report", "--format", "svg"])
    assert exc.value.code == 2


def test_cli_report_output_creates_folders_and_refuses_a_folder(db_path, tmp_path, capsys):
    from core.cli.main import run
    from core.store.connection import connect as open_db

    open_db(db_path).close()
    out = tmp_path / "new" / "dir" / "r.json"
    assert run(["--db", str(db_path), "report", "--output", str(out)]) == 0 and out.exists()
    assert run(["--db", str(db_path), "report", "--output", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
