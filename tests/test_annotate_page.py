"""The Annotate page in AppTest: what the reviewer sees and the rows in DuckDB."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.labels.queues import QueueSpec, next_transcript
from core.store.connection import connect
from core.store.prelabels import save_prelabels
from core.store.settings import set_setting
from core.taxonomy import load_taxonomy
from tests.annotate_helpers import label, prelabel, seeded_db

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "annotate.py")


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    path = seeded_db(tmp_path / "app.duckdb", n=6, hostile=False)
    monkeypatch.setenv("TRIAGE_DB", str(path))
    monkeypatch.setenv("TRIAGE_USER", "ann")
    monkeypatch.setenv("TRIAGE_LOG", str(tmp_path / "triage.log"))
    return path


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def rows(path, sql="SELECT transcript_id, annotator, kind, primary_label FROM annotations "
                   "ORDER BY created_at"):
    db = connect(path)
    try:
        return db.con.execute(sql).fetchall()
    finally:
        db.close()


def header(at: AppTest) -> str:
    return at.markdown[0].value


def current_id(at: AppTest) -> str:
    return header(at).split("`")[1]


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.success, *at.info, *at.warning)]
    parts += [str(t.value) for t in at.text]
    return "\n".join(parts)


def test_label_by_button_saves_a_row_with_every_field(app_db):
    at = open_page()
    assert header(at).startswith("**transcript 1 of 6** · 6 left · you labeled **0** today")
    tid = current_id(at)
    at.button(key="cat_tone_policy").click().run()
    at.multiselect(key=f"f_sec_{tid}").select("escalation")
    at.radio(key=f"f_ctx_{tid}").set_value("yes")
    at.radio(key=f"f_sev_{tid}").set_value("high")
    at.selectbox(key=f"f_turn_{tid}").set_value(4)
    at.text_area(key=f"f_ideal_{tid}").input("I am sorry, let me check that for you.")
    at.text_area(key=f"f_note_{tid}").input("curt reply")
    at.button(key="act_save").click().run()
    assert at.success[0].value.startswith(f"Saved: {tid} → Tone / policy")
    assert header(at).startswith("**transcript 2 of 6** · 5 left · you labeled **1** today")
    assert current_id(at) != tid
    tax = load_taxonomy("default")
    (row,) = rows(app_db, "SELECT transcript_id, annotator, kind, primary_label, secondary_labels, "
                          "context_present, severity, failure_turn, ideal_response, note, queue, "
                          "sample_id, prelabel_visible, duration_ms >= 0, taxonomy_name, "
                          "taxonomy_version, origin FROM annotations")
    assert row[:13] == (tid, "ann", "label", "tone_policy", ["escalation"], "yes", "high", 4,
                        "I am sorry, let me check that for you.", "curt reply", "random", None,
                        row[12])
    assert row[13:] == (True, "default", tax.version, "app")


def test_save_without_a_category_asks_for_one_and_writes_nothing(app_db):
    at = open_page()
    at.button(key="act_save").click().run()
    assert "Choose a category first" in at.warning[0].value
    assert rows(app_db) == []


def test_skip_defers_and_undo_writes_a_retraction(app_db):
    at = open_page()
    first = current_id(at)
    at.button(key="act_skip").click().run()
    assert "comes back at the end" in at.info[0].value
    second = current_id(at)
    assert second != first
    at.button(key="cat_no_failure").click().run()
    at.button(key="act_save").click().run()
    at.button(key="act_undo").click().run()
    assert f"Undone: your label on {second} is retracted" in at.info[0].value
    assert current_id(at) == second
    kinds = rows(app_db, "SELECT kind, transcript_id FROM annotations ORDER BY created_at")
    assert kinds == [("skip", first), ("label", second), ("retraction", second)]
    assert rows(app_db, "SELECT count(*) FROM current_labels") == [(0,)]


def test_prelabel_shown_then_blind_mode_hides_it_until_saved(app_db):
    at = open_page()
    assert "Pre-label:" in texts(at) or "No pre-label" in texts(at)
    db = connect(app_db)
    set_setting(db, "prelabel_display", "blind", "lead")
    first = next_transcript(db, "ann", QueueSpec()).transcript_id
    save_prelabels(db, [prelabel(first, "reasoning", 0.42, load_taxonomy("default"))])
    db.close()
    at = open_page()
    assert "Pre-label hidden until you save" in texts(at)
    assert "Pre-label:" not in texts(at) and "because" not in texts(at)
    at.button(key="cat_escalation").click().run()
    at.button(key="act_save").click().run()
    assert "the pre-label said Reasoning / completeness (0.42)" in at.success[0].value
    assert rows(app_db, "SELECT prelabel_visible FROM annotations") == [(False,)]


def test_overlap_item_reaches_second_reviewer_without_the_first_label(app_db, monkeypatch):
    db = connect(app_db)
    set_setting(db, "overlap_share", 1.0, "lead")
    tax = load_taxonomy("default")
    first = next_transcript(db, "ann", QueueSpec()).transcript_id
    label(db, tax, first, "ann", "missing_knowledge")
    db.close()
    monkeypatch.setenv("TRIAGE_USER", "bob")
    at = open_page()
    assert current_id(at) == first and "double-labeled" in header(at)
    seen = texts(at)
    assert "Missing knowledge" not in seen.replace("**1 · Missing knowledge**", "")
    assert "ann" not in seen.split("Keys:")[0].replace("`" + first + "`", "")
    assert "Pre-label:" not in seen  # blind on double-labeled items


def test_identity_is_asked_once_then_used_on_rows(app_db, monkeypatch):
    monkeypatch.delenv("TRIAGE_USER")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert at.title[0].value == "Who is reviewing?"
    assert [b.label for b in at.button] == ["Start"]  # nothing of the page before the name
    at.text_input[0].input("Dana Q")
    at.button[0].click().run()
    assert header(at).startswith("**transcript 1 of 6**")
    at.button(key="cat_reasoning").click().run()
    at.button(key="act_save").click().run()
    assert rows(app_db, "SELECT annotator FROM annotations") == [("Dana Q",)]


def test_failing_write_is_told_kept_and_retried(app_db):
    at = open_page()
    tid = current_id(at)
    db = connect(app_db)
    # A real failing write: the table is briefly missing (its index must go for the rename).
    db.con.execute("DROP INDEX annotations_transcript")
    db.con.execute("ALTER TABLE annotations RENAME TO annotations_away")
    at.button(key="cat_wrong_retrieval").click().run()
    at.button(key="act_save").click().run()
    assert at.error[0].value.startswith(f"Not saved: Could not save the label for {tid}")
    assert "retried on your next action" in at.warning[0].value
    assert current_id(at) == tid
    db.con.execute("ALTER TABLE annotations_away RENAME TO annotations")
    db.con.execute("CREATE INDEX annotations_transcript ON annotations(transcript_id)")
    db.close()
    at.run()
    assert at.success[0].value.startswith(f"Saved: {tid} → Wrong retrieval")
    assert rows(app_db) == [(tid, "ann", "label", "wrong_retrieval")]


def typed(at: AppTest, *keys: str, resend: bool = False) -> AppTest:
    """Keys as the page's key queue sends them (numbered, every key not yet applied), then a
    run; `resend`: the same list arrives twice (a rerun cut short), each key applies once."""
    s = at.session_state["annotate"]
    pressed = [[s.key_seq + i + 1, k] for i, k in enumerate(keys)]
    for _ in range(2 if resend else 1):
        s.press_queued(pressed)
    return at.run()


def shown_html(at: AppTest) -> str:
    return "".join(h.proto.body for h in at.get("html"))


def test_guidelines_toggle_and_long_transcript_read_to_its_end_by_keys(tmp_path, monkeypatch):
    """120 messages, a tool error at #57: the page says what is off screen; T, L, K, J page
    (and ask the browser to scroll there); labeled by keys with its last message drawn."""
    from core.store.categories import register_taxonomy
    from tests.annotate_helpers import big_record
    from tests.conftest import add_transcripts

    path = tmp_path / "big.duckdb"
    db = connect(path)
    register_taxonomy(db, load_taxonomy("default"))
    record = big_record(n_messages=120, target_bytes=60_000)
    record["messages"][57] = {"role": "tool", "tool_call_id": "c56",
                              "content": '{"error": "timeout", "retry": false}'}
    add_transcripts(db, [record])
    db.close()
    monkeypatch.setenv("TRIAGE_DB", str(path))
    monkeypatch.setenv("TRIAGE_USER", "ann")
    at = open_page()
    lines = lambda: [c.value for c in at.caption if c.value.startswith(("messages", "all"))]  # noqa: E731
    assert lines() == ["messages 0–39 of 120 shown · 80 below off screen · J next · K previous · "
                       "L end · T first tool error (#57)"]
    assert 'id="tr-m39"' in shown_html(at) and 'id="tr-m40"' not in shown_html(at)
    typed(at, "t")
    assert lines()[0].startswith("messages 40–79 of 120 shown · 40 above and 40 below off screen")
    html = shown_html(at)
    assert 'tr-failed tr-json" id="tr-m57"' in html and "&quot;error&quot;: &quot;timeout&quot;" in html
    assert at.session_state["annotate"].scroll_to == (57, 1)
    typed(at, "L")
    assert lines()[0].startswith("messages 80–119 of 120 shown · 80 above off screen")
    assert 'id="tr-m119"' in shown_html(at)
    assert at.session_state["annotate"].scroll_to == (119, 2)
    typed(at, "J", "K", "J")  # past the end stays at the end; back one; on again
    assert lines()[0].startswith("messages 80–119")
    assert at.selectbox(key="f_turn_big").options[-1].startswith("#119 ")
    at.button(key="act_guide").click().run()
    assert "Guidelines · Default failure modes" in texts(at)
    assert "Not this when: The fact is in the knowledge base" in texts(at)
    at.button(key="act_guide").click().run()
    assert "Guidelines ·" not in texts(at)
    typed(at, "8", "Y", "S")
    assert rows(path, "SELECT transcript_id, primary_label, context_present FROM annotations") == [
        ("big", "reasoning", "yes")]


def test_context_present_keys_set_yes_no_unknown_and_unset_stays_unknown(app_db):
    at = open_page()
    tid = current_id(at)
    typed(at, "6", "N")
    assert at.radio(key=f"f_ctx_{tid}").value == "no"  # the form shows what the key set
    typed(at, "Y")
    assert at.radio(key=f"f_ctx_{tid}").value == "yes"
    at.radio(key=f"f_ctx_{tid}").set_value("no").run()  # the mouse still works
    typed(at, "S", "6", "?", "S", "6", "S")
    assert rows(app_db, "SELECT primary_label, context_present FROM annotations "
                        "ORDER BY created_at") == [
        ("tone_policy", "no"), ("tone_policy", "unknown"), ("tone_policy", None)]


def test_typed_ahead_pairs_land_once_each_in_order_even_when_sent_twice(app_db):
    at = open_page()
    first = current_id(at)
    typed(at, *"6S8S0S", resend=True)
    got = rows(app_db, "SELECT transcript_id, primary_label FROM annotations ORDER BY created_at")
    assert [label for _, label in got] == ["tone_policy", "reasoning", "no_failure"]
    assert got[0][0] == first and len({tid for tid, _ in got}) == 3
    assert "you labeled **3** today" in header(at)


def test_other_needs_a_note_and_takes_the_focus_there(app_db):
    db = connect(app_db)
    set_setting(db, "active_taxonomy", "discovery", "ann")
    db.close()
    at = open_page()
    s = at.session_state["annotate"]
    assert s.keys.key("choose", "other") == "1"
    tid = current_id(at)
    typed(at, "1")
    assert s.focus_note == 1
    typed(at, "S")
    assert "“Other” needs a note" in texts(at) and s.focus_note == 2
    assert rows(app_db) == []
    at.text_area(key=f"f_note_{tid}").input("refund sent to the wrong card").run()
    typed(at, "S")
    assert rows(app_db, "SELECT primary_label, note FROM annotations") == [
        ("other", "refund sent to the wrong card")]


def test_browse_opens_a_given_transcript_then_the_queue_goes_on(app_db):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["open_transcript_id"] = "t004"
    at.run()
    assert not at.exception, at.exception
    assert current_id(at) == "t004"
    at.button(key="cat_escalation").click().run()
    at.button(key="act_save").click().run()
    assert rows(app_db)[-1] == ("t004", "ann", "label", "escalation")
    assert current_id(at) != "t004"


def test_opening_an_unknown_transcript_says_so(app_db):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["transcript"] = "nope"
    at.run()
    assert "nope is not in this queue" in texts(at)


def notices(at: AppTest) -> list[str]:
    return [e.value for e in at.info]


def test_opening_a_labeled_transcript_says_it_is_labeled_until_the_next_item(app_db):
    db = connect(app_db)
    label(db, load_taxonomy("default"), "t004", "bob", "wrong_retrieval")
    db.close()
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["open_transcript_id"] = "t004"
    at.run()
    assert current_id(at) == "t004"
    note = "Already labeled: Wrong retrieval (single). Saving adds your label beside it."
    assert notices(at) == [note]
    at.button(key="cat_escalation").click().run()  # still shown while the reviewer works
    assert notices(at) == [note]
    at.button(key="act_save").click().run()
    assert current_id(at) != "t004" and notices(at) == []
    assert rows(app_db)[-2:] == [("t004", "bob", "label", "wrong_retrieval"),
                                 ("t004", "ann", "label", "escalation")]


def test_opening_an_unlabeled_or_blind_transcript_shows_no_label_notice(app_db):
    db = connect(app_db)
    set_setting(db, "overlap_share", 1.0, "lead")  # t004 waits for its second reviewer
    label(db, load_taxonomy("default"), "t004", "bob", "wrong_retrieval")
    db.close()
    for tid in ("t003", "t004"):
        at = AppTest.from_file(PAGE, default_timeout=30)
        at.query_params["transcript"] = tid
        at.run()
        assert current_id(at) == tid
        assert notices(at) == [] and "Wrong retrieval" not in texts(at).split("Keys:")[0]
