"""The report's failures, counted: groups of included final labels (core/store/report_data.py
counts them in SQL) paired with their fix class, and the sums the report's sections take from
them. Counters keep the order of each group's first row, so ties come out as row by row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from core.store.report_data import LabelCount, SliceCount
from core.taxonomy import Taxonomy


def fix_class_of(row: LabelCount | SliceCount, taxonomy: Taxonomy) -> str | None:
    """The fix class recorded for the label's taxonomy version, else the current taxonomy's."""
    if row.fix_class or row.primary_label is None:
        return row.fix_class
    try:
        return taxonomy.fix_class(row.primary_label)
    except KeyError:
        return None


Failures = list[tuple[LabelCount, str]]


def n_failures(failures: Failures) -> int:
    """How many failing transcripts the (group, fix class) pairs hold."""
    return sum(g.n for g, _ in failures)


def failure_rows(rows: Sequence[LabelCount], taxonomy: Taxonomy) -> Failures:
    """(group, fix class) for every group of resolved labels whose fix class is not none."""
    out = []
    for r in rows:
        if r.primary_label is None:
            continue
        cls = r.fix_class or fix_class_of(r, taxonomy)
        if cls not in (None, "none"):
            out.append((r, cls))
    return out


def category_counts(failures: Failures, fix_class: str | None = None) -> Counter:
    """Failures per category (of one fix class, when given), in the order of their first row."""
    counts: Counter = Counter()
    for g, cls in failures:
        if fix_class is None or cls == fix_class:
            counts[g.primary_label] += g.n
    return counts
