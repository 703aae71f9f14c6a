from datetime import datetime, timedelta

import pytest

from core.errors import DatabaseError, UnknownLabel
from core.store.annotations import (
    NewAnnotation,
    add_annotation,
    add_annotations,
    current_label,
    retract_label,
)
from tests.conftest import add_transcripts, make_record

T0 = datetime(2026, 1, 1, 9)


def label(db, taxonomy, tid, who, key, minutes=0, kind="label"):
    a = NewAnnotation(transcript_id=tid, annotator=who, kind=kind, primary_label=key,
                      taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version,
                      created_at=T0 + timedelta(minutes=minutes))
    return add_annotation(db, a, taxonomy.keys)


def final(db):
    return {r[0]: r[1:] for r in db.con.execute(
        "SELECT transcript_id, primary_label, fix_class, status, n_annotators FROM final_labels"
    ).fetchall()}


def test_final_labels_single_agreed_disagreement_adjudicated(db, taxonomy):
    add_transcripts(db, [make_record(i) for i in range(4)])
    label(db, taxonomy, "t0", "ann", "wrong_retrieval")
    label(db, taxonomy, "t1", "ann", "tone_policy")
    label(db, taxonomy, "t1", "bob", "tone_policy", 1)
    label(db, taxonomy, "t2", "ann", "tone_policy")
    label(db, taxonomy, "t2", "bob", "escalation", 1)
    label(db, taxonomy, "t3", "ann", "tone_policy")
    label(db, taxonomy, "t3", "bob", "escalation", 1)
    label(db, taxonomy, "t3", "lead", "escalation", 2, kind="adjudication")
    assert final(db) == {
        "t0": ("wrong_retrieval", "pipeline", "single", 1),
        "t1": ("tone_policy", "behavior", "agreed", 2),
        "t2": (None, None, "disagreement", 2),
        "t3": ("escalation", "behavior", "adjudicated", 2),
    }


def test_relabel_and_retraction_change_current_label(db, taxonomy):
    add_transcripts(db, [make_record(0)])
    label(db, taxonomy, "t0", "ann", "wrong_retrieval")
    label(db, taxonomy, "t0", "ann", "noisy_context", 1)
    assert current_label(db, "t0", "ann").primary_label == "noisy_context"
    assert retract_label(db, "t0", "ann") is not None
    assert current_label(db, "t0", "ann").primary_label == "wrong_retrieval"
    retract_label(db, "t0", "ann")
    assert current_label(db, "t0", "ann") is None
    assert final(db) == {}
    assert db.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 4


def test_unknown_label_is_rejected_by_name(db, taxonomy):
    add_transcripts(db, [make_record(0)])
    with pytest.raises(UnknownLabel, match="'hallucination'.*missing_knowledge"):
        label(db, taxonomy, "t0", "ann", "hallucination")


def test_many_annotations_are_checked_as_one_is_and_stored_all_or_none(db, taxonomy):
    add_transcripts(db, [make_record(i) for i in range(3)])
    good = [NewAnnotation(f"t{i}", "ann", primary_label="reasoning", secondary_labels=("escalation",),
                          failure_turn=2, prelabel_visible=False, duration_ms=1200, created_at=T0)
            for i in range(3)]
    bad = [*good[:2], NewAnnotation("t2", "ann", primary_label="hallucination")]
    with pytest.raises(UnknownLabel, match="'hallucination'"):
        add_annotations(db, bad, taxonomy.keys)
    assert db.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 0
    assert add_annotations(db, good, taxonomy.keys) == 3
    one = add_annotation(db, NewAnnotation("t0", "bob", primary_label="reasoning",
                                           secondary_labels=("escalation",), failure_turn=2,
                                           prelabel_visible=False, duration_ms=1200,
                                           created_at=T0), taxonomy.keys)
    rows = db.con.execute(  # the batch and the single insert store the same values
        "SELECT annotator, secondary_labels, failure_turn, prelabel_visible, duration_ms, "
        "created_at, origin FROM annotations WHERE transcript_id = 't0' ORDER BY annotator"
    ).fetchall()
    assert rows == [("ann", ["escalation"], 2, False, 1200, T0, "app"),
                    ("bob", ["escalation"], 2, False, 1200, T0, "app")]
    assert current_label(db, "t0", "bob").annotation_id == one


def test_a_refused_write_is_a_database_error_in_plain_words(db, taxonomy):
    add_transcripts(db, [make_record(0)])
    decision = NewAnnotation("t0", "lead", kind="adjudication", primary_label="reasoning")
    add_annotation(db, decision, taxonomy.keys)
    with pytest.raises(DatabaseError, match=r"^Could not save the adjudication for t0: the "
                       r"database refused the write \(ConstraintException\)\.$"):
        add_annotation(db, decision, taxonomy.keys)  # the same annotation id again
    assert add_annotation(db, decision, taxonomy.keys, retry=True) == decision.annotation_id
    assert db.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 1
