"""Reading import files row by row (JSONL, JSON array, CSV, Parquet) and mapping tabular
columns onto the transcript record. Streams: memory stays flat however long the file is."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from core.errors import ImportFailed, UsageError
from core.ingest.fastcheck import scan_numbers
from core.ingest.filecheck import csv_quote_error, refuse_non_text
from core.ingest.records import RowError
from core.ingest.traces.reader import GROUP_BY, TRACE_FORMATS, read_traces, sniff_file

FORMATS = ("auto", "jsonl", "json", "csv", "parquet", *TRACE_FORMATS)
MAP_FIELDS = ("id", "messages", "system", "user", "assistant", "context", "metadata", "tools")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
               ".parquet": "parquet", ".pq": "parquet"}
Progress = Callable[[float, int], None]


@dataclass(frozen=True)
class RawRow:
    """One input row: its number, its unit ('line', 'item', 'row'), the parsed value (or
    the error that stopped parsing), and its text for the rejects file."""

    number: int
    unit: str
    value: Any
    text: str
    error: RowError | None = None
    plain: bool = False  # the value holds only JSON's plain types, no float (see fastcheck)


def detect_format(path: Path, fmt: str = "auto") -> str:
    """The file's format: as given, else from its extension or first byte, and for JSON and
    Parquet from its first value (or columns) when that is a trace format."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    refuse_non_text(path, fmt)  # before any reader prints a byte of it back
    if fmt != "auto":
        return fmt
    base = _container_format(path)
    refuse_non_text(path, base)  # e.g. a Parquet file named .csv
    if base == "parquet":
        return sniff_file(path, columns_of(path, "parquet")) or base
    if base in ("json", "jsonl"):
        return sniff_file(path) or base
    return base


def _container_format(path: Path) -> str:
    by_ext = _EXTENSIONS.get(path.suffix.lower())
    if by_ext in ("jsonl", "csv", "parquet"):
        return by_ext
    with path.open("rb") as f:
        head = f.read(4096).lstrip()
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:1] == b"[":
        return "json"
    if head[:1] == b"{":
        return "jsonl"
    if by_ext:
        return by_ext
    raise UsageError(f"{path.name}: cannot tell the format (not JSON, JSONL, CSV or Parquet by "
                     "name or content); pass --format")


def parse_mapping(pairs: list[str] | None) -> dict[str, str]:
    """['id=ticket_id', ...] → {'id': 'ticket_id'}; UsageError on an unknown field."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        field, sep, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise UsageError(f"--map {pair!r}: expected FIELD=COLUMN, e.g. id=ticket_id")
        if field not in MAP_FIELDS:
            raise UsageError(f"--map {pair!r}: unknown field {field!r}; fields: {', '.join(MAP_FIELDS)}")
        mapping[field] = column
    return mapping


def _utf8_error(raw: bytes, e: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 (byte 0x{raw[e.start]:02x} at position {e.start})"


def parse_jsonl_line(number: int, raw: bytes) -> RawRow | None:
    """One JSONL line → its RawRow (None for a blank line)."""
    if number == 1:
        raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark, as some editors write
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = raw.decode("utf-8", "replace").rstrip("\n")
        return RawRow(number, "line", None, bad, RowError(number, None, _utf8_error(raw, e)))
    alike, no_float = scan_numbers(raw)
    if alike:  # orjson: twice as fast; json for what it refuses, and for the messages
        try:
            return RawRow(number, "line", orjson.loads(raw), text.rstrip("\n"), None, no_float)
        except orjson.JSONDecodeError:
            pass
    try:
        return RawRow(number, "line", json.loads(text), text.rstrip("\n"))
    except json.JSONDecodeError as e:
        msg = f"not valid JSON: {e.msg} (column {e.colno})"
        return RawRow(number, "line", None, text.rstrip("\n"), RowError(number, None, msg))


def jsonl_batches(path: Path, size: int, progress: Progress | None = None
                  ) -> Iterator[list[tuple[int, bytes]]]:
    """The file's lines, numbered, in batches of `size` (progress reported per batch)."""
    total = max(path.stat().st_size, 1)
    done, batch = 0, []
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            done += len(raw)
            batch.append((number, raw))
            if len(batch) >= size:
                yield batch
                batch = []
                if progress:
                    progress(done / total, number)
    if batch:
        yield batch


def _read_jsonl(path: Path, progress: Progress | None) -> Iterator[RawRow]:
    for batch in jsonl_batches(path, 2000, progress):
        for number, raw in batch:
            row = parse_jsonl_line(number, raw)
            if row is not None:
                yield row


def _read_json(path: Path, progress: Progress | None) -> Iterator[RawRow]:
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ImportFailed(f"{path.name}: {_utf8_error(raw, e)}") from e
    except json.JSONDecodeError as e:
        raise ImportFailed(f"{path.name}: not valid JSON: {e.msg} (line {e.lineno}, column "
                           f"{e.colno}; truncated file?)") from e
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ImportFailed(f"{path.name}: expected a JSON array of transcripts, got {type(data).__name__}")
    for number, item in enumerate(data, 1):
        if progress and number % 2000 == 0:
            progress(number / len(data), number)
        yield RawRow(number, "item", item, json.dumps(item, ensure_ascii=False, default=str))


def _csv_cells_ok(row: dict[str, Any]) -> str | None:
    for key, value in row.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"column {key!r} is not valid UTF-8"
    return None


def _read_csv(path: Path, progress: Progress | None) -> Iterator[RawRow]:
    csv.field_size_limit(sys.maxsize)
    total = max(path.stat().st_size, 1)
    # surrogateescape: a bad byte marks its row, instead of aborting the whole file.
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        # strict: a quote left open, or closed and followed by more text, raises instead of
        # silently swallowing the rows after it into one cell.
        reader = csv.DictReader(f, strict=True)
        opened = 1  # the line where the record being read began
        try:
            reader.fieldnames  # noqa: B018 (reads the header, so that line_num counts it)
            opened = reader.reader.line_num + 1
            for number, row in enumerate(reader, 1):
                if progress and number % 2000 == 0:
                    progress(f.buffer.tell() / total, number)
                yield _csv_row(number, row)
                opened = reader.reader.line_num + 1
        except csv.Error as e:
            raise csv_quote_error(path, _first_filled(path, opened), reader.reader.line_num,
                                  str(e)) from e


def _first_filled(path: Path, line: int) -> int:
    """The first non-blank line from `line` on (the csv reader skips blank lines)."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if number >= line and raw.strip():
                return number
    return line


def _csv_row(number: int, row: dict[str, Any]) -> RawRow:
    text = json.dumps(row, ensure_ascii=False, default=str).encode("utf-8", "replace").decode("utf-8")
    if None in row:
        return RawRow(number, "row", None, text,
                      RowError(number, None, "more cells than the header has columns", "row"))
    bad = _csv_cells_ok(row)
    return RawRow(number, "row", None if bad else row, text,
                  RowError(number, None, bad, "row") if bad else None)


def _open_parquet(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        raise ImportFailed(f"{path.name}: not a readable Parquet file ({e})") from e


def _read_parquet(path: Path, progress: Progress | None) -> Iterator[RawRow]:
    pf = _open_parquet(path)
    total = max(pf.metadata.num_rows, 1)
    number = 0
    for batch in pf.iter_batches(batch_size=5000):
        for row in batch.to_pylist():
            number += 1
            yield RawRow(number, "row", row, json.dumps(row, ensure_ascii=False, default=str))
        if progress:
            progress(number / total, number)


def _read_traces(path: Path, fmt: str, progress: Progress | None, group_by: str,
                 max_values: int | None) -> Iterator[RawRow]:
    if group_by not in GROUP_BY:
        raise UsageError(f"unknown --group-by {group_by!r}; use one of {', '.join(GROUP_BY)}")
    for row in read_traces(path, fmt, group_by, progress, max_values):
        yield RawRow(row.number, row.unit, row.value, row.text, row.error)


def read_rows(path: Path, fmt: str, progress: Progress | None = None, group_by: str = "trace",
              max_values: int | None = None) -> Iterator[RawRow]:
    """Every row of the file in order (for a trace format: one row per trace, or per session
    with group_by='session'; max_values reads only the start, for a preview). File-level
    problems raise ImportFailed."""
    if fmt in TRACE_FORMATS:
        return _read_traces(path, fmt, progress, group_by, max_values)
    readers = {"jsonl": _read_jsonl, "json": _read_json, "csv": _read_csv, "parquet": _read_parquet}
    return readers[fmt](path, progress)


def columns_of(path: Path, fmt: str) -> list[str] | None:
    """The header of a tabular file (None for JSON formats)."""
    if fmt == "csv":
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
            return next(csv.reader(f), [])
    if fmt == "parquet":
        return list(_open_parquet(path).schema_arrow.names)
    return None
