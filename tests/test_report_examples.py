"""Examples that explain and a leadership PDF whose summary fits two pages (issue 14, point 5),
on the tau-bench transcripts: the message at the reviewer's failure turn, else the pre-labeler's
agreeing evidence, else the last assistant message; the note cut cleanly; short ids."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.report.build import build_report
from core.report.examples import clip, short_id, snippet_of
from core.report.pdf import html_to_pdf
from core.report.render import render_html, render_markdown
from core.report.text import labeler_phrase, more_failures_line
from core.store.connection import connect
from core.store.prelabels import Prelabel, save_prelabels
from core.store.report_data import Example
from core.store.transcripts import get_transcript
from tests.team_helpers import TAU, failure_turn, record_ids, team_database


@pytest.fixture(scope="module")
def team_db(tmp_path_factory):
    from tests.conftest import SHARED_DATA, require_or_skip

    require_or_skip(SHARED_DATA.is_dir(), f"{SHARED_DATA} is absent (a user's clone has no shared/)")
    path = tmp_path_factory.mktemp("examples") / "triage.duckdb"
    # 60 labels over all nine categories: an inconclusive verdict whose next actions list every
    # failure category, the longest summary a report has; a fifth from a non-random queue.
    team_database(path, SHARED_DATA, n_labels=60, seed=2, non_random_share=0.2)
    return path


def test_snippet_is_the_failure_turn_then_evidence_then_the_last_assistant_message(team_db):
    db = connect(team_db)
    try:
        t = get_transcript(db, "taubench-airline-gpt-4o-task0-trial0")
    finally:
        db.close()
    turn = failure_turn(t.messages)
    text, source = snippet_of(Example(t, "missed_tool_call", turn, None, "quote"))
    assert source == f"message #{turn} (assistant), where the reviewer marked the failure"
    assert text.startswith("tool call ") or text == t.messages[turn]["content"].strip()
    text, source = snippet_of(Example(t, "missed_tool_call", None, None, "the agent said X"))
    assert (text, source) == ("the agent said X", "the pre-labeler's evidence (its label agrees)")
    text, source = snippet_of(Example(t, "missed_tool_call", None, None, None))
    last = max(i for i, m in enumerate(t.messages) if m["role"] == "assistant" and m.get("content"))
    assert source.startswith(f"the last assistant message (#{last})")
    assert text == t.messages[last]["content"].strip()


def test_clip_and_short_id_never_overflow():
    note = "The agent booked without confirming. " * 30
    cut = clip(note, 300)
    assert len(cut) <= 300 and cut.endswith("…") and not cut[:-1].endswith(" ")
    assert cut[:-1] == note[: len(cut) - 1]  # cut at a word boundary, nothing rewritten
    assert short_id("taubench-airline-gpt-4o-task41-trial2") == "taubench-air…task41-trial2"
    assert short_id("t1") == "t1"
    assert len(short_id("x" * 500)) == 26


def test_examples_show_the_failure_turn_and_the_note_in_every_format(team_db, taxonomy):
    db = connect(team_db)
    try:
        report = build_report(db, taxonomy)
    finally:
        db.close()
    assert len(report.examples) == 9
    first = report.examples[0]
    assert first.snippet_from.endswith("where the reviewer marked the failure")
    assert first.note and first.note.startswith("ayla: the agent ")
    assert first.metadata == {}
    page, md = render_html(report, taxonomy), render_markdown(report, taxonomy)
    assert f"<span class='tid' title='{first.transcript_id}'>{first.short_id}</span>" in page
    assert "Reviewer's note:</b> " + first.note in page
    assert f"**Reviewer's note:** {first.note}" in md and "## Appendix: examples" in md
    assert "Hi there" not in page  # never the greeting that says nothing about the failure
    assert json.loads(json.dumps(report.to_dict()))["examples"][0]["short_id"] == first.short_id


def test_an_agreeing_prelabel_gives_the_evidence_when_no_turn_is_marked(tmp_path, shared_data,
                                                                        taxonomy):
    path = tmp_path / "triage.duckdb"
    team_database(path, shared_data, n_labels=0)
    from core.store.annotations import NewAnnotation, add_annotations

    ids = sorted(record_ids(shared_data / TAU))[:2]
    db = connect(path)
    try:
        add_annotations(db, [NewAnnotation(i, "ayla", primary_label="escalation", queue="random",
                                           taxonomy_name="default",
                                           taxonomy_version=taxonomy.version) for i in ids],
                        taxonomy.keys)
        save_prelabels(db, [
            Prelabel(ids[0], None, "llm", "m", "p1", taxonomy.version, "ok",
                     primary_label="escalation", evidence="I will transfer you to a human agent"),
            Prelabel(ids[1], None, "llm", "m", "p1", taxonomy.version, "ok",
                     primary_label="reasoning", evidence="a quote for another label")])
        by_id = {e.transcript_id: e for e in build_report(db, taxonomy).examples}
    finally:
        db.close()
    assert by_id[ids[0]].snippet == "I will transfer you to a human agent"
    assert by_id[ids[1]].snippet_from.startswith("the last assistant message")  # disagreeing


def test_the_pdf_summary_fits_the_first_two_pages(team_db, taxonomy, chromium_path, pdftoppm_path,
                                                  tmp_path):
    db = connect(team_db)
    try:
        report = build_report(db, taxonomy)
    finally:
        db.close()
    assert report.verdict == "inconclusive" and len(report.next_actions) == 8
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(html_to_pdf(render_html(report, taxonomy), chromium_path))

    def page_text(n: int) -> str:
        return subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout

    first_two = " ".join((page_text(1) + page_text(2)).split())
    needed = more_failures_line(report.more_failures_needed, report.more_failures_reason)
    for part in ("Inconclusive", needed[:45], "Fix classes",
                 "Categories", "Readiness for fine-tuning", "Next actions",
                 *(a.name.split(" /")[0].split(" ")[0] for a in report.next_actions)):
        assert part in first_two, part
    assert "–" not in first_two.split("More labeled failures needed:")[1][:30]
    assert page_text(3).lstrip().startswith("In numbers")  # the details start on page 3
    pages = int(subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                               check=True).stdout.split("Pages:")[1].split()[0])
    assert any("Appendix: examples" in page_text(n) for n in range(3, pages + 1))
    assert "Appendix" not in first_two
    subprocess.run([pdftoppm_path, "-r", "70", "-png", "-f", "1", "-l", "2", str(pdf),
                    str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 20_000


def test_words_instead_of_dashes_and_one_offline():
    assert more_failures_line(None, "no labeled failures yet: label a sample") == (
        "More labeled failures needed: cannot say before the first one (no labeled failures yet: "
        "label a sample)")
    assert more_failures_line(12, "at the pipeline share").endswith(": 12 (at the pipeline share)")
    assert labeler_phrase({"labeler": "offline", "model": "offline (trained on n=30:ab12)"}) == (
        "the offline pre-labeler (trained on n=30:ab12)")
