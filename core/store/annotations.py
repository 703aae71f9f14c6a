"""The append-only `annotations` table. A change, an undo or an adjudication is a new row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import NotFound, UsageError
from core.store.connection import Database, utcnow

KINDS = ("label", "adjudication", "retraction", "skip")
CONTEXT_PRESENT = ("yes", "no", "unknown")
SEVERITIES = ("low", "medium", "high")
INSERT_COLUMNS = (
    "annotation_id, transcript_id, annotator, kind, primary_label, secondary_labels, "
    "context_present, severity, failure_turn, ideal_response, note, queue, sample_id, "
    "prelabel_visible, duration_ms, taxonomy_name, taxonomy_version, created_at, retracts, origin"
)


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


def annotation_params(a: NewAnnotation) -> list:
    """The INSERT parameters of one annotation, in INSERT_COLUMNS order."""
    return [
        a.annotation_id, a.transcript_id, a.annotator.strip(), a.kind, a.primary_label,
        list(a.secondary_labels), a.context_present, a.severity, a.failure_turn,
        a.ideal_response or None, a.note or None, a.queue, a.sample_id, a.prelabel_visible,
        a.duration_ms, a.taxonomy_name, a.taxonomy_version, a.created_at or utcnow(), a.retracts,
        a.origin,
    ]


def save_annotation(db: Database, a: NewAnnotation, valid_labels: list[str]) -> str:
    """Append one annotation in its own committed transaction; returns its id. When this
    returns, the row is on disk (DuckDB commits to its WAL before returning)."""
    check_annotation(a, valid_labels)
    exists = db.con.execute(
        "SELECT 1 FROM transcripts WHERE transcript_id = ?", [a.transcript_id]).fetchone()
    if not exists:
        raise NotFound(f"no transcript with id {a.transcript_id!r}")
    placeholders = ", ".join("?" * len(INSERT_COLUMNS.split(",")))
    with db.transaction() as con:
        con.execute(f"INSERT INTO annotations ({INSERT_COLUMNS}) VALUES ({placeholders})",
                    annotation_params(a))
    return a.annotation_id


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
    return save_annotation(db, r, [])
