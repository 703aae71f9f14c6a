"""The Import page: upload, preview, column mapping, import with exit rules, rejects, samples."""

from __future__ import annotations

import json

import pytest

from core.errors import ImportFailed
from core.ingest.uploads import rejects_path_for, store_upload
from tests.conftest import make_record
from tests.seed_helpers import app, texts


def jsonl(*records) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records).encode()


def batches(db):
    return db.con.execute("SELECT file_name, format, source, rows_read, rows_imported, "
                          "rows_rejected, imported_by FROM import_batches").fetchall()


def test_store_upload_keeps_only_a_safe_file_name(db_path):
    path = store_upload(db_path, "../../etc/pa ss.jsonl", b"{}")
    assert path.parent.parent == db_path.parent / "uploads"
    assert path.name == "pa_ss.jsonl" and path.read_bytes() == b"{}"
    assert rejects_path_for(path).parent == db_path.parent / "rejects"
    with pytest.raises(ImportFailed, match="x.jsonl: the file is empty"):
        store_upload(db_path, "x.jsonl", b"")


def test_upload_preview_and_import_with_a_rejected_row(db, db_path, monkeypatch):
    data = jsonl(make_record(1), make_record(2), '{"id": "bad", "messages": "hi"}')
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    at.file_uploader(key="import_file").set_value(("logs.jsonl", data, "application/jsonl")).run()
    assert "Format: jsonl · first 3 rows: 2 valid, 1 with errors" in texts(at)
    assert list(at.dataframe[0].value["id"]) == ["t1", "t2"]
    assert "'messages' must be a list" in str(at.dataframe[1].value["problem"][0])
    assert batches(db) == []  # the preview stores nothing
    at.button(key="import_confirm").click().run()
    assert "Imported; some rows were rejected (see below). (exit code 1)" in texts(at)
    assert "rejected            1" in at.code[0].value
    assert batches(db) == [("logs.jsonl", "jsonl", "default", 3, 2, 1, "ann")]
    assert at.get("download_button")[0].proto.label == "Download rejected rows (JSONL)"


def test_csv_columns_are_mapped_with_dropdowns(db, db_path, monkeypatch):
    data = b"ticket_id,question,answer,channel\nA1,Where is my refund?,It is on its way.,web\n" \
           b"A2,Cancel my plan,Done.,email\n"
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    at.file_uploader(key="import_file").set_value(("tickets.csv", data, "text/csv")).run()
    assert "'messages' is missing" in str(at.dataframe[0].value["problem"][0])
    at.selectbox(key="import_map_id").select("ticket_id").run()
    at.selectbox(key="import_map_user").select("question").run()
    at.selectbox(key="import_map_assistant").select("answer").run()
    assert "first 2 rows: 2 valid, 0 with errors" in texts(at)
    at.text_input(key="import_source").input("helpdesk").run()
    at.button(key="import_confirm").click().run()
    assert "Imported, nothing rejected. (exit code 0)" in texts(at)
    rows = db.con.execute("SELECT transcript_id, source, messages, metadata FROM transcripts "
                          "ORDER BY 1").fetchall()
    assert [(r[0], r[1], json.loads(r[3])) for r in rows] == [
        ("A1", "helpdesk", {"channel": "web"}), ("A2", "helpdesk", {"channel": "email"})]
    assert json.loads(rows[0][2]) == [{"role": "user", "content": "Where is my refund?"},
                                      {"role": "assistant", "content": "It is on its way."}]


def test_every_row_rejected_imports_nothing(db, db_path, monkeypatch):
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    data = jsonl('{"id": "x"}', "not json")
    at.file_uploader(key="import_file").set_value(("broken.jsonl", data, "application/jsonl")).run()
    at.button(key="import_confirm").click().run()
    assert "Nothing imported. (exit code 2)" in texts(at)
    assert "all 2 rows rejected; nothing imported" in at.code[0].value
    assert batches(db) == []
    assert db.con.execute("SELECT count(*) FROM transcripts").fetchone() == (0,)


def test_draw_a_sample_form_records_the_sample(db, db_path, monkeypatch):
    from tests.conftest import add_transcripts

    add_transcripts(db, [make_record(i) for i in range(10)])
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    at.number_input[0].set_value(4)
    at.number_input[1].set_value(3)
    at.selectbox[-1].select("channel")
    at.text_area[0].input("channel=web")
    at.button[-1].click().run()
    assert "4 transcripts, stratified (seed 3)." in texts(at)
    method, seed, n, where, stratify_by, by = db.con.execute(
        "SELECT method, seed, n, filter, stratify_by, created_by FROM samples").fetchone()
    assert (method, seed, n, json.loads(where), stratify_by, by) == (
        "stratified", 3, 4, {"channel": ["web"]}, "channel", "ann")


def test_same_ids_from_another_source_are_other_transcripts(db, db_path, monkeypatch):
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    at.file_uploader(key="import_file").set_value(
        ("helpdesk.jsonl", jsonl(make_record(1)), "application/jsonl")).run()
    assert at.text_input(key="import_source").value == "default"
    at.button(key="import_confirm").click().run()
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    at.file_uploader(key="import_file").set_value(
        ("shop.jsonl", jsonl(make_record(1, text="Where is my parcel?")), "application/jsonl")).run()
    assert "Sources so far: default" in at.text_input(key="import_source").help
    at.text_input(key="import_source").input("shop").run()
    at.button(key="import_confirm").click().run()
    assert "Imported, nothing rejected. (exit code 0)" in texts(at)
    assert "1 id was already used by another source; that transcript is stored as " \
           "'shop/t1' (record_id keeps the id as written)" in at.code[0].value
    assert db.con.execute("SELECT transcript_id, source, record_id FROM transcripts ORDER BY 1"
                          ).fetchall() == [("shop/t1", "shop", "t1"), ("t1", "default", "t1")]
