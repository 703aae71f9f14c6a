"""Adjudication: a third person settles a disagreement between two reviewers.

The decision is an annotation of kind `adjudication`; `final_labels` then says `adjudicated`.
Someone who labeled the transcript may not adjudicate it: their adjudication would replace
their own label in `current_labels` (one live judgement per annotator), so the agreement
figures would lose a label, and a reviewer would be judging their own call."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UsageError
from core.store.adjudication import final_status, live_labels, open_disagreement_ids
from core.store.annotations import Annotation, NewAnnotation, add_annotation
from core.store.connection import Database
from core.store.transcripts import Transcript, get_transcript
from core.taxonomy import Taxonomy


@dataclass(frozen=True)
class Disagreement:
    """One open disagreement: the transcript and each annotator's live label on it."""

    transcript: Transcript
    labels: tuple[Annotation, ...]

    @property
    def annotators(self) -> list[str]:
        """Who labeled it, in the order they did."""
        return [a.annotator for a in self.labels]


def open_disagreements(db: Database, adjudicator: str | None = None) -> list[str]:
    """Ids of the active transcripts in open disagreement, oldest disagreement first; with
    `adjudicator`, only those they may adjudicate (they did not label them)."""
    return open_disagreement_ids(db, adjudicator)


def load_disagreement(db: Database, transcript_id: str) -> Disagreement:
    """The transcript and the labels in conflict (NotFound for an unknown id)."""
    return Disagreement(get_transcript(db, transcript_id), tuple(live_labels(db, transcript_id)))


def adjudicate(db: Database, transcript_id: str, adjudicator: str, label: str,
               note: str | None, taxonomy: Taxonomy) -> str:
    """Record the adjudicator's decision on an open disagreement; returns the annotation id."""
    status = final_status(db, transcript_id)
    if status != "disagreement":
        raise UsageError(f"{transcript_id!r} is not an open disagreement (its status is "
                         f"{status or 'unlabeled'}); nothing to adjudicate")
    labelers = [a.annotator for a in live_labels(db, transcript_id)]
    if adjudicator.strip() in labelers:
        raise UsageError(f"{adjudicator!r} labeled {transcript_id!r}; a reviewer who is not one "
                         f"of {', '.join(labelers)} must adjudicate it")
    decision = NewAnnotation(
        transcript_id=transcript_id, annotator=adjudicator, kind="adjudication",
        primary_label=label, note=(note or "").strip() or None, queue="adjudication",
        taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version)
    return add_annotation(db, decision, taxonomy.keys)


def disagreements_phrase(n: int) -> str:
    """'1 open disagreement', '4 open disagreements'."""
    return f"{n} open disagreement{'' if n == 1 else 's'}"
