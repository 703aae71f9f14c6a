"""Turning read rows into storage-ready rows: mapping, validation, canonical JSON and hash.
For a large JSONL file this CPU-bound work runs in worker processes (Python's JSON decoding,
validation and canonical encoding cost ~60 µs of CPU per 2 KB transcript, one core each)."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from core.mapping import map_row
from core.readers import Progress, RawRow, jsonl_batches, parse_jsonl_line
from core.records import PreparedRow, RowError, normalize, prepare, validation_errors

Checked = tuple[RawRow, PreparedRow | RowError]
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
_BATCH_LINES = 2000


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
        slim = RawRow(raw.number, raw.unit, None, raw.text, raw.error)
        yield slim, (rec if isinstance(rec, RowError) else _prepare(rec, raw))


def _prepare(record: dict[str, Any], raw: RawRow) -> PreparedRow | RowError:
    try:
        return prepare(record)
    except UnicodeEncodeError as e:  # JSON escapes like "\ud800" decode to unpaired surrogates
        bad = f"\\u{ord(e.object[e.start]):04x}"
        return RowError(raw.number, None, f"text holds an unpaired surrogate ({bad}): not valid "
                        "Unicode", raw.unit)


def _check_batch(batch: list[tuple[int, bytes]], mapping: dict[str, str]) -> list[Checked]:
    rows = (parse_jsonl_line(n, raw) for n, raw in batch)
    return list(checked_rows((r for r in rows if r is not None), "jsonl", mapping))


def default_workers(path: Path, fmt: str) -> int:
    """Worker processes for this file: none for small files, non-JSONL formats or machines
    with fewer than 4 CPUs (measured on 2: spawn and pickling cost more than they save);
    else one per CPU but one, which stays for DuckDB and the de-duplication."""
    cpus = os.cpu_count() or 1
    if fmt != "jsonl" or cpus < 4 or path.stat().st_size < PARALLEL_MIN_BYTES:
        return 0
    return min(cpus - 1, 7)


def checked_jsonl_parallel(path: Path, mapping: dict[str, str], workers: int,
                           progress: Progress | None = None) -> Iterator[Checked]:
    """Like checked_rows over a JSONL file, with the work spread over `workers` processes.
    Order is kept, and at most 2 batches per worker are in flight (memory stays flat)."""
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe with DuckDB's threads
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        pending: deque[Future] = deque()
        for batch in jsonl_batches(path, _BATCH_LINES, progress):
            pending.append(pool.submit(_check_batch, batch, mapping))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
