"""The Annotate session without Streamlit: events in, state out, rows in a real DuckDB file."""

from __future__ import annotations

import pytest

from core.errors import DatabaseError
from core.labels.keys import Event
from core.labels.queues import QueueSpec
from core.labels.session import AnnotateSession, LabelDetails
from core.store.connection import connect
from core.store.prelabels import save_prelabels
from core.store.settings import set_setting
from core.taxonomy import load_taxonomy
from tests.annotate_helpers import label, prelabel, seeded_db


@pytest.fixture
def db(tmp_path):
    database = connect(seeded_db(tmp_path / "session.duckdb", n=6, hostile=False))
    yield database
    database.close()


class Clock:
    """Seconds that advance by `step` on every reading."""

    def __init__(self, step: float = 1.5) -> None:
        self.now, self.step = 100.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def session(db, reviewer: str = "ann", clock=None) -> AnnotateSession:
    s = AnnotateSession(db, reviewer, load_taxonomy("default"), **({"clock": clock} if clock else {}))
    s.show_queue(QueueSpec())
    return s


def rows(db, columns: str = "transcript_id, annotator, kind, primary_label") -> list[tuple]:
    return db.con.execute(f"SELECT {columns} FROM annotations ORDER BY created_at").fetchall()


def test_choose_and_save_stores_the_label_with_its_details_and_advances(db):
    s = session(db, clock=Clock())
    first = s.item.transcript_id
    assert s.progress_line().startswith(f"**transcript 1 of 6** · 6 left · you labeled **0** "
                                        f"today · `{first}`")
    s.update_details(first, LabelDetails(("escalation",), "yes", "high", 4, "Sorry!", " curt "))
    s.push(Event("choose", "tone_policy"), Event("save"))
    s.run()
    assert rows(db, "transcript_id, kind, primary_label, secondary_labels, context_present, "
                    "severity, failure_turn, ideal_response, note, duration_ms") == [
        (first, "label", "tone_policy", ["escalation"], "yes", "high", 4, "Sorry!", "curt", 1500)]
    assert [(f.kind, f.text) for f in s.take_messages()] == [
        ("success", f"Saved: {first} → Tone / policy")]
    assert s.item.transcript_id != first and s.chosen is None and s.details == LabelDetails()
    assert s.progress_line().startswith("**transcript 2 of 6** · 5 left · you labeled **1** today")
    assert s.recent == ((first, "tone_policy"),) and s.history == [first]


def test_save_without_a_category_asks_for_one_and_stores_nothing(db):
    s = session(db)
    s.push(Event("save"))
    s.run()
    assert [f.text for f in s.take_messages()] == [
        "Choose a category first (its key or button), then save."]
    assert rows(db) == [] and s.pending is None


def test_skip_defers_the_item_to_the_end(db):
    s = session(db)
    first = s.item.transcript_id
    s.push(Event("skip"))
    s.run()
    assert rows(db) == [(first, "ann", "skip", None)]
    assert [f.text for f in s.take_messages()] == [
        f"Skipped {first}: it comes back at the end."]
    assert s.item.transcript_id != first and s.history == []


def test_undo_retracts_through_core_and_returns_to_the_transcript(db):
    s = session(db)
    s.push(Event("undo"))
    s.run()
    assert [f.text for f in s.take_messages()] == ["Nothing to undo in this session."]
    first = s.item.transcript_id
    s.push(Event("choose", "no_failure"), Event("save"), Event("undo"))
    s.run()
    assert s.item.transcript_id == first and s.history == []
    assert [f.text for f in s.take_messages()][-1] == (
        f"Undone: your label on {first} is retracted. Label it again.")
    assert [r[2] for r in rows(db)] == ["label", "retraction"]
    assert db.con.execute("SELECT count(*) FROM current_labels").fetchone() == (0,)
    assert s.progress_line().startswith("**transcript 1 of 6** · 6 left · you labeled **0** today")


def test_keys_typed_ahead_land_in_order_on_consecutive_transcripts(db):
    s = session(db)
    order = [s.item.transcript_id]
    s.press("6", "s", "2", "S", "q", "0", "s")  # q: not a key of this page, ignored
    s.run()
    order += [t for t, *_ in rows(db)[1:]]
    assert rows(db) == [(order[0], "ann", "label", "tone_policy"),
                        (order[1], "ann", "label", "wrong_retrieval"),
                        (order[2], "ann", "label", "no_failure")]
    assert len(set(order)) == 3 and s.progress.done_today == 3


def test_a_failed_save_keeps_the_label_and_the_keys_behind_it_and_stores_it_once(db):
    s = session(db)
    first = s.item.transcript_id
    failures = [DatabaseError("the snapshot could not be written")]

    def after_commit():  # a real hook that fails once, after the row is committed
        if failures:
            raise failures.pop()

    db.after_commit.append(after_commit)
    s.press("3", "s", "8", "s")
    s.run()
    assert s.pending is not None and s.item.transcript_id == first
    assert [(f.kind, f.text) for f in s.take_messages()] == [
        ("error", "Not saved: the snapshot could not be written. Your label is kept and will be "
                  "retried."),
        ("warning", "A label is waiting to be saved; it is retried on your next action. "
                    "2 more key(s) wait behind it.")]
    s.push(Event("save"))  # the reviewer asks again: taken as the retry, not a second save
    s.run()
    labels = rows(db)
    assert labels == [(first, "ann", "label", "noisy_context"),
                      (labels[1][0], "ann", "label", "reasoning")]  # stored once, then the next
    assert labels[1][0] != first and s.pending is None and s.events == type(s.events)()


def test_blind_mode_hides_the_prelabel_until_saved_then_tells_it(db):
    taxonomy = load_taxonomy("default")
    set_setting(db, "prelabel_display", "blind", "lead")
    s = session(db)
    first = s.item.transcript_id
    save_prelabels(db, [prelabel(first, "reasoning", 0.42, taxonomy)])
    s = session(db)  # a new session reads the item's pre-label
    assert (s.mode, s.prelabel_shown) == ("blind", False)
    assert s.prelabel_hint() == "Pre-label hidden until you save (blind: avoids anchoring)."
    s.push(Event("choose", "escalation"), Event("save"))
    s.run()
    assert s.take_messages()[0].text == (
        f"Saved: {first} → Escalation / abstention · the pre-label said Reasoning / "
        "completeness (0.42)")
    assert rows(db, "prelabel_visible") == [(False,)]


def test_an_overlap_item_is_blind_even_when_prelabels_are_shown(db):
    set_setting(db, "overlap_share", 1.0, "lead")
    s = session(db)
    assert s.item.is_overlap and s.mode == "blind" and "double-labeled" in s.progress_line()


def test_opening_a_transcript_from_browse_shows_it_once_with_what_it_has(db):
    label(db, load_taxonomy("default"), "t004", "bob", "wrong_retrieval")
    s = session(db)
    s.push(Event("open", "t004"))
    s.run()
    assert s.item.transcript_id == "t004"
    note = "Already labeled: Wrong retrieval (single). Saving adds your label beside it."
    assert [(f.kind, f.text) for f in s.take_messages()] == [("info", note)]
    s.push(Event("choose", "escalation"), Event("save"))
    s.run()
    assert rows(db)[-1] == ("t004", "ann", "label", "escalation")
    assert s.item.transcript_id != "t004" and s.notice is None
    s.push(Event("open", "nope"))
    s.run()
    assert "nope is not in this queue" in s.take_messages()[-1].text


def test_details_apply_only_to_the_transcript_they_were_drawn_for(db):
    s = session(db)
    s.update_details("t999", LabelDetails(note="for another transcript"))
    assert s.details == LabelDetails()


def test_guidelines_toggle_and_list_each_category_with_its_key(db):
    s = session(db)
    s.press("g")
    s.run()
    assert s.show_guidelines
    heading, text = s.guidelines()[5]
    assert heading == "**6 · Tone / policy** (behavior)" and "Not this when:" in text
    s.push(Event("toggle_guide"))
    s.run()
    assert not s.show_guidelines


def test_resume_keeps_a_reviewers_pending_label_and_a_new_reviewer_starts_afresh(db):
    s = session(db)
    s.history.append("t000")
    taxonomy = load_taxonomy("default")
    assert AnnotateSession.resume(s, db, "ann", taxonomy) is s
    fresh = AnnotateSession.resume(s, db, "bob", taxonomy)
    assert fresh is not s and fresh.history == [] and fresh.reviewer == "bob"


def test_an_empty_queue_says_so(db):
    s = session(db)
    set_setting(db, "overlap_share", 0.0, "lead")
    for _ in range(6):
        s.press("1", "s")
    s.run()
    assert s.item is None
    assert s.take_messages()[-1].text == (
        "Nothing left in this queue for you. Pick another queue in the sidebar.")
    assert s.progress_line() == "**all 6 done** · 0 left · you labeled **6** today · "


def test_the_transcript_read_ahead_is_the_one_shown_after_the_save(db):
    """read_ahead reads the queue's next item in a thread; the save then shows that very
    transcript from what was read (no second read), and a pre-label that lands in between
    is not hidden by the read-ahead copy."""
    s = session(db)
    guess = s._state.next(exclude=s.item.transcript_id).transcript_id
    s.read_ahead().join(timeout=60)
    read_ahead = s._ahead[0]
    assert read_ahead.transcript_id == guess
    s.push(Event("choose", "reasoning"), Event("save"))
    s.run()
    assert s.item.transcript_id == guess and s.transcript is read_ahead
    after = s._state.next(exclude=s.item.transcript_id).transcript_id
    s.read_ahead().join(timeout=60)
    stale = s._ahead[0]
    assert stale.transcript_id == after and s._ahead[2] is None
    save_prelabels(db, [prelabel(after, "tone_policy", 0.9, s.taxonomy)])
    s.push(Event("choose", "reasoning"), Event("save"))
    s.run()
    assert s.item.transcript_id == after and s.transcript is not stale  # read again
    assert s.prelabel is not None and s.prelabel.primary_label == "tone_policy"
