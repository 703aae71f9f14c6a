"""Columns → transcript record, for CSV/Parquet (and JSON rows when --map is given).

`--map FIELD=COLUMN` names the column of a field; an unmapped field reads the column of its
own name. `messages` (JSON text or a list) is taken as is; otherwise `system`/`user`/
`assistant` columns make a one-exchange conversation. `context` may be JSON or plain text.
Every other column becomes metadata."""

from __future__ import annotations

import json
from typing import Any

from core.ingest.records import RowError

_CONVERSATION = ("system", "user", "assistant")
_JSON_FIELDS = ("messages", "tools", "metadata")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _json_cell(field: str, column: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise ValueError(f"'{field}' (column {column!r}) is not valid JSON: {e.msg}") from e


def _context(column: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [{"source": column, "text": value}]
    if isinstance(value, str):
        return [{"source": column, "text": value}]
    if isinstance(value, list):
        return [{"source": column, "text": v} if isinstance(v, str) else v for v in value]
    return value


def _conversation(row: dict[str, Any], mapping: dict[str, str]) -> list[dict[str, Any]] | None:
    turns = []
    for role in _CONVERSATION:
        column = mapping.get(role, role)
        if column in row and not _blank(row[column]):
            turns.append({"role": role, "content": str(row[column])})
    return turns or None


def map_row(row: dict[str, Any], mapping: dict[str, str], number: int,
            unit: str = "row") -> dict[str, Any] | RowError:
    """One tabular row → a transcript record (validated later), or the error found here."""
    col = {f: mapping.get(f, f) for f in ("id", "messages", "context", "tools", "metadata",
                                          *_CONVERSATION)}
    record: dict[str, Any] = {}
    try:
        if col["id"] in row:
            record["id"] = None if _blank(row[col["id"]]) else row[col["id"]]
        for field in _JSON_FIELDS:
            if col[field] in row and not _blank(row[col[field]]):
                record[field] = _json_cell(field, col[field], row[col[field]])
        if col["context"] in row and not _blank(row[col["context"]]):
            record["context"] = _context(col["context"], row[col["context"]])
    except ValueError as e:
        return RowError(number, None, str(e), unit)
    if "messages" not in record:
        turns = _conversation(row, mapping)
        if turns is None:
            return RowError(number, "messages", (
                "'messages' is missing: no messages column and no user/assistant text "
                "(map columns with --map messages=COLUMN or --map user=COLUMN --map assistant=COLUMN)"),
                unit)
        record["messages"] = turns
    used = set(col.values())
    extra = {k: v for k, v in row.items() if k not in used and not _blank(v)}
    if extra:
        meta = record.get("metadata")
        record["metadata"] = {**extra, **meta} if isinstance(meta, dict) else {**extra}
        if meta is not None and not isinstance(meta, dict):
            record["metadata"] = meta  # let validation name the wrong type
    return record
