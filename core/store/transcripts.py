"""Reading transcripts. (Writing them is import's job: core/ingest/pipeline.py via insert_* below.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from core.errors import NotFound
from core.store.connection import Database

COLUMNS = (
    "transcript_id, source, messages, context, tools, metadata, content_hash, batch_id, "
    "imported_at, n_messages, has_tool_calls, n_chars, archived, record_id"
)


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
        f"SELECT {COLUMNS} FROM transcripts WHERE transcript_id = ?", [transcript_id]
    ).fetchone()
    if row is None:
        raise NotFound(f"no transcript with id {transcript_id!r}")
    return _row_to_transcript(row)


def get_transcripts(db: Database, ids: list[str]) -> list[Transcript]:
    """Several transcripts, in the order of `ids` (missing ids are left out)."""
    if not ids:
        return []
    rows = db.con.execute(
        f"SELECT {COLUMNS} FROM transcripts WHERE transcript_id IN (SELECT unnest(?))", [ids]
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


def _json_default(value: Any) -> Any:
    """Values JSON lacks, as CSV/Parquet readers give them: dates and times as ISO text,
    decimals as numbers."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} values cannot be stored as JSON")


def canonical_json(value: Any) -> str:
    """Stable JSON text (sorted keys, no spaces): what hashes and storage use.

    The text is Python's `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
    (hashes stored since the first release depend on it). orjson writes the same bytes ~10x
    faster for plain JSON values (dicts, lists, strings, 64-bit ints, bools, None), so it takes
    those; anything else (floats, whose text differs, dates, decimals, huge ints, lone
    surrogates) goes through json.dumps."""
    if _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
        except orjson.JSONEncodeError:
            pass
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default)


def _plain(value: Any) -> bool:
    """True when `value` holds only dicts, lists, strings, ints, bools and None."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
        elif not (t is str or t is int or t is bool or v is None):
            return False
    return True


def content_hash(messages: list, context: list | None, tools: list | None) -> str:
    """The content identity of a transcript: same conversation, context and tools → same hash."""
    import hashlib

    payload = canonical_json({"messages": messages, "context": context or None, "tools": tools or None})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def has_tool_calls(messages: list[dict[str, Any]]) -> bool:
    return any(m.get("tool_calls") or m.get("function_call") for m in messages)


def transcript_row(record: dict[str, Any], source: str, batch_id: str | None,
                   imported_at: datetime) -> tuple:
    """A validated record → the `transcripts` row (COLUMNS order). The transcript id is the
    record's id: callers that may meet it in another source go through the importer instead."""
    messages = record["messages"]
    context = record.get("context") or None
    tools = record.get("tools") or None
    messages_json = canonical_json(messages)
    n_chars = sum(len(str(m.get("content") or "")) for m in messages)
    return (
        str(record["id"]), source, messages_json,
        None if context is None else canonical_json(context),
        None if tools is None else canonical_json(tools),
        canonical_json(record.get("metadata") or {}),
        content_hash(messages, context, tools), batch_id, imported_at, len(messages),
        has_tool_calls(messages), n_chars, False, str(record["id"]),
    )


def insert_transcript_rows(con: Any, rows: list[tuple]) -> None:
    """Insert prepared rows (see transcript_row) on a connection inside the caller's transaction."""
    if rows:
        marks = ", ".join("?" * len(COLUMNS.split(",")))
        con.executemany(f"INSERT INTO transcripts ({COLUMNS}) VALUES ({marks})", rows)
