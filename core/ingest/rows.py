"""Turning read rows into storage-ready rows: mapping, validation, canonical JSON and hash.
This CPU-bound work (JSON decoding, validation and canonical encoding: ~60 µs of CPU per 2 KB
transcript) is what bounds import speed; see benchmarks/import_bench.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from core.ingest.mapping import map_row
from core.ingest.readers import RawRow
from core.ingest.records import PreparedRow, RowError, normalize, prepare, validation_errors

Checked = tuple[RawRow, PreparedRow | RowError]


def to_record(raw: RawRow, fmt: str, mapping: dict[str, str]) -> dict[str, Any] | RowError:
    """A parsed row → a valid, normalised record, or the errors found (joined in one)."""
    if raw.error:
        return raw.error
    value = raw.value
    if (fmt in ("csv", "parquet") or mapping) and isinstance(value, dict):
        value = map_row(value, mapping, raw.number, raw.unit)
        if isinstance(value, RowError):
            return value
    errors = validation_errors(value, raw.number, raw.unit)
    if errors:
        message = "; ".join(e.message for e in errors)
        return RowError(raw.number, errors[0].field, message, raw.unit)
    return normalize(value)


def checked_rows(rows: Iterable[RawRow], fmt: str, mapping: dict[str, str]) -> Iterator[Checked]:
    """Each row validated and put in storage form at once, so parsed Python objects (several
    times the size of the text) never pile up; the kept RawRow holds only the text."""
    for raw in rows:
        rec = to_record(raw, fmt, mapping)
        slim = RawRow(raw.number, raw.unit, None, raw.text, raw.error, raw.plain)
        yield slim, (rec if isinstance(rec, RowError) else _prepare(rec, raw))


def _prepare(record: dict[str, Any], raw: RawRow) -> PreparedRow | RowError:
    try:
        return prepare(record, raw.plain)
    except UnicodeEncodeError as e:  # JSON escapes like "\ud800" decode to unpaired surrogates
        bad = f"\\u{ord(e.object[e.start]):04x}"
        return RowError(raw.number, None, f"text holds an unpaired surrogate ({bad}): not valid "
                        "Unicode", raw.unit)
