"""The import pipeline's entry for any reader (`import_rows`): the file readers, the demo's
bundled file and later readers all store transcripts through it."""

from __future__ import annotations

import json

import pytest

from core.ingest.pipeline import import_rows
from core.ingest.readers import RawRow
from core.ingest.records import content_hash
from core.store.batches import list_batches
from core.store.transcripts import get_transcript
from tests.conftest import make_record


def reader(values: list) -> list[RawRow]:
    """Rows as a reader of some other format would give them: parsed values, numbered."""
    return [RawRow(i, "item", v, json.dumps(v)) for i, v in enumerate(values, 1)]


def stored(db) -> int:
    return db.con.execute("SELECT count(*) FROM transcripts").fetchone()[0]


def test_rows_of_any_reader_are_validated_deduplicated_and_stored_as_one_batch(db, tmp_path):
    rows = reader([make_record(1), make_record(2), make_record(1), {"id": "x", "messages": 3}])
    result = import_rows(db, rows, file_name="api:conversations", fmt="json", source="api",
                         batch_id="b-api", imported_by="ana", rejects=tmp_path / "r.jsonl")
    assert (result.rows_read, result.rows_imported, result.duplicates_by_id,
            result.rows_rejected, result.exit_code) == (4, 2, 1, 1, 1)
    assert [str(e) for e in result.errors] == ["item 4: 'messages' must be a list, got int"]
    assert json.loads((tmp_path / "r.jsonl").read_text())["item"] == 4
    [batch] = list_batches(db)
    assert (batch.batch_id, batch.file_name, batch.format, batch.source, batch.rows_read,
            batch.rows_imported, batch.rows_duplicate, batch.rows_rejected, batch.imported_by) == (
        "b-api", "api:conversations", "json", "api", 4, 2, 1, 1, "ana")
    t = get_transcript(db, "t2")
    assert (t.source, t.batch_id, t.record_id) == ("api", "b-api", "t2")
    assert t.content_hash == content_hash(t.messages, t.context, t.tools)


def test_inside_the_callers_transaction_it_is_undone_with_the_rest(db):
    with pytest.raises(RuntimeError, match="later step"), db.transaction():
        result = import_rows(db, reader([make_record(1)]), file_name="f", fmt="json", source="s")
        assert result.rows_imported == 1 and stored(db) == 1
        raise RuntimeError("a later step failed")
    assert stored(db) == 0 and list_batches(db) == []
