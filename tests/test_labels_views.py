from datetime import datetime, timedelta

import pytest

from core.errors import UnknownLabel
from core.store.annotations import NewAnnotation, current_label, retract_label, save_annotation
from tests.conftest import add_transcripts, make_record

T0 = datetime(2026, 1, 1, 9)


def label(db, taxonomy, tid, who, key, minutes=0, kind="label"):
    a = NewAnnotation(transcript_id=tid, annotator=who, kind=kind, primary_label=key,
                      taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version,
                      created_at=T0 + timedelta(minutes=minutes))
    return save_annotation(db, a, taxonomy.keys)


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
