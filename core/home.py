"""The landing page's summary: where the team stands and what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.store.connection import Database, utcnow
from core.store.overview import final_label_counts, landing_overview
from core.taxonomy import Taxonomy


@dataclass(frozen=True)
class NextStep:
    """The one thing to do next: an action (import, annotate, adjudicate, report) and why."""

    action: str
    message: str


@dataclass(frozen=True)
class CategoryCount:
    """Final labels of one category."""

    key: str
    name: str
    fix_class: str
    n: int


@dataclass(frozen=True)
class LandingSummary:
    """Counts for the landing page."""

    active: int
    archived: int
    unlabeled: int
    labeled: int
    double_labeled: int
    disagreements: int
    prelabeled: int
    my_labels_today: int
    demo_loaded: bool
    next_step: NextStep
    by_category: tuple[CategoryCount, ...]


def next_step(active: int, unlabeled: int, disagreements: int) -> NextStep:
    """Import first, then label everything, then settle disagreements, then read the report."""
    if active == 0:
        return NextStep("import", "Import your transcripts: `triage import logs.jsonl`.")
    if unlabeled:
        return NextStep("annotate", f"Annotate: {unlabeled} of {active} transcripts have no label yet.")
    if disagreements:
        return NextStep("adjudicate", f"Adjudicate: {disagreements} transcripts have reviewers who "
                                      "disagree.")
    return NextStep("report", "Read the report: every transcript is labeled and settled.")


def category_counts(db: Database, taxonomy: Taxonomy,
                    counts: dict[str, int] | None = None) -> tuple[CategoryCount, ...]:
    """Final labels per category (`counts` by label key, read when not given), in the
    taxonomy's order (zeros included); labels of keys the taxonomy no longer has come last."""
    counts = dict(final_label_counts(db) if counts is None else counts)
    rows = [CategoryCount(c.key, c.name, c.fix_class, counts.pop(c.key, 0))
            for c in taxonomy.categories]
    rows += [CategoryCount(k, k, "unknown", n) for k, n in sorted(counts.items())]
    return tuple(rows)


def landing_summary(db: Database, taxonomy: Taxonomy, user: str,
                    now: datetime | None = None) -> LandingSummary:
    """Everything the landing page shows. `now` (naive UTC) sets what "today" is."""
    today = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    (active, archived, unlabeled, labeled, double, disagreements, prelabeled, mine,
     demo), by_label = landing_overview(db, user, today)
    return LandingSummary(active, archived, unlabeled, labeled, double, disagreements, prelabeled,
                          mine, bool(demo), next_step(active, unlabeled, disagreements),
                          category_counts(db, taxonomy, by_label))
