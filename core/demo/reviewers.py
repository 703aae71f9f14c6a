"""Two synthetic reviewers, maria and deniz, label the demo transcripts the way a real team
would: ~80% labeled (the rest waits on the Annotate page), 20% of those labeled by both,
blind, with a few plausible disagreements, two of which the lead adjudicated."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from core.store.overlap import overlap_among

REVIEWERS = ("maria", "deniz")
ADJUDICATOR = "lead"
LABELED_SHARE = 0.8
OVERLAP_SHARE = 0.2
N_DISAGREEMENTS = 6
N_ADJUDICATED = 2
SINGLE_ERROR_RATE = 0.05  # a lone reviewer sometimes picks the neighbouring category
BEHAVIOR = {"schema_format", "tone_policy", "escalation"}
START = datetime(2026, 11, 2, 8, 30)
DAYS = 12


def review(items: list[Any], rng: random.Random) -> list[dict[str, Any]]:
    """Annotation rows (label and adjudication) for generated items, oldest first.
    `items` have .record, .story (the truth) and .failure_index."""
    positions = range(len(items))
    labeled = sorted(rng.sample(positions, round(len(items) * LABELED_SHARE)))
    # The queues' own overlap rule at the default seed and share, so the app treats exactly
    # these as the double-labeled items (Browse and Annotate agree with the demo).
    double = overlap_among([items[i].record["id"] for i in labeled], 0, OVERLAP_SHARE)
    overlap = [i for i in labeled if items[i].record["id"] in double]
    candidates = [i for i in overlap if items[i].story.confusable != items[i].story.label]
    disagree = rng.sample(candidates, N_DISAGREEMENTS)
    rows = []
    for i in labeled:
        rows += _labels_for(rng, items[i], both=i in overlap, disagree=i in disagree)
    for i in disagree[:N_ADJUDICATED]:
        rows.append(_adjudication(rng, items[i]))
    rows.sort(key=lambda r: (r["created_at"], r["transcript_id"], r["annotator"]))
    for n, row in enumerate(rows, 1):
        row["annotation_id"] = f"demo-{n:04d}"
    return [{"annotation_id": r.pop("annotation_id"), **r} for r in rows]


def _labels_for(rng: random.Random, item: Any, both: bool, disagree: bool) -> list[dict]:
    truth, alt = item.story.label, item.story.confusable
    if not both:
        who = rng.choices(REVIEWERS, [55, 45])[0]
        label = alt if rng.random() < SINGLE_ERROR_RATE else truth
        return [_label(rng, item, who, label, _when(rng))]
    first, second = rng.sample(REVIEWERS, 2)
    return [_label(rng, item, first, truth, _when(rng)),
            _label(rng, item, second, alt if disagree else truth, _when(rng))]


def _when(rng: random.Random, first_day: int = 0, last_day: int = DAYS - 2) -> datetime:
    """A moment in a working day of the two-week labeling period."""
    return START + timedelta(days=rng.randint(first_day, last_day),
                             minutes=rng.randint(0, 8 * 60), seconds=rng.randint(0, 59))


def _duration_ms(rng: random.Random, item: Any) -> int:
    n_chars = sum(len(str(m.get("content") or "")) for m in item.record["messages"])
    seconds = rng.gauss(42, 15) + n_chars / 350
    return int(min(120.0, max(20.0, seconds)) * 1000) + rng.randint(0, 999)


def _label(rng: random.Random, item: Any, who: str, label: str, when: datetime) -> dict:
    story = item.story
    fails = label != "no_failure"
    secondary = list(story.secondary) if label == story.label and rng.random() < 0.6 else []
    if label != story.label and story.label != "no_failure" and rng.random() < 0.5:
        secondary = [story.label]  # unsure between the two
    note = story.note if story.note and rng.random() < 0.6 else None
    if label != story.label and rng.random() < 0.5:
        note = f"Hard call between {label} and {story.label}."
    return {
        "transcript_id": item.record["id"], "annotator": who, "kind": "label",
        "primary_label": label, "secondary_labels": [s for s in secondary if s != label],
        "context_present": story.context_present if rng.random() > 0.06 else "unknown",
        "severity": (story.severity if rng.random() > 0.15 else rng.choice(["low", "medium", "high"]))
        if fails else None,
        "failure_turn": item.failure_index if fails and rng.random() > 0.15 else None,
        "ideal_response": story.ideal if label in BEHAVIOR and story.ideal and rng.random() < 0.6
        else None,
        "note": note, "queue": "random", "prelabel_visible": rng.random() < 0.1,
        "duration_ms": _duration_ms(rng, item), "created_at": when.isoformat(timespec="seconds"),
    }


def _adjudication(rng: random.Random, item: Any) -> dict:
    story = item.story
    row = _label(rng, item, ADJUDICATOR, story.label, _when(rng, DAYS - 1, DAYS - 1))
    row.update(kind="adjudication", note=f"Adjudicated: {story.label}, not {story.confusable}.",
               prelabel_visible=False)
    return row
