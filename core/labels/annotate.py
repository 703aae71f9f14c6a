"""What the Annotate page does besides drawing: building label rows, saving them without ever
losing one, and deciding whether the reviewer may see the pre-label."""

from __future__ import annotations

from core.errors import DatabaseError
from core.labels.browse import SeenLabel
from core.labels.queues import QueueItem
from core.store.annotations import NewAnnotation, add_annotation
from core.store.connection import Database
from core.taxonomy import Taxonomy

DISPLAY_MODES = ("shown", "blind", "hidden")


def prelabel_mode(setting: str, is_overlap: bool) -> str:
    """How the pre-label is shown for this item: double-labeled items are at least blind."""
    if setting not in DISPLAY_MODES:
        setting = "shown"
    return "blind" if setting == "shown" and is_overlap else setting


def label_row(item: QueueItem, annotator: str, taxonomy: Taxonomy, primary: str, *,
              secondary: tuple[str, ...] = (), context_present: str | None = None,
              severity: str | None = None, failure_turn: int | None = None,
              ideal_response: str | None = None, note: str | None = None,
              prelabel_visible: bool = False, duration_ms: int | None = None) -> NewAnnotation:
    """The label row for a queue item. The ideal response is kept for behavior categories only."""
    if ideal_response and taxonomy.fix_class(primary) != "behavior":
        ideal_response = None
    return NewAnnotation(
        transcript_id=item.transcript_id, annotator=annotator, kind="label",
        primary_label=primary, secondary_labels=tuple(s for s in secondary if s != primary),
        context_present=context_present, severity=severity, failure_turn=failure_turn,
        ideal_response=(ideal_response or "").strip() or None, note=(note or "").strip() or None,
        queue=item.queue, sample_id=item.sample_id, prelabel_visible=prelabel_visible,
        duration_ms=duration_ms, taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version)


def skip_row(item: QueueItem, annotator: str, taxonomy: Taxonomy,
             duration_ms: int | None = None) -> NewAnnotation:
    """A skip: defers the item to the end of this reviewer's queue."""
    return NewAnnotation(
        transcript_id=item.transcript_id, annotator=annotator, kind="skip", queue=item.queue,
        sample_id=item.sample_id, duration_ms=duration_ms, taxonomy_name=taxonomy.name,
        taxonomy_version=taxonomy.version)


def already_labeled_note(seen: SeenLabel | None, taxonomy: Taxonomy) -> str | None:
    """What a reviewer who opens a transcript directly is told about the labels it already has:
    nothing when it has none, or when blindness hides them (pending second review)."""
    if seen is None or seen.status not in ("single", "agreed", "disagreement", "adjudicated"):
        return None
    if seen.label is None:
        what = "reviewers disagree (disagreement)"
    else:
        what = f"{taxonomy.name_of(seen.label)} ({seen.status})"
    if seen.mine:
        then = "Saving replaces your earlier label."
    elif seen.status == "adjudicated":
        then = "Saving adds your label beside it; the adjudication stays final."
    else:
        then = "Saving adds your label beside it."
    return f"Already labeled: {what}. {then}"


def submit(db: Database, row: NewAnnotation, valid_labels: list[str], retry: bool = False) -> str:
    """Save one annotation in its own committed transaction. With `retry` (the row was tried
    before and may have landed), a row already stored is not stored twice. Any database failure
    comes back as DatabaseError in plain words; the caller keeps the row and retries."""
    try:
        return add_annotation(db, row, valid_labels, retry=retry)
    except DatabaseError as e:
        raise DatabaseError(f"{str(e).rstrip('.')}. Your label is kept and will be retried.") from e
