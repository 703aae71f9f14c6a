"""`triage annotations import`: human labels made elsewhere (a spreadsheet, another tool)
become annotation rows (kind 'label', origin 'import') under the active taxonomy.
Same rules as transcript import: per-row errors, a rejects file, one transaction."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from core.errors import ImportFailed, UnknownLabel, exit_code_for
from core.ingest.pipeline import (
    MAX_KEPT_ERRORS,
    RejectsFile,
    check_file,
    new_batch_id,
    refuse_demo_database,
)
from core.ingest.readers import RawRow, detect_format, read_rows
from core.ingest.records import RowError, describe_error
from core.store.annotations import NewAnnotation, add_annotations, imported_label_keys
from core.store.categories import register_taxonomy
from core.store.connection import Database
from core.store.settings import get_setting
from core.store.transcripts import existing_ids, transcript_ids_by_record
from core.taxonomy import Taxonomy, load_taxonomy


class _LabelRow(BaseModel):
    # Text is trimmed, except transcript_id: ids match exactly, as import stored them (a
    # trimmed " t1 " could name another transcript). Source names are trimmed at import too.
    # Other columns (an annotations export has annotation_id, queue, …) are ignored, and the
    # summary names them.
    model_config = ConfigDict(extra="ignore")
    transcript_id: str | int
    source: str | None = None  # then transcript_id is the record's id within that source
    annotator: str
    primary_label: str
    secondary_labels: list[str] = []
    context_present: Literal["yes", "no", "unknown"] | None = None
    severity: Literal["low", "medium", "high"] | None = None
    note: str | None = None
    failure_turn: int | None = None
    ideal_response: str | None = None
    created_at: datetime | None = None

    @field_validator("source", "annotator", "primary_label", "context_present", "severity",
                     "note", "ideal_response", mode="before")
    @classmethod
    def _trim(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) else v

    @field_validator("secondary_labels", mode="before")
    @classmethod
    def _json_list(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except json.JSONDecodeError as e:
                raise ValueError(f"must be a JSON array such as [\"noisy_context\"] ({e.msg})") from e
        return [x.strip() if isinstance(x, str) else x for x in v] if isinstance(v, list) else v

    @field_validator("annotator", "primary_label")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v:
            raise ValueError("must not be empty")
        return v


@dataclass
class LabelImportResult:
    """What an annotations import did."""

    file_name: str
    rows_read: int = 0
    rows_imported: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejects_path: Path | None = None
    taxonomy: str = ""
    ignored_columns: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 nothing rejected, 1 some rows rejected, 2 nothing applied."""
        return exit_code_for(self.rows_rejected, self.rows_imported + self.rows_duplicate)

    def summary(self, max_errors: int = 10) -> list[str]:
        """The one-screen report."""
        lines = [f"{self.file_name}: labels under taxonomy {self.taxonomy}",
                 f"  rows read   {self.rows_read:>9,}", f"  imported    {self.rows_imported:>9,}",
                 f"  duplicates  {self.rows_duplicate:>9,}  (already imported)",
                 f"  rejected    {self.rows_rejected:>9,}"]
        if self.ignored_columns:
            lines.append(f"ignored columns (not label fields): {', '.join(self.ignored_columns)}")
        if self.rejects_path:
            lines.append(f"rejected rows written to {self.rejects_path}")
        lines += [f"  {self.file_name}: {e}" for e in self.errors[:max_errors]]
        return lines


def _blank_to_none(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in row.items()}


@dataclass(frozen=True)
class _Parsed:
    annotation: NewAnnotation
    source: str | None  # set: annotation.transcript_id is a record id in this source


def parse_label_row(raw: RawRow, taxonomy: Taxonomy) -> _Parsed | RowError:
    """One input row → an annotation to store, or what is wrong with it."""
    if raw.error:
        return raw.error
    if not isinstance(raw.value, dict):
        return RowError(raw.number, None, "a label row must be an object", raw.unit)
    kind = raw.value.get("kind")
    if kind not in (None, "", "label"):
        return RowError(raw.number, "kind", f"kind {kind!r}: only labels can be imported "
                        "(adjudications, retractions and skips belong to the database they were "
                        "made in)", raw.unit)
    try:
        row = _LabelRow.model_validate(_blank_to_none(raw.value))
    except ValidationError as e:
        msgs = [describe_error(err) for err in e.errors(include_url=False)]
        return RowError(raw.number, msgs[0][0], "; ".join(m for _, m in msgs), raw.unit)
    for label in (row.primary_label, *row.secondary_labels):
        if label not in taxonomy.keys:
            field_name = "primary_label" if label == row.primary_label else "secondary_labels"
            return RowError(raw.number, field_name, str(UnknownLabel(label, taxonomy.keys)), raw.unit)
    return _Parsed(NewAnnotation(
        transcript_id=str(row.transcript_id), annotator=row.annotator, kind="label",
        primary_label=row.primary_label, secondary_labels=tuple(row.secondary_labels),
        context_present=row.context_present, severity=row.severity, note=row.note,
        failure_turn=row.failure_turn, ideal_response=row.ideal_response, taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version, origin="import",
        # No created_at in the file: stored as the import time (add_annotations), and matched
        # on (transcript, annotator, label) alone, so re-importing the file adds nothing.
        created_at=_naive_utc(row.created_at) if row.created_at else None), row.source)


def _ignored_columns(rows: Any) -> tuple[str, ...]:
    """Columns of the file that are not label fields, in first-seen order."""
    known = {*_LabelRow.model_fields, "kind"}
    seen: dict[str, None] = {}
    for raw in rows:
        if isinstance(raw.value, dict):
            seen.update(dict.fromkeys(k for k in raw.value if k not in known))
    return tuple(seen)


def _naive_utc(t: datetime) -> datetime:
    """As stored in TIMESTAMP columns: UTC without tzinfo (a zone-less time is taken as UTC)."""
    return t if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None)


def _key(a: NewAnnotation) -> tuple:
    return (a.transcript_id, a.annotator, a.primary_label, a.created_at)


def _resolve(db: Database, parsed: list[tuple[RawRow, _Parsed | RowError]]
             ) -> list[tuple[RawRow, NewAnnotation | RowError]]:
    """Rows that name a source carry the record's id: find the transcript id it was stored
    under (they differ when another source used the id first)."""
    keys = [(p.source, p.annotation.transcript_id) for _, p in parsed
            if isinstance(p, _Parsed) and p.source]
    found = transcript_ids_by_record(db, keys)
    out: list[tuple[RawRow, NewAnnotation | RowError]] = []
    for raw, p in parsed:
        if isinstance(p, RowError) or not p.source:
            out.append((raw, p if isinstance(p, RowError) else p.annotation))
        elif (tid := found.get((p.source, p.annotation.transcript_id))) is None:
            out.append((raw, RowError(raw.number, "transcript_id", (
                f"unknown transcript: no id {p.annotation.transcript_id!r} in source "
                f"{p.source!r} (import the transcript first, or check the source)"), raw.unit)))
        else:
            out.append((raw, replace(p.annotation, transcript_id=tid)))
    return out


def _classify(db: Database, parsed: list[tuple[RawRow, NewAnnotation | RowError]],
              result: LabelImportResult, sink: RejectsFile) -> list[NewAnnotation]:
    """Reject unknown transcripts, count duplicates; return the annotations to insert."""
    anns = [a for _, a in parsed if isinstance(a, NewAnnotation)]
    known = existing_ids(db, [a.transcript_id for a in anns])
    seen = imported_label_keys(db, [a.transcript_id for a in anns])
    timeless = {k[:3] for k in seen}
    keep = []
    for raw, a in parsed:
        if isinstance(a, NewAnnotation) and a.transcript_id not in known:
            a = RowError(raw.number, "transcript_id", f"unknown transcript_id {a.transcript_id!r} "
                         "(import the transcript first)", raw.unit)
        if isinstance(a, RowError):
            result.rows_rejected += 1
            if len(result.errors) < MAX_KEPT_ERRORS:
                result.errors.append(a)
            sink.write(raw, a)
        elif _key(a) in seen or (a.created_at is None and _key(a)[:3] in timeless):
            result.rows_duplicate += 1
        else:
            seen.add(_key(a))
            timeless.add(_key(a)[:3])
            keep.append(a)
    return keep


def import_labels(db: Database, path: Path | str, fmt: str = "auto",
                  rejects: Path | str | None = None) -> LabelImportResult:
    """Import human labels from CSV/JSONL in one transaction. Raises ImportFailed (nothing
    stored) for an empty or unreadable file or when every row is rejected; DemoDatabase into
    the bundled demo's database."""
    started, path = time.perf_counter(), Path(path)
    refuse_demo_database(db)
    check_file(path)
    fmt = detect_format(path, fmt)
    taxonomy = load_taxonomy(get_setting(db, "active_taxonomy"))
    register_taxonomy(db, taxonomy)
    result = LabelImportResult(path.name, taxonomy=f"{taxonomy.name} {taxonomy.version}")
    sink = RejectsFile(Path(rejects) if rejects else
                    db.path.parent / "rejects" / f"annotations-{new_batch_id()}.jsonl")
    try:
        parsed = [(raw, parse_label_row(raw, taxonomy)) for raw in read_rows(path, fmt)]
        result.rows_read = len(parsed)
        result.ignored_columns = _ignored_columns(raw for raw, _ in parsed)
        keep = _classify(db, _resolve(db, parsed), result, sink)
        result.rows_imported = len(keep)
        if not parsed:
            raise ImportFailed(f"{path.name}: no rows found; nothing to import")
        if result.exit_code == 2:
            raise ImportFailed(f"{path.name}: all {result.rows_rejected:,} rows rejected; nothing "
                               f"imported. First: {result.errors[0]}. Rejected rows: {sink.path}")
        add_annotations(db, keep, taxonomy.keys)
    finally:
        result.rejects_path = sink.close()
    result.seconds = time.perf_counter() - started
    return result
