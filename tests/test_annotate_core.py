import threading

import pytest

from core.errors import DatabaseError, NotFound
from core.labels.annotate import already_labeled_note, label_row, prelabel_mode, submit
from core.labels.browse import seen_label
from core.labels.queues import QueueSpec, load_queue, next_transcript
from core.store.annotations import NewAnnotation
from core.store.settings import set_setting
from tests.annotate_helpers import simple_db
from tests.seed_helpers import label, seed_disagreements


def test_prelabel_mode_is_blind_on_overlap_items():
    assert prelabel_mode("shown", False) == "shown"
    assert prelabel_mode("shown", True) == "blind"
    assert prelabel_mode("hidden", True) == "hidden"
    assert prelabel_mode("blind", False) == "blind"


def test_ideal_response_kept_only_for_behavior_categories(db, taxonomy):
    simple_db(db, 1)
    item = load_queue(db, "ann", QueueSpec()).next()
    kept = label_row(item, "ann", taxonomy, "tone_policy", ideal_response=" Sorry! ")
    dropped = label_row(item, "ann", taxonomy, "wrong_retrieval", ideal_response="Sorry!",
                        secondary=("wrong_retrieval", "noisy_context"))
    assert kept.ideal_response == "Sorry!" and dropped.ideal_response is None
    assert dropped.secondary_labels == ("noisy_context",)
    assert (kept.queue, kept.taxonomy_version) == ("random", taxonomy.version)


def test_submit_twice_stores_one_row_and_unknown_transcript_is_named(db, taxonomy):
    simple_db(db, 1)
    item = load_queue(db, "ann", QueueSpec()).next()
    row = label_row(item, "ann", taxonomy, "reasoning")
    assert submit(db, row, taxonomy.keys) == submit(db, row, taxonomy.keys, retry=True)
    assert db.con.execute("SELECT count(*) FROM annotations").fetchone() == (1,)
    with pytest.raises(DatabaseError, match=f"Could not save the label for {item.transcript_id}"):
        submit(db, row, taxonomy.keys)  # the same id again, not as a retry: refused, told
    ghost = NewAnnotation(transcript_id="nope", annotator="ann", kind="skip")
    with pytest.raises(NotFound, match="'nope'"):
        submit(db, ghost, taxonomy.keys)


def test_ten_reviewers_saving_at_once_lose_nothing(db, taxonomy):
    simple_db(db, 200)
    set_setting(db, "overlap_share", 0.0, "test")
    errors, saved = [], []

    def reviewer(n: int) -> None:
        try:
            for _ in range(10):
                item = next_transcript(db, f"r{n}", QueueSpec())
                saved.append(submit(db, label_row(item, f"r{n}", taxonomy, "reasoning"),
                                    taxonomy.keys))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=reviewer, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = {r[0] for r in db.con.execute("SELECT annotation_id FROM annotations").fetchall()}
    assert len(saved) == 100 and stored == set(saved)
    labeled = db.con.execute("SELECT count(DISTINCT transcript_id) FROM annotations").fetchone()[0]
    assert labeled >= 95, labeled  # claims keep concurrent reviewers apart (a rare stale read may overlap)


def test_already_labeled_note_names_the_label_as_the_reviewer_may_see_it(db, taxonomy):
    seed_disagreements(db, taxonomy)
    set_setting(db, "overlap_share", 0.0, "lead")
    label(db, taxonomy, "t1", "lead", "escalation", 9, kind="adjudication")

    def note(tid, user="zoe"):
        return already_labeled_note(seen_label(db, user, tid), taxonomy)

    assert note("t3") == "Already labeled: Reasoning / completeness (single). Saving adds your " \
                         "label beside it."
    assert note("t3", "ann") == "Already labeled: Reasoning / completeness (single). Saving " \
                                "replaces your earlier label."
    assert note("t0") == "Already labeled: reviewers disagree (disagreement). Saving adds your " \
                         "label beside it."
    assert note("t1") == "Already labeled: Escalation / abstention (adjudicated). Saving adds " \
                         "your label beside it; the adjudication stays final."
    assert note("t4") is None and note("nope") is None
    set_setting(db, "overlap_share", 1.0, "lead")  # t3 now waits for a second reviewer
    assert note("t3") is None
