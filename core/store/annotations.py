"""The append-only `annotations` table. A change, an undo or an adjudication is a new row.
Every row enters through `add_annotation` (one: a label saved in Annotate, an adjudication, an
undo) or `add_annotations` (a batch: imported labels, the demo's), both on the one insert below."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from core.errors import DatabaseError, NotFound, UsageError
from core.store.connection import Database, utcnow

log = logging.getLogger("triage.store")
KINDS = ("label", "adjudication", "retraction", "skip")
CONTEXT_PRESENT = ("yes", "no", "unknown")
SEVERITIES = ("low", "medium", "high")
INSERT_COLUMNS = (
    "annotation_id, transcript_id, annotator, kind, primary_label, secondary_labels, "
    "context_present, severity, failure_turn, ideal_response, note, queue, sample_id, "
    "prelabel_visible, duration_ms, taxonomy_name, taxonomy_version, created_at, retracts, origin"
)
_NAMES = [c.strip() for c in INSERT_COLUMNS.split(",")]
def _arrow_types() -> dict:
    import pyarrow as pa  # here: every page imports this module, only bulk inserts need Arrow

    return {"secondary_labels": pa.list_(pa.string()), "failure_turn": pa.int32(),
            "prelabel_visible": pa.bool_(), "duration_ms": pa.int64(),
            "created_at": pa.timestamp("us")}
# What a refused write is called in its message ("Could not save the label for t1: …").
_NOUN = {"adjudication": "adjudication", "retraction": "undo"}


@dataclass(frozen=True)
class NewAnnotation:
    """A human judgement about one transcript, before it is stored."""

    transcript_id: str
    annotator: str
    kind: str = "label"
    primary_label: str | None = None
    secondary_labels: tuple[str, ...] = ()
    context_present: str | None = None
    severity: str | None = None
    failure_turn: int | None = None
    ideal_response: str | None = None
    note: str | None = None
    queue: str | None = None
    sample_id: str | None = None
    prelabel_visible: bool | None = None
    duration_ms: int | None = None
    taxonomy_name: str | None = None
    taxonomy_version: str | None = None
    retracts: str | None = None
    origin: str = "app"
    created_at: datetime | None = None
    annotation_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class Annotation:
    """A stored annotation row."""

    annotation_id: str
    transcript_id: str
    annotator: str
    kind: str
    primary_label: str | None
    secondary_labels: tuple[str, ...]
    context_present: str | None
    severity: str | None
    failure_turn: int | None
    ideal_response: str | None
    note: str | None
    queue: str | None
    sample_id: str | None
    prelabel_visible: bool | None
    duration_ms: int | None
    taxonomy_name: str | None
    taxonomy_version: str | None
    created_at: datetime
    retracts: str | None
    origin: str | None


def check_annotation(a: NewAnnotation, valid_labels: list[str]) -> None:
    """Reject what the table's meaning forbids, with a message naming the field."""
    from core.errors import UnknownLabel

    if a.kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, got {a.kind!r}")
    if not a.annotator or not a.annotator.strip():
        raise UsageError("annotator is required")
    if a.kind in ("label", "adjudication"):
        if not a.primary_label:
            raise UsageError(f"a {a.kind} needs a primary_label")
        for label in (a.primary_label, *a.secondary_labels):
            if label not in valid_labels:
                raise UnknownLabel(label, valid_labels)
    if a.kind == "retraction" and not a.retracts:
        raise UsageError("a retraction must name the annotation it retracts")
    if a.context_present is not None and a.context_present not in CONTEXT_PRESENT:
        raise UsageError(f"context_present must be one of {', '.join(CONTEXT_PRESENT)}")
    if a.severity is not None and a.severity not in SEVERITIES:
        raise UsageError(f"severity must be one of {', '.join(SEVERITIES)}")


def _params(a: NewAnnotation) -> list:
    """The INSERT parameters of one annotation, in INSERT_COLUMNS order."""
    return [
        a.annotation_id, a.transcript_id, a.annotator.strip(), a.kind, a.primary_label,
        list(a.secondary_labels), a.context_present, a.severity, a.failure_turn,
        a.ideal_response or None, a.note or None, a.queue, a.sample_id, a.prelabel_visible,
        a.duration_ms, a.taxonomy_name, a.taxonomy_version, a.created_at or utcnow(), a.retracts,
        a.origin,
    ]


def _insert(db: Database, annotations: Sequence[NewAnnotation]) -> None:
    """The one INSERT of annotation rows, in the caller's transaction if there is one. One
    row as VALUES; many as one Arrow table (row-by-row executemany takes ~1.5 ms a row)."""
    params = [_params(a) for a in annotations]
    con = db.con
    with db.transaction():
        if len(params) == 1:
            marks = ", ".join("?" * len(_NAMES))
            con.execute(f"INSERT INTO annotations ({INSERT_COLUMNS}) VALUES ({marks})", params[0])
            return
        import pyarrow as pa

        types = _arrow_types()
        frame = pa.table({name: pa.array([p[i] for p in params], types.get(name, pa.string()))
                          for i, name in enumerate(_NAMES)})
        con.register("_annotations_frame", frame)
        try:
            con.execute(f"INSERT INTO annotations ({INSERT_COLUMNS}) "
                        f"SELECT {INSERT_COLUMNS} FROM _annotations_frame")
        finally:
            con.unregister("_annotations_frame")


@contextmanager
def _write_refused(a: NewAnnotation) -> Iterator[None]:
    """A DuckDB failure while saving `a` → DatabaseError in plain words; the traceback goes
    to the log."""
    try:
        yield
    except duckdb.Error as e:
        log.exception("saving annotation %s failed", a.annotation_id)
        raise DatabaseError(
            f"Could not save the {_NOUN.get(a.kind, 'label')} for {a.transcript_id}: the "
            f"database refused the write ({type(e).__name__}).") from e


def add_annotation(db: Database, a: NewAnnotation, valid_labels: list[str], *,
                   retry: bool = False) -> str:
    """Append one annotation; returns its id. In its own committed transaction (when this
    returns, the row is on disk: DuckDB commits to its WAL first), or in the caller's when
    called inside `db.transaction()`. With `retry` (the row was tried before and may have
    landed), a row already stored is not stored twice. NotFound for an unknown transcript;
    a database failure comes back as DatabaseError in plain words."""
    with _write_refused(a):
        if retry and db.con.execute("SELECT 1 FROM annotations WHERE annotation_id = ?",
                                    [a.annotation_id]).fetchone():
            return a.annotation_id
        check_annotation(a, valid_labels)
        exists = db.con.execute(
            "SELECT 1 FROM transcripts WHERE transcript_id = ?", [a.transcript_id]).fetchone()
        if not exists:
            raise NotFound(f"no transcript with id {a.transcript_id!r}")
        _insert(db, [a])
    return a.annotation_id


def add_annotations(db: Database, annotations: Sequence[NewAnnotation],
                    valid_labels: list[str]) -> int:
    """Append many annotations at once (each checked as `add_annotation` checks it), in one
    transaction or the caller's; returns how many. The caller has made sure their transcripts
    exist (one lookup for the batch: `existing_ids`)."""
    for a in annotations:
        check_annotation(a, valid_labels)
    if annotations:
        _insert(db, annotations)
    return len(annotations)


def imported_label_keys(db: Database, transcript_ids: list[str]) -> set[tuple]:
    """(transcript_id, annotator, primary_label, created_at) of the labels already imported
    for these transcripts: a re-import of the same file adds nothing."""
    rows = db.con.execute(
        "SELECT a.transcript_id, a.annotator, a.primary_label, a.created_at FROM annotations a "
        "WHERE a.origin = 'import' AND a.kind = 'label' "
        "AND a.transcript_id IN (SELECT unnest(?::VARCHAR[]))", [transcript_ids]).fetchall()
    return set(rows)


def _row_to_annotation(r: tuple) -> Annotation:
    return Annotation(*r[:5], tuple(r[5] or ()), *r[6:])


def annotations_for(db: Database, transcript_id: str) -> list[Annotation]:
    """Every annotation row of one transcript, oldest first."""
    rows = db.con.execute(
        f"SELECT {INSERT_COLUMNS} FROM annotations WHERE transcript_id = ? ORDER BY created_at",
        [transcript_id],
    ).fetchall()
    return [_row_to_annotation(r) for r in rows]


def current_label(db: Database, transcript_id: str, annotator: str) -> Annotation | None:
    """This annotator's live label (or adjudication) on a transcript, if any."""
    row = db.con.execute(
        f"SELECT {INSERT_COLUMNS} FROM current_labels WHERE transcript_id = ? AND annotator = ?",
        [transcript_id, annotator],
    ).fetchone()
    return None if row is None else _row_to_annotation(row)


def retract_label(db: Database, transcript_id: str, annotator: str) -> str | None:
    """Undo: append a retraction of the annotator's live label on a transcript.
    Returns the retraction's id, or None when there was nothing to undo."""
    live = current_label(db, transcript_id, annotator)
    if live is None:
        return None
    r = NewAnnotation(transcript_id=transcript_id, annotator=annotator, kind="retraction",
                      retracts=live.annotation_id)
    return add_annotation(db, r, [])
