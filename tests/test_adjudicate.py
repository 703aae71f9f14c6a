"""Adjudication: open disagreements, the decision as an `adjudication` row, and the page."""

from __future__ import annotations

import pytest

from core.admin import archive_batch
from core.errors import UnknownLabel, UsageError
from core.labels.adjudicate import adjudicate, load_disagreement, open_disagreements
from tests.seed_helpers import app, seed_disagreements, texts


def final(db):
    return dict(db.con.execute(
        "SELECT transcript_id, status FROM final_labels ORDER BY 1").fetchall())


def test_open_disagreements_oldest_first_and_without_ones_you_labeled(db, taxonomy):
    seed_disagreements(db, taxonomy)
    assert open_disagreements(db) == ["t0", "t1"]
    assert open_disagreements(db, "lead") == ["t0", "t1"]
    assert open_disagreements(db, "ann") == []
    d = load_disagreement(db, "t0")
    assert d.annotators == ["ann", "bob"]
    assert [(a.primary_label, a.note) for a in d.labels] == [
        ("wrong_retrieval", "retriever got the FAQ"), ("missing_knowledge", "not in the KB")]


def test_adjudicate_appends_adjudication_and_final_label_says_adjudicated(db, taxonomy):
    seed_disagreements(db, taxonomy)
    aid = adjudicate(db, "t0", "lead", "missing_knowledge", "  KB gap  ", taxonomy)
    row = db.con.execute(
        "SELECT annotator, kind, primary_label, note, queue, taxonomy_version FROM annotations "
        "WHERE annotation_id = ?", [aid]).fetchone()
    assert row == ("lead", "adjudication", "missing_knowledge", "KB gap", "adjudication",
                   taxonomy.version)
    assert final(db)["t0"] == "adjudicated"
    assert db.con.execute("SELECT primary_label, n_annotators FROM final_labels "
                          "WHERE transcript_id = 't0'").fetchone() == ("missing_knowledge", 2)
    assert open_disagreements(db) == ["t1"]


def test_adjudicate_refuses_a_labeler_a_settled_item_and_an_unknown_label(db, taxonomy):
    seed_disagreements(db, taxonomy)
    with pytest.raises(UsageError, match="'bob' labeled 't0'; a reviewer who is not one of ann, bob"):
        adjudicate(db, "t0", "bob", "missing_knowledge", None, taxonomy)
    with pytest.raises(UsageError, match="'t2' is not an open disagreement \\(its status is agreed\\)"):
        adjudicate(db, "t2", "lead", "schema_format", None, taxonomy)
    with pytest.raises(UnknownLabel, match="'hallucination'"):
        adjudicate(db, "t0", "lead", "hallucination", None, taxonomy)
    assert db.con.execute(
        "SELECT count(*) FROM annotations WHERE kind = 'adjudication'").fetchone() == (0,)


def test_archived_disagreements_leave_the_adjudication_queue(db, taxonomy):
    seed_disagreements(db, taxonomy)
    archive_batch(db, "b1", "lead")
    assert open_disagreements(db) == []


def test_page_shows_both_labels_and_adjudicates_then_moves_on(db, db_path, taxonomy, monkeypatch):
    seed_disagreements(db, taxonomy)
    at = app("pages/adjudicate.py", db_path, "lead", monkeypatch).run()
    shown = texts(at)
    assert "2 open disagreements · adjudicating as **lead** · transcript `t0`." in shown
    for expected in ["#### ann", "**Wrong retrieval** (`wrong_retrieval`, pipeline)",
                     "secondary: noisy_context · context present: no · severity: high",
                     "#### bob", "**Missing knowledge** (`missing_knowledge`, pipeline)",
                     "secondary: — · context present: unknown · severity: medium"]:
        assert expected in shown
    assert "Note: retriever got the FAQ" in [t.value for t in at.text]
    assert any("How do I reset my password? (#0)" in h.proto.body for h in at.get("html"))
    assert at.button(key="adjudicate_missing_knowledge").proto.shortcut == "1"
    at.text_input(key="adjudication_note").input("KB lacks the reset page")
    at.button(key="adjudicate_missing_knowledge").click().run()
    assert "t0: adjudicated as Missing knowledge." in texts(at)
    assert "transcript `t1`" in texts(at)
    assert at.text_input(key="adjudication_note").value == ""
    assert db.con.execute("SELECT annotator, primary_label, note FROM annotations "
                          "WHERE kind = 'adjudication'").fetchall() == [
        ("lead", "missing_knowledge", "KB lacks the reset page")]
    assert final(db) == {"t0": "adjudicated", "t1": "disagreement", "t2": "agreed", "t3": "single"}


def test_page_tells_a_labeler_that_someone_else_must_settle_theirs(db, db_path, taxonomy,
                                                                   monkeypatch):
    seed_disagreements(db, taxonomy)
    at = app("pages/adjudicate.py", db_path, "ann", monkeypatch).run()
    assert [i.value for i in at.info] == [
        "No open disagreements for you to settle. 2 more involve your own label: another "
        "reviewer must settle those."]
    assert len(at.button) == 0
