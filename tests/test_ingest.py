"""Transcript import: formats, the data contract's leniency, duplicates, rejects, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core.ingest.pipeline import import_file, preview_file
from core.ingest.records import content_hash
from core.store.connection import connect
from core.store.transcripts import get_transcript
from tests.conftest import make_record
from tests.ingest_helpers import cli, count, write_jsonl


def test_import_jsonl_stores_records_and_batch(tmp_path, db_path, capsys):
    f = write_jsonl(tmp_path / "logs.jsonl", [make_record(i) for i in range(3)])
    code, out, err = cli(capsys, db_path, "import", str(f), "--source", "prod")
    assert code == 0 and err.startswith("snapshot: wrote triage.snapshot.duckdb")  # for analysts
    assert "imported            3" in out
    assert count(db_path) == 3
    assert count(db_path, "SELECT count(*) FROM import_batches WHERE source = 'prod' "
                          "AND rows_read = 3 AND rows_imported = 3 AND rejects_path IS NULL") == 1
    db = connect(db_path)
    t = get_transcript(db, "t1")
    assert t.source == "prod" and t.n_messages == 3 and t.metadata == {"channel": "web"}
    assert t.content_hash == content_hash(t.messages, t.context, t.tools)


def test_import_accepts_real_log_leniency(tmp_path, db_path):
    record = {"id": 7, "messages": [
        {"role": "tool", "content": "result without tool_call_id"},
        {"role": "user", "content": "hi", "name": "sim-user", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c2", "type": "function", "function": {"name": "search", "arguments": "{\"q\": 1}"}}]},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c3", "type": "function", "function": {"name": "search", "arguments": "{}"}}]},
        {"role": "function", "name": "search", "content": "legacy"},
        {"role": "developer", "content": [{"type": "text", "text": "parts"}]},
    ], "context": [{"source": "kb/1", "text": "doc"}], "tools": [{"type": "function"}],
        "trace_id": "abc"}
    result = import_file(connect(db_path), write_jsonl(tmp_path / "a.jsonl", [record]))
    assert (result.rows_imported, result.rows_rejected, result.exit_code) == (1, 0, 0)
    t = get_transcript(connect(db_path), "7")
    assert t.has_tool_calls and t.context == [{"source": "kb/1", "text": "doc"}]
    assert t.metadata == {"trace_id": "abc"}  # unknown top-level keys are kept as metadata


def test_import_rejects_wrong_types_with_field_messages(tmp_path, db_path, capsys):
    rows = [make_record(1), {"id": "t2", "messages": "hello"},
            {"id": "t3", "messages": [{"role": "robot", "content": "x"}]},
            {"id": "t4", "messages": [{"role": "assistant", "content": None}]},
            {"id": "t5", "messages": [{"role": "user", "content": "x"}], "metadata": [1]},
            {"messages": [{"role": "user", "content": "x"}]}, [1, 2]]
    f = write_jsonl(tmp_path / "bad.jsonl", rows)
    rejects = tmp_path / "bad_rows.jsonl"
    code, out, _ = cli(capsys, db_path, "import", str(f), "--rejects", str(rejects))
    assert code == 1
    assert "bad.jsonl: line 2: 'messages' must be a list, got str" in out
    assert "line 3: 'messages[0].role' must be one of system, developer, user, assistant, tool, function, got 'robot'" in out
    assert "line 4: 'messages[0]': content is null and the message has no tool_calls" in out
    assert "line 5: 'metadata' must be an object, got list" in out
    assert "line 6: 'id' is missing" in out
    assert "line 7: a transcript must be a JSON object, got list" in out
    assert f"rejected rows written to {rejects}" in out
    lines = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert [x["line"] for x in lines] == [2, 3, 4, 5, 6, 7]
    assert json.loads(lines[0]["row"]) == rows[1]
    assert count(db_path) == 1
    assert count(db_path, "SELECT rows_rejected FROM import_batches") == 6


def test_import_default_rejects_path_beside_db(tmp_path, db_path):
    f = write_jsonl(tmp_path / "x.jsonl", [make_record(1), {"id": "t9"}])
    result = import_file(connect(db_path), f)
    assert result.rejects_path == db_path.parent / "rejects" / f"{result.batch_id}.jsonl"
    assert result.rejects_path.exists() and result.exit_code == 1


def test_import_duplicates_counted_never_doubled(tmp_path, db_path, capsys):
    a, b = make_record(1), make_record(2)
    same_content_new_id = {**make_record(1), "id": "copy-of-t1"}
    f = write_jsonl(tmp_path / "d.jsonl", [a, b, a, same_content_new_id])
    code, out, _ = cli(capsys, db_path, "import", str(f))
    assert code == 0 and "duplicates          2  (1 same id and content, 1 same content" in out
    code, out, _ = cli(capsys, db_path, "import", str(f))
    assert code == 0 and "imported            0" in out and "duplicates          4" in out
    assert count(db_path) == 2
    assert count(db_path, "SELECT count(*) FROM import_batches") == 2


def test_import_id_conflict_rejected(tmp_path, db_path, capsys):
    write_jsonl(tmp_path / "first.jsonl", [make_record(1)])
    cli(capsys, db_path, "import", str(tmp_path / "first.jsonl"))
    changed = make_record(1, text="A different question")
    inner = [make_record(5), make_record(5, text="changed in the same file")]
    f = write_jsonl(tmp_path / "second.jsonl", [changed, *inner])
    code, out, _ = cli(capsys, db_path, "import", str(f))
    assert code == 1
    assert "line 1: id conflict: 't1' is already in the database with different content" in out
    assert "line 3: id conflict: 't5' is already in an earlier row with different content" in out
    assert count(db_path) == 2
    assert get_transcript(connect(db_path), "t1").messages[1]["content"].startswith("How do I")


def test_import_empty_file_exits_2(tmp_path, db_path, capsys):
    (tmp_path / "empty.jsonl").write_text("\n  \n")
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "empty.jsonl"))
    assert code == 2 and "empty.jsonl: the file is empty; nothing to import" in err


def test_import_missing_file_exits_2(tmp_path, db_path, capsys):
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "nope.jsonl: no such file" in err


def test_import_truncated_jsonl_keeps_good_lines(tmp_path, db_path, capsys):
    text = json.dumps(make_record(1)) + "\n" + json.dumps(make_record(2))[:57]
    (tmp_path / "cut.jsonl").write_text(text)
    code, out, _ = cli(capsys, db_path, "import", str(tmp_path / "cut.jsonl"))
    assert code == 1 and "line 2: not valid JSON: Unterminated string starting at (column 57)" in out
    assert count(db_path) == 1


def test_import_truncated_json_array_applies_nothing(tmp_path, db_path, capsys):
    text = json.dumps([make_record(1), make_record(2)])[:-30]
    (tmp_path / "cut.json").write_text(text)
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "cut.json"))
    assert code == 2 and "cut.json: not valid JSON: Unterminated string starting at (line 1, column" in err
    assert "truncated file?)" in err
    assert count(db_path) == 0


def test_import_json_array(tmp_path, db_path):
    (tmp_path / "arr.json").write_text(json.dumps([make_record(1), {"id": "x", "messages": 3}]))
    result = import_file(connect(db_path), tmp_path / "arr.json")
    assert result.format == "json" and result.rows_imported == 1
    assert str(result.errors[0]) == "item 2: 'messages' must be a list, got int"


def test_import_non_utf8_bytes_rejects_the_line(tmp_path, db_path, capsys):
    good = json.dumps(make_record(1)).encode()
    bad = json.dumps(make_record(2)).encode().replace(b"reset", b"r\xffset")
    (tmp_path / "latin.jsonl").write_bytes(good + b"\n" + bad + b"\n")
    code, out, _ = cli(capsys, db_path, "import", str(tmp_path / "latin.jsonl"))
    assert code == 1 and "line 2: not valid UTF-8 (byte 0xff at position" in out
    assert count(db_path) == 1


def test_import_binary_file_every_row_rejected_exits_2(tmp_path, db_path, capsys):
    (tmp_path / "blob.jsonl").write_bytes(bytes(range(1, 256)) * 40)
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "blob.jsonl"))
    assert code == 2 and "rows rejected; nothing imported" in err and "Rejected rows:" in err
    assert count(db_path) == 0
    assert count(db_path, "SELECT count(*) FROM import_batches") == 0


def test_import_20mb_transcript(tmp_path, db_path):
    big = make_record("huge", messages=[{"role": "user", "content": "x" * 1000},
                                        {"role": "tool", "content": "y" * 20_000_000}])
    result = import_file(connect(db_path), write_jsonl(tmp_path / "big.jsonl", [big]))
    assert result.rows_imported == 1
    assert get_transcript(connect(db_path), "huge").n_chars == 20_001_000


def test_import_many_rows_spans_chunks(tmp_path, db_path):
    rows = [{"id": i, "messages": [{"role": "user", "content": f"q{i}"}]} for i in range(100_000)]
    rows[54_321] = {"id": 54_321, "messages": {}}
    result = import_file(connect(db_path), write_jsonl(tmp_path / "many.jsonl", rows))
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (100_000, 99_999, 1)
    assert str(result.errors[0]) == "line 54322: 'messages' must be a list, got object"
    assert count(db_path) == 99_999


def test_import_csv_mapping_embedded_newlines_quotes(tmp_path, db_path, capsys):
    f = tmp_path / "tickets.csv"
    f.write_text('ticket_id,question,answer,docs,channel\n'
                 'T-1,"Line one\nline two, with ""quotes""","Answer, ""quoted""",KB text,web\n'
                 'T-2,Where is my order?,It ships today,"[{""source"": ""kb/9"", ""text"": ""Shipping""}]",\n'
                 'T-3,,,,email\n', encoding="utf-8")
    code, out, _ = cli(capsys, db_path, "import", str(f), "--map", "id=ticket_id", "--map",
                       "user=question", "--map", "assistant=answer", "--map", "context=docs")
    assert code == 1 and "row 3: 'messages' is missing: no messages column" in out
    db = connect(db_path)
    t1 = get_transcript(db, "T-1")
    assert t1.messages == [{"role": "user", "content": 'Line one\nline two, with "quotes"'},
                           {"role": "assistant", "content": 'Answer, "quoted"'}]
    assert t1.context == [{"source": "docs", "text": "KB text"}] and t1.metadata == {"channel": "web"}
    assert get_transcript(db, "T-2").context == [{"source": "kb/9", "text": "Shipping"}]


def test_import_csv_messages_column_taken_as_is(tmp_path, db_path):
    msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    f = tmp_path / "m.csv"
    f.write_text('id,messages,model\nm1,"' + json.dumps(msgs).replace('"', '""') + '",gpt\n')
    result = import_file(connect(db_path), f)
    assert result.rows_imported == 1
    t = get_transcript(connect(db_path), "m1")
    assert t.messages == msgs and t.metadata == {"model": "gpt"}


def test_import_csv_unknown_map_column_is_usage_error(tmp_path, db_path, capsys):
    (tmp_path / "a.csv").write_text("a,b\n1,2\n")
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "a.csv"), "--map", "id=nope")
    assert code == 2 and "no column for --map id=nope; columns: a, b" in err
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "a.csv"), "--map", "who=a")
    assert code == 2 and "unknown field 'who'" in err


def test_import_parquet_with_mapping(tmp_path, db_path):
    table = pa.table({"ticket_id": ["p1", "p2"], "question": ["q1", "q2"],
                      "answer": ["a1", None], "tier": ["pro", "free"]})
    pq.write_table(table, tmp_path / "t.parquet")
    result = import_file(connect(db_path), tmp_path / "t.parquet",
                         mapping={"id": "ticket_id", "user": "question", "assistant": "answer"})
    assert (result.format, result.rows_imported) == ("parquet", 2)
    t = get_transcript(connect(db_path), "p2")
    assert t.messages == [{"role": "user", "content": "q2"}] and t.metadata == {"tier": "free"}


def test_import_parquet_timestamps_and_decimals_become_metadata_text(tmp_path, db_path):
    from datetime import datetime
    from decimal import Decimal

    table = pa.table({"id": ["p1"], "user": ["q"], "assistant": ["a"],
                      "ts": [datetime(2026, 1, 1, 9)], "amount": [Decimal("12.50")]})
    pq.write_table(table, tmp_path / "t.parquet")
    result = import_file(connect(db_path), tmp_path / "t.parquet")
    assert (result.rows_imported, result.rows_rejected) == (1, 0)
    assert get_transcript(connect(db_path), "p1").metadata == {"ts": "2026-01-01T09:00:00",
                                                              "amount": 12.5}


def test_preview_file_stores_nothing(tmp_path, db_path):
    f = write_jsonl(tmp_path / "p.jsonl", [make_record(i) for i in range(30)] + [{"id": 1}])
    preview = preview_file(f, n=20)
    assert preview.format == "jsonl" and len(preview.records) == 20 and preview.errors == []
    assert not db_path.exists()


def test_progress_callback_reports_fraction(tmp_path, db_path):
    f = write_jsonl(tmp_path / "p.jsonl", [make_record(i) for i in range(4100)])
    calls: list[tuple[float, int]] = []
    import_file(connect(db_path), f, progress=lambda frac, rows: calls.append((frac, rows)))
    assert [rows for _, rows in calls] == [2000, 4000]
    assert 0 < calls[0][0] < calls[1][0] < 1


def test_shared_data_imports_without_rejects(shared_data: Path, db_path, capsys):
    for f in sorted(shared_data.glob("*.jsonl")):
        code, out, _ = cli(capsys, db_path, "import", str(f))
        assert code == 0, out
        assert "rejected            0" in out
    n_lines = sum(len(f.read_text().splitlines()) for f in shared_data.glob("*.jsonl"))
    n_dupes = count(db_path, "SELECT sum(rows_duplicate) FROM import_batches")
    assert count(db_path) == n_lines - n_dupes


def test_import_header_only_csv_exits_2(tmp_path, db_path, capsys):
    (tmp_path / "h.csv").write_text("id,user,assistant\n")
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "h.csv"))
    assert code == 2 and "h.csv: no rows found; nothing to import" in err


def test_import_not_parquet_exits_2(tmp_path, db_path, capsys):
    (tmp_path / "x.parquet").write_text("id,user\n1,hi\n")
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "x.parquet"))
    assert code == 2 and "x.parquet: not a readable Parquet file" in err


def test_import_restores_memory_limit(tmp_path, db_path):
    db = connect(db_path)
    before = db.con.execute("SELECT current_setting('memory_limit')").fetchall()
    import_file(db, write_jsonl(tmp_path / "a.jsonl", [make_record(1)]))
    assert db.con.execute("SELECT current_setting('memory_limit')").fetchall() == before


def test_import_unpaired_surrogate_rejected(tmp_path, db_path, capsys):
    lines = [json.dumps(make_record(1)), '{"id": "s", "messages": [{"role": "user", "content": "a\\ud800b"}]}']
    (tmp_path / "s.jsonl").write_text("\n".join(lines) + "\n")
    code, out, _ = cli(capsys, db_path, "import", str(tmp_path / "s.jsonl"))
    assert code == 1 and "line 2: text holds an unpaired surrogate (\\ud800): not valid Unicode" in out
    assert count(db_path) == 1


def test_import_csv_bad_rows(tmp_path, db_path, capsys):
    (tmp_path / "b.csv").write_bytes(b"id,user,assistant\na,hi,ok,extra\nb,h\xe9llo,ok\nc,fine,ok\n")
    code, out, _ = cli(capsys, db_path, "import", str(tmp_path / "b.csv"))
    assert code == 1
    assert "row 1: more cells than the header has columns" in out
    assert "row 2: column 'user' is not valid UTF-8" in out
    assert count(db_path) == 1


def test_ids_are_unique_per_source(tmp_path, db_path, capsys):
    # Two systems both number their conversations t1, t2: each source keeps its own.
    cli(capsys, db_path, "import", str(write_jsonl(tmp_path / "a.jsonl", [make_record(1)])),
        "--source", "helpdesk")
    other = [make_record(1, text="Where is my parcel?"), make_record(2)]
    f = write_jsonl(tmp_path / "b.jsonl", other)
    code, out, _ = cli(capsys, db_path, "import", str(f), "--source", "shop")
    assert code == 0 and "imported            2" in out
    assert "1 id was already used by another source; that transcript is stored as " \
           "'shop/t1' (record_id keeps the id as written)" in out
    db = connect(db_path)
    assert db.con.execute("SELECT transcript_id, source, record_id FROM transcripts "
                          "ORDER BY transcript_id").fetchall() == [
        ("shop/t1", "shop", "t1"), ("t1", "helpdesk", "t1"), ("t2", "shop", "t2")]
    assert get_transcript(db, "shop/t1").messages[1]["content"].startswith("Where is my parcel")
    db.close()
    # Re-importing the same file is a duplicate by id within its source, never a third copy.
    code, out, _ = cli(capsys, db_path, "import", str(f), "--source", "shop")
    assert code == 0 and "duplicates          2  (2 same id and content" in out
    # Within a source, the same id with other content is still a conflict, named with its source.
    changed = write_jsonl(tmp_path / "c.jsonl", [make_record(1, text="Changed")])
    code, out, _ = cli(capsys, db_path, "import", str(changed), "--source", "shop")
    assert code == 2
    code, out, _ = cli(capsys, db_path, "import", str(changed), "--source", "shop2")
    assert code == 0 and count(db_path) == 4
    assert count(db_path, "SELECT count(*) FROM transcripts WHERE transcript_id = 'shop2/t1'") == 1


def test_conflict_message_names_the_source(tmp_path, db_path, capsys):
    write_jsonl(tmp_path / "a.jsonl", [make_record(1)])
    cli(capsys, db_path, "import", str(tmp_path / "a.jsonl"))
    f = write_jsonl(tmp_path / "b.jsonl", [make_record(1, text="Other"), make_record(2)])
    code, out, _ = cli(capsys, db_path, "import", str(f))
    assert code == 1
    assert ("line 1: id conflict: 't1' is already in the database with different content (ids are "
            "unique per source, here 'default'") in out
    assert "import logs from another system with --source NAME" in out


def test_a_qualified_id_already_taken_gets_a_suffix(tmp_path, db_path, capsys):
    # Pathological but possible: a source literally uses the id another source's copy would get.
    rows = [make_record(1), make_record("shop/t1", text="Literal")]
    cli(capsys, db_path, "import", str(write_jsonl(tmp_path / "a.jsonl", rows)))
    f = write_jsonl(tmp_path / "b.jsonl", [make_record(1, text="Shop's own t1")])
    code, out, _ = cli(capsys, db_path, "import", str(f), "--source", "shop")
    assert code == 0
    assert count(db_path, "SELECT count(*) FROM transcripts WHERE transcript_id = 'shop/t1~2' "
                          "AND record_id = 't1' AND source = 'shop'") == 1
    assert "stored as 'shop/t1~2' (record_id keeps the id as written)" in out
    # Many rows in that case: each round of candidates is one lookup, not one per row.
    n = 300
    taken = [make_record(i, text="x") for i in range(n)]
    taken += [make_record(f"web/t{i}", text="y") for i in range(n)]
    cli(capsys, db_path, "import", str(write_jsonl(tmp_path / "c.jsonl", taken)), "--source", "c")
    web = write_jsonl(tmp_path / "d.jsonl", [make_record(i, text="z") for i in range(n)])
    code, out, _ = cli(capsys, db_path, "import", str(web), "--source", "web")
    assert code == 0 and f"{n} ids were already used by another source; those are stored as " \
        "'web/t0~2', 'web/t1~2', 'web/t2~2', …" in out


def test_unusable_rejects_path_is_a_clear_error(tmp_path, db_path, capsys):
    f = write_jsonl(tmp_path / "a.jsonl", [make_record(1), {"id": "bad"}])
    code, _, err = cli(capsys, db_path, "import", str(f), "--rejects", str(tmp_path))
    assert code == 2 and f"rejects file {tmp_path} is a folder: give a file path" in err
    blocker = tmp_path / "plain"
    blocker.write_text("")
    code, _, err = cli(capsys, db_path, "import", str(f), "--rejects", str(blocker / "r.jsonl"))
    assert code == 2 and f"cannot write the rejects file {blocker / 'r.jsonl'}" in err
    assert count(db_path) == 0  # the valid row is not imported without its rejected neighbour


def test_jsonl_with_a_byte_order_mark_keeps_its_first_line(tmp_path, db_path, capsys):
    f = tmp_path / "bom.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + (json.dumps(make_record(1)) + "\n" +
                                     json.dumps(make_record(2)) + "\n").encode())
    code, out, _ = cli(capsys, db_path, "import", str(f))
    assert code == 0 and "imported            2" in out
