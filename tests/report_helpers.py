"""Building labeled data for report tests through real storage: transcripts via
add_transcripts, annotations in one batch through add_annotations."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from core.store.annotations import NewAnnotation, add_annotations
from core.store.connection import Database
from core.taxonomy import Taxonomy, load_taxonomy
from tests.conftest import add_transcripts, make_record

T0 = datetime(2026, 3, 2, 9, 0)


def insert_annotations(db: Database, annotations: Iterable[NewAnnotation]) -> None:
    """Append many annotations (labels of the default taxonomy) in one transaction."""
    add_annotations(db, list(annotations), load_taxonomy("default").keys)


def ann(taxonomy: Taxonomy, tid: str, who: str, label: str, minute: int = 0,
        **extra) -> NewAnnotation:
    """A label made in the app from the random queue, unless `extra` says otherwise."""
    base = NewAnnotation(
        transcript_id=tid, annotator=who, primary_label=label, queue="random",
        taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version,
        created_at=T0 + timedelta(minutes=minute), annotation_id=f"{tid}-{who}-{minute}")
    return replace(base, **extra)


def labeled_set(db: Database, taxonomy: Taxonomy, counts: dict[str, int], start: int = 0,
                annotator: str = "ann", metadata: dict | None = None, spread: bool = False,
                **extra) -> list[str]:
    """Add transcripts and one label each: `counts` maps category → how many. Labels are made a
    minute apart in the order of `counts` (all of one category, then the next), unless `spread`
    shuffles their times (seeded): then category shares are steady over the labeling window."""
    labels = [k for k, n in counts.items() for _ in range(n)]
    minutes = list(range(len(labels)))
    if spread:
        random.Random(0).shuffle(minutes)
    ids = add_transcripts(db, [
        make_record(start + i, metadata=dict(metadata or {"channel": "web" if i % 2 else "email"}))
        for i in range(len(labels))])
    insert_annotations(db, [ann(taxonomy, tid, annotator, lab, minutes[i], **extra)
                            for i, (tid, lab) in enumerate(zip(ids, labels, strict=True))])
    return ids


def second_opinions(db: Database, taxonomy: Taxonomy, ids: list[str], labels: list[str],
                    annotator: str = "bob") -> None:
    """A second annotator's labels on existing transcripts (double labeling)."""
    insert_annotations(db, [ann(taxonomy, tid, annotator, lab, 1000 + i)
                            for i, (tid, lab) in enumerate(zip(ids, labels, strict=True))])
