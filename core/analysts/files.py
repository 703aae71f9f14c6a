"""Writing export files: JSONL lines (timestamps as ISO text), CSV with nested values as JSON
text, and what an export reports back. Shared by the table exports, the evaluation set and
the SQL page's downloads."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the files and how many rows each holds."""

    files: dict[str, int]
    warnings: tuple[str, ...] = ()


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def dumps(value: Any) -> str:
    """One JSONL line's text (timestamps as ISO strings, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def write_jsonl(rows: Iterable[dict[str, Any]], path: Path) -> int:
    """Write one JSON object per line; returns the number of lines."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(dumps(row) + "\n")
            n += 1
    return n


def _for_csv(table: pa.Table) -> pa.Table:
    """CSV has no lists: list and struct columns (secondary labels) become JSON text."""
    for i, field in enumerate(table.schema):
        if pa.types.is_nested(field.type):
            texts = [None if v is None else dumps(v) for v in table.column(i).to_pylist()]
            table = table.set_column(i, field.name, pa.array(texts, pa.string()))
    return table


def write_csv(table: pa.Table, path: Path) -> None:
    """An Arrow table as a CSV file (nested values as JSON text)."""
    pa_csv.write_csv(_for_csv(table), path)


def table_csv_bytes(table: pa.Table) -> bytes:
    """An Arrow table as CSV bytes (nested values as JSON text)."""
    buf = io.BytesIO()
    pa_csv.write_csv(_for_csv(table), buf)
    return buf.getvalue()
