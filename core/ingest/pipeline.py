"""Importing transcripts, the one way they enter the database: reader → records → validation
→ store. `import_rows` takes the rows of any reader (the file readers, the demo's bundled
JSONL; later trace readers or a bulk path plug in here), validates each, drops duplicates
(same id and same content, or content already stored under another id or source), rejects
conflicts, and stores the rest in one transaction with its `import_batches` row. Rejected
rows go to a JSONL rejects file. `import_file` is that for one file."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from core.errors import DemoDatabase, ImportFailed, UsageError, exit_code_for
from core.ingest.filecheck import count_lines
from core.ingest.readers import (
    TRACE_FORMATS,
    Progress,
    RawRow,
    columns_of,
    detect_format,
    read_rows,
)
from core.ingest.records import PreparedRow, RowError, transcript_columns
from core.ingest.rows import Checked, checked_rows, to_record
from core.store.batches import Batch, record_batch
from core.store.connection import Database, utcnow
from core.store.demo_rows import DEMO_SOURCE, demo_counts
from core.store.transcripts import (
    existing_hashes,
    existing_ids,
    insert_transcripts,
    stored_records,
)

CHUNK_ROWS = 5000
DEFAULT_SOURCE = "default"  # ids are unique per source: files imported without one share it
MAX_KEPT_ERRORS = 1000
# A bulk load keeps its uncommitted rows in memory; a lower buffer limit during the load makes
# DuckDB evict what it can. Measured peak RSS, 100k × 2 KB rows: 400MB → ~910 MB, 100MB → ~630
# (read_json_auto's own: ~580), for ~15% more CPU. A chunk holding a large transcript raises
# the limit while it is stored (DuckDB needs a few times the row's size in one piece).
IMPORT_MEMORY_LIMIT_MB = 100
IMPORT_MEMORY_LIMIT = f"{IMPORT_MEMORY_LIMIT_MB}MB"


def chunk_memory_limit(rows: list[PreparedRow]) -> str:
    """The memory limit to store these rows under: the import's, plus 16 bytes per character
    of the largest row (a character is up to 4 bytes, and DuckDB copies a row a few times)."""
    largest = max((len(p.messages) + len(p.context or "") + len(p.tools or "") + len(p.metadata)
                   for p in rows), default=0)
    return f"{IMPORT_MEMORY_LIMIT_MB + -(-largest * 16 // 1_000_000)}MB"


@dataclass
class ImportResult:
    """What an import did: counts, the first errors, where the rejected rows went."""

    batch_id: str
    file_name: str
    format: str
    source: str
    rows_read: int = 0
    rows_imported: int = 0
    duplicates_by_id: int = 0
    duplicates_by_content: int = 0
    rows_rejected: int = 0
    ids_qualified: int = 0  # imported as `<source>/<id>`: another source holds that id
    qualified_examples: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rejects_path: Path | None = None
    seconds: float = 0.0
    lines: int | None = None  # physical lines of a line-based file (CSV, JSONL), else None

    @property
    def rows_duplicate(self) -> int:
        return self.duplicates_by_id + self.duplicates_by_content

    def _lines_note(self) -> str:
        # Beside the rows: a quote that swallowed rows shows as far fewer rows than lines.
        if self.lines is None:
            return ""
        header = ", header included" if self.format == "csv" else ""
        return f"  (from {self.lines:,} {'line' if self.lines == 1 else 'lines'} in the file{header})"

    @property
    def exit_code(self) -> int:
        """0 nothing rejected (duplicates only is fine), 1 some rows rejected, 2 none applied."""
        return exit_code_for(self.rows_rejected, self.rows_imported + self.rows_duplicate)

    def summary(self, max_errors: int = 10) -> list[str]:
        """The one-screen report the CLI prints and the Import page shows."""
        lines = [
            f"{self.file_name} ({self.format}, source {self.source!r}) → batch {self.batch_id}",
            f"  rows read   {self.rows_read:>9,}{self._lines_note()}",
            f"  imported    {self.rows_imported:>9,}",
            f"  duplicates  {self.rows_duplicate:>9,}  ({self.duplicates_by_id:,} same id and "
            f"content, {self.duplicates_by_content:,} same content as another transcript)",
            f"  rejected    {self.rows_rejected:>9,}",
            f"  time        {self.seconds:>9.1f} s",
        ]
        if self.ids_qualified:
            n = self.ids_qualified
            shown = ", ".join(repr(t) for t in self.qualified_examples) + (", …" if n > 3 else "")
            lines.append(f"{n:,} {'id was' if n == 1 else 'ids were'} already used by another "
                         f"source; {'that transcript is' if n == 1 else 'those are'} stored as "
                         f"{shown} (record_id keeps the id as written)")
        if self.rejects_path:
            lines.append(f"rejected rows written to {self.rejects_path}")
        if self.errors:
            lines.append("first errors:")
            lines += [f"  {self.file_name}: {e}" for e in self.errors[:max_errors]]
            more = self.rows_rejected - min(len(self.errors), max_errors)
            if more > 0:
                lines.append(f"  … and {more:,} more rejected rows (see the rejects file)")
        return lines


@dataclass(frozen=True)
class Preview:
    """The first rows of a file as records, before anything is stored (the Import page)."""

    format: str
    columns: list[str] | None
    records: list[dict[str, Any]]
    errors: list[RowError]


def source_name(source: str | None) -> str:
    """The source a batch goes to: the name given, trimmed; `default` when none was given."""
    if source is None:
        return DEFAULT_SOURCE
    if not source.strip():
        raise UsageError("the source name is blank: give a name, or leave --source out to use "
                         f"{DEFAULT_SOURCE!r}")
    return source.strip()


def refuse_demo_database(db: Database, source: str | None = None) -> None:
    """The demo lives apart: DemoDatabase when `db` holds demo transcripts, and UsageError for
    the source name `demo`, which marks the bundled demo's rows. Every import path (files,
    uploads, labels, traces) goes through here; only the demo loader itself is let by."""
    if source == DEMO_SOURCE:
        raise UsageError(f"the source name {DEMO_SOURCE!r} is reserved for the bundled demo; "
                         "give your logs another name (--source NAME)")
    counts = demo_counts(db)
    if counts.demo:
        raise DemoDatabase(str(db.path), counts.demo)


def new_batch_id() -> str:
    """Sortable and unique: UTC time plus a random suffix."""
    return f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def check_file(path: Path) -> None:
    """ImportFailed unless the file exists, is readable and is not blank."""
    if path.is_dir():
        raise ImportFailed(f"{path} is a folder: import its files one at a time")
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    try:
        with path.open("rb") as f:
            head = f.read(1 << 16)
    except OSError as e:
        raise ImportFailed(f"{path}: cannot read ({e.strerror})") from e
    if not head.strip():
        raise ImportFailed(f"{path.name}: the file is empty; nothing to import")


def _check_mapping(path: Path, fmt: str, mapping: dict[str, str]) -> None:
    if mapping and fmt in TRACE_FORMATS:
        raise UsageError(f"{path.name}: --map is for CSV/Parquet columns; a {fmt} file maps "
                         "its traces itself (see docs/traces.md)")
    columns = columns_of(path, fmt)
    if columns is None:
        return
    missing = [f"--map {f}={c}" for f, c in mapping.items() if c not in columns]
    if missing:
        raise UsageError(f"{path.name}: no column for {', '.join(missing)}; "
                         f"columns: {', '.join(columns)}")


PREVIEW_TRACE_VALUES = 5000  # a trace preview groups the spans of the file's first lines


def preview_file(path: Path | str, fmt: str = "auto", mapping: dict[str, str] | None = None,
                 n: int = 20, group_by: str = "trace") -> Preview:
    """Read and validate the first `n` rows without storing anything (for trace formats: the
    traces found in the first PREVIEW_TRACE_VALUES lines or items)."""
    path = Path(path)
    check_file(path)
    fmt = detect_format(path, fmt)
    mapping = mapping or {}
    _check_mapping(path, fmt, mapping)
    records, errors = [], []
    limit = PREVIEW_TRACE_VALUES if fmt in TRACE_FORMATS else None
    for i, raw in enumerate(read_rows(path, fmt, group_by=group_by, max_values=limit)):
        if i >= n:
            break
        rec = to_record(raw, fmt, mapping)
        (errors if isinstance(rec, RowError) else records).append(rec)
    return Preview(fmt, columns_of(path, fmt), records, errors)


def _chunks(rows: Iterable[Checked], size: int) -> Iterator[list[Checked]]:
    chunk: list[Checked] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class RejectsFile:
    """The rejects file (JSONL: where, error, field, original row), opened on the first reject."""

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            raise UsageError(f"rejects file {path} is a folder: give a file path")
        self.path = path
        self._f: TextIO | None = None

    def write(self, raw: RawRow, error: RowError) -> None:
        if self._f is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._f = self.path.open("w", encoding="utf-8")
            except OSError as e:  # rolls the import back: rejected rows must not be lost
                raise ImportFailed(f"cannot write the rejects file {self.path}: "
                                   f"{e.strerror or e}; nothing imported") from e
        self._f.write(json.dumps({raw.unit: raw.number, "error": error.message, "field": error.field,
                                  "row": raw.text}) + "\n")  # ASCII: safe for any text

    def close(self) -> Path | None:
        if self._f is None:
            return None
        self._f.close()
        return self.path


class _Importer:
    """The state of one import across chunks: record ids and hashes seen in this file."""

    def __init__(self, result: ImportResult, rejects: RejectsFile) -> None:
        self.result = result
        self.rejects = rejects
        self.seen_ids: dict[str, str] = {}
        self.seen_hashes: set[str] = set()
        self.imported_at = utcnow()

    def reject(self, raw: RawRow, error: RowError) -> None:
        self.result.rows_rejected += 1
        if len(self.result.errors) < MAX_KEPT_ERRORS:
            self.result.errors.append(error)
        self.rejects.write(raw, error)

    def run_chunk(self, db: Database, chunk: list[Checked]) -> None:
        """De-duplicate checked rows against this file and the database, insert what is new."""
        self.result.rows_read += len(chunk)
        valid: list[tuple[RawRow, PreparedRow]] = []
        for raw, rec in chunk:
            if isinstance(rec, RowError):
                self.reject(raw, rec)
            else:
                valid.append((raw, rec))
        stored = stored_records(db, self.result.source, [p.record_id for _, p in valid])
        stored_hashes = existing_hashes(db, [p.content_hash for _, p in valid])
        new = [p for raw, p in valid if self._is_new(raw, p, stored, stored_hashes)]
        db.adjust_memory_limit(chunk_memory_limit(new))
        insert_transcripts(db, transcript_columns(new, self._transcript_ids(db, new),
                                                  self.result.source, self.result.batch_id,
                                                  self.imported_at))
        self.result.rows_imported += len(new)

    def _is_new(self, raw: RawRow, p: PreparedRow, stored: dict[str, str],
                stored_hashes: set[str]) -> bool:
        known = stored.get(p.record_id) or self.seen_ids.get(p.record_id)
        if known is not None:
            if known == p.content_hash:
                self.result.duplicates_by_id += 1
            else:
                where = "the database" if p.record_id in stored else "an earlier row"
                self.reject(raw, RowError(raw.number, "id", (
                    f"id conflict: {p.record_id!r} is already in {where} with different "
                    f"content (ids are unique per source, here {self.result.source!r}: same id "
                    "must mean same conversation; give it a new id, or import logs from "
                    "another system with --source NAME)"), raw.unit))
            return False
        if p.content_hash in stored_hashes or p.content_hash in self.seen_hashes:
            self.result.duplicates_by_content += 1
            return False
        self.seen_ids[p.record_id] = p.content_hash
        self.seen_hashes.add(p.content_hash)
        return True

    def _transcript_ids(self, db: Database, rows: list[PreparedRow]) -> list[str]:
        """Each new row's database-wide id: its own id, or `<source>/<id>` (then `~2`, `~3`…)
        when another source already uses it. Rows of this import earlier in the transaction
        count as taken too. One lookup per round of candidates, not per row."""
        out = [""] * len(rows)
        taken: set[str] = set()
        pending, n = list(range(len(rows))), 0
        while pending:
            wanted = {i: self._qualified(rows[i].record_id, n) for i in pending}
            taken |= existing_ids(db, sorted(set(wanted.values()) - taken))
            still = []
            for i in pending:
                if wanted[i] in taken:
                    still.append(i)
                else:
                    out[i] = wanted[i]
                    taken.add(wanted[i])
            pending, n = still, n + 1
        for tid, p in zip(out, rows, strict=True):
            if tid != p.record_id:
                self.result.ids_qualified += 1
                if len(self.result.qualified_examples) < 3:
                    self.result.qualified_examples.append(tid)
        return out

    def _qualified(self, record_id: str, n: int) -> str:
        if n == 0:
            return record_id
        return f"{self.result.source}/{record_id}" + (f"~{n}" if n > 1 else "")


def import_rows(db: Database, rows: Iterable[RawRow], *, file_name: str, fmt: str, source: str,
                batch_id: str | None = None, mapping: dict[str, str] | None = None,
                rejects: Path | None = None, imported_by: str | None = None,
                bundled_demo: bool = False) -> ImportResult:
    """Import the rows of one reader as one batch (`file_name`, `fmt` and `source` are what the
    batch row records), in one transaction, or in the caller's when called inside
    `db.transaction()`. Rejected rows go to `rejects` (default: `rejects/<batch>.jsonl` beside
    the database). Raises ImportFailed, storing nothing, when there are no rows or every row
    is rejected; DemoDatabase into a database holding the demo (`bundled_demo`: the demo
    loader, the one caller allowed the source `demo`)."""
    if not bundled_demo:
        refuse_demo_database(db, source)
    started = time.perf_counter()
    result = ImportResult(batch_id or new_batch_id(), file_name, fmt, source)
    sink = RejectsFile(rejects or db.path.parent / "rejects" / f"{result.batch_id}.jsonl")
    importer = _Importer(result, sink)
    try:
        with db.transaction(memory_limit=IMPORT_MEMORY_LIMIT):
            for chunk in _chunks(checked_rows(rows, fmt, mapping or {}), CHUNK_ROWS):
                importer.run_chunk(db, chunk)
            _finish(db, result, imported_by, sink)
    finally:
        result.rejects_path = sink.close()
    result.seconds = time.perf_counter() - started
    return result


def import_file(db: Database, path: Path | str, *, source: str | None = None,
                fmt: str = "auto", mapping: dict[str, str] | None = None,
                rejects: Path | str | None = None, imported_by: str | None = None,
                progress: Progress | None = None, group_by: str = "trace") -> ImportResult:
    """Import one file as one batch, in one transaction. Returns the counts; raises
    ImportFailed (nothing stored) when the file is empty or unreadable or every row is rejected.
    Trace formats make one transcript per trace (per session with group_by='session')."""
    path = Path(path)
    refuse_demo_database(db, source_name(source))  # before reading a large file, not after
    check_file(path)
    fmt = detect_format(path, fmt)
    mapping = mapping or {}
    _check_mapping(path, fmt, mapping)
    result = import_rows(db, read_rows(path, fmt, progress, group_by), file_name=path.name,
                         fmt=fmt, source=source_name(source), mapping=mapping,
                         rejects=Path(rejects) if rejects else None, imported_by=imported_by)
    if fmt in ("csv", "jsonl"):
        result.lines = count_lines(path)
    return result


def _finish(db: Database, result: ImportResult, imported_by: str | None, sink: RejectsFile) -> None:
    """Record the batch, or raise (rolling everything back) when nothing can be applied."""
    if result.rows_read == 0:
        raise ImportFailed(f"{result.file_name}: no rows found; nothing to import")
    if result.exit_code == 2:
        first = f" First: {result.errors[0]}." if result.errors else ""
        raise ImportFailed(
            f"{result.file_name}: all {result.rows_rejected:,} rows rejected; nothing imported."
            f"{first} Rejected rows: {sink.path}")
    record_batch(db, Batch(
        result.batch_id, result.file_name, result.format, result.source, result.rows_read,
        result.rows_imported, result.rows_duplicate, result.rows_rejected,
        str(sink.path) if result.rows_rejected else None, imported_by, utcnow()))
