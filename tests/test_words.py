"""Small words a reviewer trips on (issue 14, point 8): plurals, no dash where a number belongs."""

from __future__ import annotations

from core.labels.adjudicate import disagreements_phrase
from core.prelabel.describe import transcripts
from core.report.tables import next_actions_table
from core.report.text import more_failures_line


def test_plurals_are_words_not_brackets():
    assert (transcripts(1), transcripts(12), transcripts(1200)) == (
        "1 transcript", "12 transcripts", "1,200 transcripts")
    assert (disagreements_phrase(1), disagreements_phrase(0)) == (
        "1 open disagreement", "0 open disagreements")


def test_no_dash_where_a_number_belongs():
    line = more_failures_line(None, "the leading class (pipeline) holds 45% of failures, not "
                                    "more than 50%: more data at this share never decides")
    assert line.startswith("More labeled failures needed: none would decide at this share (")
    assert "–" not in line


def test_ideal_responses_read_not_applicable_for_pipeline_rows(db, taxonomy):
    from core.report.build import build_report
    from tests.report_helpers import labeled_set

    labeled_set(db, taxonomy, {"wrong_retrieval": 3, "tone_policy": 1})
    rows = next_actions_table(build_report(db, taxonomy)).rows
    assert {r[0]: r[-1] for r in rows} == {"Wrong retrieval": "n/a", "Tone / policy": "0"}
