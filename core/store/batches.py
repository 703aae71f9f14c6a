"""The `import_batches` table, and the set-based statements an import runs per chunk:
duplicate lookup by record id and by content hash, which transcript ids are taken (one join
each), and the bulk insert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from core.store.connection import Database

BATCH_COLUMNS = (
    "batch_id, file_name, format, source, rows_read, rows_imported, rows_duplicate, "
    "rows_rejected, rejects_path, imported_by, imported_at"
)
TRANSCRIPT_COLUMNS = (
    "transcript_id", "source", "messages", "context", "tools", "metadata", "content_hash",
    "batch_id", "imported_at", "n_messages", "has_tool_calls", "n_chars", "archived", "record_id",
)


@dataclass(frozen=True)
class Batch:
    """One recorded import."""

    batch_id: str
    file_name: str
    format: str
    source: str
    rows_read: int
    rows_imported: int
    rows_duplicate: int
    rows_rejected: int
    rejects_path: str | None
    imported_by: str | None
    imported_at: datetime


def record_batch(con: Any, batch: Batch) -> None:
    """Insert the batch row (inside the import's transaction)."""
    con.execute(f"INSERT INTO import_batches ({BATCH_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                [getattr(batch, c.strip()) for c in BATCH_COLUMNS.split(",")])


def list_batches(db: Database) -> list[Batch]:
    """Every import, newest first."""
    rows = db.con.execute(
        f"SELECT {BATCH_COLUMNS} FROM import_batches ORDER BY imported_at DESC").fetchall()
    return [Batch(*r) for r in rows]


def _join(con: Any, column: str, values: list[str], sql: str) -> list[tuple]:
    # A list parameter, not con.register: register fails while an earlier result is unfetched.
    sub = f"(SELECT unnest(?::VARCHAR[]) AS {column})"
    return con.execute(sql.replace("_keys", sub), [values]).fetchall()


def stored_records(con: Any, source: str, record_ids: list[str]) -> dict[str, str]:
    """Of these record ids, those this source already holds → their content hash."""
    rows = con.execute(
        "SELECT t.record_id, t.content_hash FROM (SELECT unnest(?::VARCHAR[]) AS record_id) k "
        "JOIN transcripts t ON t.record_id = k.record_id AND t.source = ?",
        [record_ids, source]).fetchall()
    return dict(rows)


def taken_ids(con: Any, ids: list[str]) -> set[str]:
    """Of these transcript ids, those already used by any source."""
    rows = _join(con, "transcript_id", ids,
                 "SELECT transcript_id FROM _keys k JOIN transcripts t USING (transcript_id)")
    return {r[0] for r in rows}


def existing_hashes(con: Any, hashes: list[str]) -> set[str]:
    """Of these content hashes, those already stored (one join for the chunk)."""
    rows = _join(con, "content_hash", hashes,
                 "SELECT DISTINCT k.content_hash FROM _keys k JOIN transcripts t USING (content_hash)")
    return {r[0] for r in rows}


def insert_transcripts(con: Any, columns: dict[str, list]) -> None:
    """Bulk-insert prepared transcript rows given column-wise (TRANSCRIPT_COLUMNS): an Arrow
    table DuckDB reads directly, far faster than executemany."""
    if not columns["transcript_id"]:
        return
    types = {"imported_at": pa.timestamp("us"), "n_messages": pa.int32(),
             "has_tool_calls": pa.bool_(), "n_chars": pa.int64(), "archived": pa.bool_()}
    frame = pa.table({c: pa.array(columns[c], types.get(c, pa.string()))
                      for c in TRANSCRIPT_COLUMNS})
    names = ", ".join(TRANSCRIPT_COLUMNS)
    con.register("_frame", frame)
    try:
        con.execute(f"INSERT INTO transcripts ({names}) SELECT {names} FROM _frame")
    finally:
        con.unregister("_frame")
