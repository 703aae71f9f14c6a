"""Browse: filters, paging in SQL, the overlap blindness rule, and the page."""

from __future__ import annotations

import pandas as pd

from core.admin import archive_batch
from core.labels.browse import browse, browse_query
from core.store.overlap import overlap_among
from core.store.settings import set_setting
from tests.conftest import add_transcripts, make_record
from tests.demo_helpers import demo_database
from tests.seed_helpers import add_batch, app, label, prelabel, seed_disagreements, texts


def ids(db, user="lead", **filters):
    page = browse(db, browse_query(db, user, **filters), meta_fields=["tier"])
    return list(page.rows["transcript_id"])


def row(db, tid, user):
    rows = browse(db, browse_query(db, user), meta_fields=["channel", "tier"]).rows
    r = rows[rows["transcript_id"] == tid].iloc[0]
    return tuple(None if pd.isna(r[c]) else r[c] for c in ("final_label", "status", "prelabel"))


def seeded(db, taxonomy):
    seed_disagreements(db, taxonomy)
    add_batch(db, "b2", [make_record(i, "Refund my order", metadata={"channel": "email"})
                         for i in range(10, 13)], source="shop")
    prelabel(db, taxonomy, "t10", "tone_policy", 0.42)
    prelabel(db, taxonomy, "t3", "reasoning", 0.9)
    set_setting(db, "overlap_share", 0.0, "lead")


def test_filters_by_source_status_label_prelabel_metadata_and_text(db, taxonomy):
    seeded(db, taxonomy)
    assert ids(db, source="shop") == ["t10", "t11", "t12"]
    assert ids(db, status="disagreement") == ["t0", "t1"]
    assert ids(db, status="unlabeled", source="support") == ["t4", "t5"]
    assert ids(db, label="schema_format") == ["t2"]
    assert ids(db, prelabel="tone_policy") == ["t10"]
    assert ids(db, meta_field="channel", meta_value="email") == ["t10", "t11", "t12"]
    assert ids(db, text="REFUND my") == ["t10", "t11", "t12"]
    assert ids(db, text="(#3)") == ["t3"]


def test_text_search_reads_the_conversation_and_context_not_the_system_prompt(db):
    add_transcripts(db, [
        make_record("plain"),
        make_record("ctx", context=[{"source": "kb/refunds.md", "text": "Refunds take 5 days."},
                                    "Chargebacks are final."]),
        make_record("dev", messages=[
            {"role": "developer", "content": "Mention the refund policy."},
            {"role": "user", "content": 'She said "cancel it"'},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": "c1", "type": "function",
                "function": {"name": "cancel_order", "arguments": "{}"}}]}])])
    assert ids(db, text="support assistant") == []  # only in the system prompts
    assert ids(db, text="refund policy") == []  # only in a developer prompt
    assert ids(db, text="settings → security") == ["ctx", "plain"]  # an assistant reply
    assert ids(db, text="take 5 days") == ["ctx"]
    assert ids(db, text="chargebacks") == ["ctx"]
    assert ids(db, text='said "cancel it"') == ["dev"]  # quotes match as typed
    assert ids(db, text="cancel_order") == ["dev"]  # tool calls count


def test_metadata_field_without_a_value_filters_nothing(db, taxonomy):
    seeded(db, taxonomy)
    everything = ids(db)
    assert len(everything) == 9
    assert ids(db, meta_field="channel") == everything
    assert ids(db, meta_field="channel", meta_value="  ") == everything
    assert ids(db, meta_field="channel", meta_value="nowhere") == []


def test_rows_carry_final_label_prelabel_confidence_and_metadata_columns(db, taxonomy):
    seeded(db, taxonomy)
    rows = browse(db, browse_query(db, "lead"), meta_fields=["channel", "tier"]).rows
    assert list(rows.columns) == [
        "transcript_id", "source", "final_label", "status", "prelabel", "confidence",
        "n_messages", "imported_at", "archived", "meta.channel", "meta.tier"]
    t10 = rows[rows["transcript_id"] == "t10"].iloc[0]
    assert (t10["prelabel"], t10["confidence"], t10["meta.channel"]) == ("tone_policy", 0.42, "email")
    t2 = rows[rows["transcript_id"] == "t2"].iloc[0]
    assert (t2["final_label"], t2["status"], t2["meta.tier"]) == ("schema_format", "agreed", "gold")


def test_archived_batches_are_left_out_unless_asked_for(db, taxonomy):
    seeded(db, taxonomy)
    archive_batch(db, "b2", "lead")
    assert ids(db, source="shop") == []
    assert ids(db, source="shop", include_archived=True) == ["t10", "t11", "t12"]


def test_paging_is_done_in_sql_and_clamped(db):
    add_transcripts(db, [make_record(f"p{i:03d}") for i in range(250)])
    q = browse_query(db, "lead")
    third = browse(db, q, page=3, page_size=100, meta_fields=[])
    assert (third.total, third.pages, third.page, len(third.rows)) == (250, 3, 3, 50)
    assert third.rows["transcript_id"].iloc[0] == "p200"
    assert browse(db, q, page=99, page_size=100, meta_fields=[]).page == 3


def test_pending_overlap_label_is_hidden_from_other_reviewers_and_from_filters(db, taxonomy):
    seeded(db, taxonomy)
    set_setting(db, "overlap_share", 1.0, "lead")  # every transcript is an overlap item
    assert row(db, "t3", "zoe") == (None, "pending second review", None)
    assert row(db, "t3", "ann") == ("reasoning", "single", "reasoning")
    assert ids(db, "zoe", label="reasoning") == []
    assert ids(db, "zoe", status="single") == []
    assert ids(db, "zoe", prelabel="reasoning") == []
    assert row(db, "t2", "zoe")[:2] == ("schema_format", "agreed")  # two labelers: finished
    set_setting(db, "overlap_share", 0.0, "lead")  # not an overlap item: nothing to hide
    assert row(db, "t3", "zoe") == ("reasoning", "single", "reasoning")


def test_sql_overlap_rule_matches_the_queue_rule(db, taxonomy):
    records = [make_record(f"o{i}") for i in range(150)]
    add_transcripts(db, records)
    for r in records:
        label(db, taxonomy, r["id"], "ann", "reasoning")
    set_setting(db, "queue_seed", 11, "lead")
    set_setting(db, "overlap_share", 0.37, "lead")
    hidden = set(ids(db, "zoe", status="pending second review"))
    expected = overlap_among([r["id"] for r in records], 11, 0.37)
    assert hidden == expected and len(expected) == 48  # 48: the rule's count, checked by hand
    assert sorted(expected)[:4] == ["o1", "o10", "o102", "o104"]


def test_page_shows_the_table_and_filters_it(db, db_path, taxonomy, monkeypatch):
    seeded(db, taxonomy)
    at = app("pages/browse.py", db_path, "lead", monkeypatch).run()
    assert "9 transcripts · page 1 of 1" in texts(at)
    table = at.dataframe[0].value
    assert list(table["transcript_id"]) == ["t10", "t11", "t12", "t0", "t1", "t2", "t3", "t4", "t5"]
    at.selectbox(key="browse_status").select("disagreement").run()
    assert list(at.dataframe[0].value["transcript_id"]) == ["t0", "t1"]
    at.text_input(key="browse_text").input("(#1)").run()
    assert list(at.dataframe[0].value["transcript_id"]) == ["t1"]
    assert "1 transcript · page 1 of 1" in texts(at)
    at.text_input(key="browse_text").input("nowhere").run()
    assert "0 transcripts · page 1 of 1" in texts(at)


def test_page_shows_label_display_names_and_a_dash_for_none(db, db_path, taxonomy, monkeypatch):
    seeded(db, taxonomy)
    at = app("pages/browse.py", db_path, "lead", monkeypatch).run()
    table = at.dataframe[0].value.set_index("transcript_id")
    assert list(table.loc[["t2", "t3", "t0", "t10"], "final_label"]) == [
        "Schema / format", "Reasoning / completeness", "—", "—"]
    assert list(table.loc[["t3", "t10", "t0"], "prelabel"]) == [
        "Reasoning / completeness", "Tone / policy", "—"]
    label_filter = at.selectbox(key="browse_label")
    assert label_filter.options[:3] == ["(any)", taxonomy.categories[0].name,
                                        taxonomy.categories[1].name]
    label_filter.select("schema_format").run()  # the value stays the key
    assert list(at.dataframe[0].value["transcript_id"]) == ["t2"]


def test_choosing_a_metadata_field_filters_only_once_a_value_is_typed(db, db_path, taxonomy,
                                                                      monkeypatch):
    seeded(db, taxonomy)
    at = app("pages/browse.py", db_path, "lead", monkeypatch).run()
    at.selectbox(key="browse_meta_field").select("channel").run()
    assert "9 transcripts · page 1 of 1" in texts(at)
    at.text_input(key="browse_meta_value").input("email").run()
    assert list(at.dataframe[0].value["transcript_id"]) == ["t10", "t11", "t12"]


def test_search_placeholder_example_narrows_the_demo(tmp_path, monkeypatch):
    path = tmp_path / "demo.duckdb"
    total = demo_database(path).transcripts
    at = app("pages/browse.py", path, "lead", monkeypatch).run()
    example = at.text_input(key="browse_text").placeholder.removeprefix("e.g. ")
    at.text_input(key="browse_text").input(example).run()
    caption = next(c.value for c in at.caption if " · page " in c.value)
    shown = int(caption.split()[0].replace(",", ""))
    assert 0 < shown < total / 2, (example, shown, total)


def test_page_hides_a_pending_overlap_label(db, db_path, taxonomy, monkeypatch):
    seeded(db, taxonomy)
    set_setting(db, "overlap_share", 1.0, "lead")
    at = app("pages/browse.py", db_path, "zoe", monkeypatch).run()
    table = at.dataframe[0].value.set_index("transcript_id")
    assert table.loc["t3", "status"] == "pending second review"
    assert (table.loc["t3", "final_label"], table.loc["t3", "prelabel"]) == ("—", "—")
    assert "Reasoning / completeness" not in set(table["final_label"])


def test_selecting_a_row_hands_its_id_to_annotate(db, db_path, taxonomy, monkeypatch):
    seeded(db, taxonomy)
    at = app("pages/browse.py", db_path, "lead", monkeypatch).run()
    at.selectbox(key="browse_status").select("disagreement").run()
    at.session_state["browse_table_0"] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    assert at.session_state["open_transcript_id"] == "t1"
    # This AppTest runs the page alone, so there is no Annotate page to switch to here; in
    # the app (triage_app.py's navigation) the switch lands on pages/annotate.py.
    assert [e.message.split(".")[0] for e in at.exception] == [
        "Could not find page: `pages/annotate"]


def test_filters_come_back_after_visiting_another_page(db, db_path, taxonomy, monkeypatch):
    seeded(db, taxonomy)
    at = app("triage_app.py", db_path, "lead", monkeypatch).run()
    at.switch_page("pages/browse.py").run()
    at.selectbox(key="browse_source").select("shop").run()
    at.text_input(key="browse_text").input("refund").run()
    at.switch_page("pages/settings.py").run()
    assert "browse_source" not in at.session_state  # Streamlit forgot the Browse widgets
    at.switch_page("pages/browse.py").run()
    assert at.selectbox(key="browse_source").value == "shop"
    assert at.text_input(key="browse_text").value == "refund"
    assert list(at.dataframe[0].value["transcript_id"]) == ["t10", "t11", "t12"]


def test_each_row_links_to_annotate_with_its_id(db, db_path, taxonomy, monkeypatch):
    seeded(db, taxonomy)
    add_transcripts(db, [make_record("a b/c")], source="odd")
    at = app("pages/browse.py", db_path, "lead", monkeypatch).run()
    table = at.dataframe[0].value.set_index("transcript_id")
    assert table.loc["t0", "open"] == "annotate?transcript=t0"
    assert table.loc["a b/c", "open"] == "annotate?transcript=a%20b%2Fc"  # quoted, one id
    assert list(at.dataframe[0].value.columns)[0] == "open"
