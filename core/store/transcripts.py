"""The `transcripts` table: reading transcripts, and the one statement that writes them. Rows
come from the import pipeline (core/ingest/pipeline.py), which maps records to rows, checks
them against what is stored (the lookups below, one join per chunk) and inserts them here."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import NotFound
from core.store.connection import Database

COLUMNS = (
    "transcript_id", "source", "messages", "context", "tools", "metadata", "content_hash",
    "batch_id", "imported_at", "n_messages", "has_tool_calls", "n_chars", "archived", "record_id",
)
_SELECT = ", ".join(COLUMNS)


def _arrow_types() -> dict:
    import pyarrow as pa  # here: every page imports this module, only imports need Arrow

    return {"imported_at": pa.timestamp("us"), "n_messages": pa.int32(),
            "has_tool_calls": pa.bool_(), "n_chars": pa.int64(), "archived": pa.bool_()}


@dataclass(frozen=True)
class Transcript:
    """One imported conversation, as the data contract's transcript record."""

    transcript_id: str
    source: str
    messages: list[dict[str, Any]]
    context: list[dict[str, Any]] | None
    tools: list[dict[str, Any]] | None
    metadata: dict[str, Any]
    content_hash: str
    batch_id: str | None
    imported_at: datetime | None
    n_messages: int
    has_tool_calls: bool
    n_chars: int
    archived: bool
    record_id: str | None = None  # the id as written in the imported record (unique per source)

    @property
    def original_id(self) -> str:
        """The id to write when the transcript goes back out as a record."""
        return self.record_id or self.transcript_id


def _load(v: str | None) -> Any:
    return None if v is None else json.loads(v)


def _row_to_transcript(r: tuple) -> Transcript:
    return Transcript(
        transcript_id=r[0], source=r[1], messages=_load(r[2]) or [], context=_load(r[3]),
        tools=_load(r[4]), metadata=_load(r[5]) or {}, content_hash=r[6], batch_id=r[7],
        imported_at=r[8], n_messages=r[9] or 0, has_tool_calls=bool(r[10]), n_chars=r[11] or 0,
        archived=bool(r[12]), record_id=r[13],
    )


def field_sql(field: str, table: str = "") -> str:
    """SQL for a transcript field's text, as filters, strata and slices use it: `source` is
    the column, any other name a metadata key. `table` qualifies the columns (e.g. "t")."""
    prefix = f"{table}." if table else ""
    if field == "source":
        return prefix + "source"
    path = "'$.\"" + field.replace("'", "''").replace('"', '\\"') + "\"'"
    return f"json_extract_string({prefix}metadata, {path})"


def get_transcript(db: Database, transcript_id: str) -> Transcript:
    """One transcript by id; NotFound if there is none."""
    row = db.con.execute(
        f"SELECT {_SELECT} FROM transcripts WHERE transcript_id = ?", [transcript_id]
    ).fetchone()
    if row is None:
        raise NotFound(f"no transcript with id {transcript_id!r}")
    return _row_to_transcript(row)


def get_transcripts(db: Database, ids: list[str]) -> list[Transcript]:
    """Several transcripts, in the order of `ids` (missing ids are left out)."""
    if not ids:
        return []
    rows = db.con.execute(
        f"SELECT {_SELECT} FROM transcripts WHERE transcript_id IN (SELECT unnest(?))", [ids]
    ).fetchall()
    by_id = {r[0]: _row_to_transcript(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def content_hashes(db: Database, ids: list[str]) -> dict[str, str]:
    """transcript_id → content_hash, without reading the transcripts themselves."""
    if not ids:
        return {}
    return dict(db.con.execute(
        "SELECT transcript_id, content_hash FROM transcripts WHERE transcript_id IN "
        "(SELECT unnest(?::VARCHAR[]))", [ids]).fetchall())


def count_transcripts(db: Database, include_archived: bool = False) -> int:
    """How many transcripts are in the database (active ones unless asked otherwise)."""
    sql = "SELECT count(*) FROM transcripts"
    if not include_archived:
        sql += " WHERE NOT archived"
    return db.con.execute(sql).fetchone()[0]


def has_source(db: Database, source: str) -> bool:
    """Whether any transcript of this source is stored."""
    return db.con.execute(
        "SELECT 1 FROM transcripts WHERE source = ? LIMIT 1", [source]).fetchone() is not None


def _keys_join(db: Database, column: str, values: list[str], sql: str) -> list[tuple]:
    # A list parameter, not con.register: register fails while an earlier result is unfetched.
    sub = f"(SELECT unnest(?::VARCHAR[]) AS {column})"
    return db.con.execute(sql.replace("_keys", sub), [values]).fetchall()


def existing_ids(db: Database, ids: list[str]) -> set[str]:
    """Of these transcript ids, those already stored (by any source)."""
    rows = _keys_join(db, "transcript_id", ids,
                      "SELECT transcript_id FROM _keys k JOIN transcripts t USING (transcript_id)")
    return {r[0] for r in rows}


def existing_hashes(db: Database, hashes: list[str]) -> set[str]:
    """Of these content hashes, those already stored (one join for the chunk)."""
    rows = _keys_join(db, "content_hash", hashes, "SELECT DISTINCT k.content_hash FROM _keys k "
                      "JOIN transcripts t USING (content_hash)")
    return {r[0] for r in rows}


def stored_records(db: Database, source: str, record_ids: list[str]) -> dict[str, str]:
    """Of these record ids, those this source already holds → their content hash."""
    rows = db.con.execute(
        "SELECT t.record_id, t.content_hash FROM (SELECT unnest(?::VARCHAR[]) AS record_id) k "
        "JOIN transcripts t ON t.record_id = k.record_id AND t.source = ?",
        [record_ids, source]).fetchall()
    return dict(rows)


def transcript_ids_by_record(db: Database, keys: list[tuple[str, str]]
                             ) -> dict[tuple[str, str], str]:
    """(source, record id) → the transcript id it is stored under, for those that exist."""
    if not keys:
        return {}
    rows = db.con.execute(
        "SELECT t.source, t.record_id, t.transcript_id FROM (SELECT unnest(?::VARCHAR[]) AS source, "
        "unnest(?::VARCHAR[]) AS record_id) k JOIN transcripts t USING (source, record_id)",
        [[s for s, _ in keys], [r for _, r in keys]]).fetchall()
    return {(s, r): t for s, r, t in rows}


def insert_transcripts(db: Database, columns: Mapping[str, Sequence[Any]]) -> int:
    """Insert transcript rows given column-wise (one list per name of COLUMNS, all of one
    length), in the caller's transaction if there is one; returns how many. One Arrow table
    DuckDB reads directly: far faster than executemany."""
    if set(columns) != set(COLUMNS):
        raise ValueError(f"transcript columns must be exactly {', '.join(COLUMNS)}")
    n = len(columns["transcript_id"])
    if not n:
        return 0
    import pyarrow as pa

    types = _arrow_types()
    frame = pa.table({c: pa.array(columns[c], types.get(c, pa.string())) for c in COLUMNS})
    con = db.con
    with db.transaction():
        con.register("_transcripts_frame", frame)
        try:
            con.execute(f"INSERT INTO transcripts ({_SELECT}) SELECT {_SELECT} FROM _transcripts_frame")
        finally:
            con.unregister("_transcripts_frame")
    return n
