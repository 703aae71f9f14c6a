"""Exports for analysts and for the next step (evaluation sets, a tuning seed): tables as
CSV / JSONL / Parquet, transcripts in the import record format so they re-import unchanged."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from core.analysts.eval_sets import export_eval_set, export_tuning_seed
from core.analysts.files import ExportResult, write_csv, write_jsonl
from core.errors import UsageError
from core.store.connection import Database
from core.store.exports import TABLE_QUERIES, read_table, records_for_export
from core.store.visibility import Viewer, hidden_counts

WHATS = (*TABLE_QUERIES, "eval-set", "tuning-seed")
FORMATS = ("csv", "jsonl", "parquet")
_BATCH = 2000


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def transcript_records(db: Database) -> Iterator[dict[str, Any]]:
    """Every transcript as the data contract's import record
    `{"id", "messages", "metadata", "context"?, "tools"?}` (absent keys left out)."""
    for r in records_for_export(db):
        rec: dict[str, Any] = {"id": r.transcript_id, "messages": _load(r.messages),
                               "metadata": _load(r.metadata) or {}}
        if r.context is not None:
            rec["context"] = _load(r.context)
        if r.tools is not None:
            rec["tools"] = _load(r.tools)
        yield rec


def _table_rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    for batch in table.to_batches(_BATCH):
        yield from batch.to_pylist()


def export_table(db: Database, what: str, fmt: str, path: Path,
                 viewer: Viewer | None = None) -> ExportResult:
    """One table or view to one file, as `viewer` may read it (None: everything).
    Transcripts in JSONL use the import record format."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if what == "transcripts" and fmt == "jsonl":
        return ExportResult({str(path): write_jsonl(transcript_records(db), path)})
    table = read_table(db, what, viewer)
    if fmt == "csv":
        write_csv(table, path)
    elif fmt == "parquet":
        pq.write_table(table, path)
    else:
        write_jsonl(_table_rows(table), path)
    return ExportResult({str(path): table.num_rows})


# Which exports carry labels (l) or pre-labels (p): what the visibility rule can leave out.
_CARRIES = {"annotations": "l", "final-labels": "l", "eval-set": "l", "tuning-seed": "l",
            "prelabels": "p"}


def left_out_note(db: Database, what: str, viewer: Viewer | None) -> str | None:
    """What the visibility rule leaves out of this export for `viewer`, in one sentence."""
    if viewer is None or what not in _CARRIES:
        return None
    labels, prelabels = hidden_counts(db, viewer)
    n = labels if _CARRIES[what] == "l" else prelabels
    if not n:
        return None
    what_of = "labels" if _CARRIES[what] == "l" else "pre-labels"
    why = ("overlap items that wait for your blind label" if _CARRIES[what] == "l" else
           "transcripts you have not labeled yet that are overlap items (shown blind for "
           "double-labeling) or, by the setting `prelabel_display`, any")
    return (f"The {what_of} of {n:,} transcript{'' if n == 1 else 's'} are left out: "
            f"{why}. You ({viewer.user!r}) label transcripts, so you read them as a reviewer "
            "does (docs/guide.md#roles); label them first, or ask an analyst who does not "
            "review for the whole export.")


def export(db: Database, what: str, fmt: str, output: Path, test_size: float = 0.5,
           seed: int = 0, viewer: Viewer | None = None) -> ExportResult:
    """Run one export, as `viewer` may read it (the visibility rule; None: everything).
    `eval-set` writes dev.jsonl and test.jsonl into the folder `output`; `tuning-seed` writes
    OpenAI fine-tuning JSONL. The result's warnings say what the rule left out."""
    result = _export(db, what, fmt, Path(output), test_size, seed, viewer)
    if note := left_out_note(db, what, viewer):
        return ExportResult(result.files, (*result.warnings, note))
    return result


def _export(db: Database, what: str, fmt: str, output: Path, test_size: float, seed: int,
            viewer: Viewer | None) -> ExportResult:
    if what not in WHATS:
        raise UsageError(f"--what must be one of {', '.join(WHATS)}, got {what!r}")
    if what in ("eval-set", "tuning-seed") and fmt != "jsonl":
        raise UsageError(f"{what} is written as JSONL only; use --format jsonl")
    if what == "eval-set":
        return export_eval_set(db, output, test_size, seed, viewer)
    if what == "tuning-seed":
        return export_tuning_seed(db, output, viewer)
    return export_table(db, what, fmt, output, viewer)


@dataclass(frozen=True)
class Download:
    """An export ready for a download button."""

    file_name: str
    data: bytes
    mime: str
    rows: int
    warnings: tuple[str, ...] = ()


_MIME = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}


def export_download(db: Database, what: str, fmt: str, test_size: float = 0.5,
                    seed: int = 0, viewer: Viewer | None = None) -> Download:
    """Run an export into a temporary folder, as `viewer` may read it, and return its bytes
    (eval-set: a zip of dev.jsonl and test.jsonl)."""
    import tempfile
    import zipfile

    name = what.replace("-", "_")
    with tempfile.TemporaryDirectory(prefix="triage-export-") as tmp:
        target = Path(tmp) / (name if what == "eval-set" else f"{name}.{fmt}")
        result = export(db, what, fmt, target, test_size, seed, viewer)
        rows = sum(result.files.values())
        if what != "eval-set":
            return Download(target.name, target.read_bytes(), _MIME[fmt], rows, result.warnings)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in result.files:
                z.write(path, Path(path).name)
        return Download(f"{name}.zip", buf.getvalue(), "application/zip", rows, result.warnings)
