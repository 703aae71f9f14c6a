"""Axial coding: the clusters become draft categories a person renames, merges, splits, drops
and gives a fix class; the drafts become a taxonomy file in the existing format."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans

from core.discover.describe import key_from_terms, name_from_terms, top_terms
from core.discover.model import Cluster, Discovery
from core.discover.vectors import reduce, term_space
from core.errors import UsageError
from core.taxonomy import FIX_CLASSES, OTHER_KEY

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
TYPICAL_FIX_PLACEHOLDER = "To do: the fix the team usually applies to this failure mode."
OTHER_DEFINITION = ("Something went wrong and no category above fits. Describe it in the note, "
                    "in your own words: discovery groups these notes into new categories.")


@dataclass(frozen=True)
class Draft:
    """A category in the making: what it will be called, and the notes it came from."""

    key: str
    name: str
    fix_class: str
    definition: str
    not_this_when: str
    member_ids: tuple[str, ...]  # most central first
    top_terms: tuple[str, ...] = ()
    nearest: str = ""  # "wrong_retrieval 67% of 27" (the existing category its notes carry)


def _definition(c: Cluster) -> str:
    if c.definition:
        return c.definition
    return (f"Failures whose notes share: {', '.join(c.top_terms[:5]) or 'no distinctive terms'} "
            f"({c.size} notes). To do: a definition a new reviewer can apply.")


def drafts_from(discovery: Discovery) -> list[Draft]:
    """One draft per cluster, as discovery found and named it."""
    return [Draft(c.key, c.name, c.fix_class, _definition(c),
                  c.not_this_when or "To do: when a similar failure belongs to another category.",
                  c.member_ids, c.top_terms, _nearest(c)) for c in discovery.clusters]


def _nearest(c: Cluster) -> str:
    n = c.nearest_category
    return f"{n.key} {n.share:.0%} of {n.n_labeled}" if n else ""


def _find(drafts: list[Draft], key: str) -> int:
    for i, d in enumerate(drafts):
        if d.key == key:
            return i
    raise UsageError(f"no draft category {key!r}; have: {', '.join(d.key for d in drafts)}")


def edit(drafts: list[Draft], key: str, *, new_key: str | None = None, name: str | None = None,
         fix_class: str | None = None, definition: str | None = None) -> list[Draft]:
    """Rename (key and/or name), give a fix class or a definition."""
    i = _find(drafts, key)
    if new_key is not None and new_key != key:
        if not KEY_RE.match(new_key) or new_key in (OTHER_KEY, "no_failure"):
            raise UsageError(f"key {new_key!r}: use lower case letters, digits and _, starting "
                             "with a letter (other and no_failure are kept apart)")
        if any(d.key == new_key for d in drafts):
            raise UsageError(f"key {new_key!r} is already used by another category")
    if fix_class is not None and fix_class not in FIX_CLASSES[:-1]:
        raise UsageError(f"fix class {fix_class!r}: use one of {', '.join(FIX_CLASSES[:-1])}")
    d = drafts[i]
    changed = dataclasses.replace(d, key=new_key or d.key, name=(name or d.name).strip(),
                                  fix_class=fix_class or d.fix_class,
                                  definition=(definition or d.definition).strip())
    return drafts[:i] + [changed] + drafts[i + 1:]


def merge(drafts: list[Draft], keys: list[str], into: str) -> list[Draft]:
    """Fold the categories `keys` into `into`: its name stays, the members are pooled (the
    target's first, so its most central notes stay the examples)."""
    target = drafts[_find(drafts, into)]
    others = [drafts[_find(drafts, k)] for k in keys if k != into]
    members = target.member_ids + tuple(m for d in others for m in d.member_ids)
    gone = {d.key for d in others}
    # The nearest-category figure described the target alone: blank rather than wrong.
    return [dataclasses.replace(d, member_ids=members, nearest="") if d.key == into else d
            for d in drafts if d.key not in gone]


def drop(drafts: list[Draft], key: str) -> list[Draft]:
    """Leave a category out of the taxonomy (its notes stay where they are)."""
    i = _find(drafts, key)
    return drafts[:i] + drafts[i + 1:]


def split(drafts: list[Draft], key: str, texts: dict[str, str], seed: int = 0) -> list[Draft]:
    """Cut one category in two by its notes' own words (k-means on their TF-IDF)."""
    i = _find(drafts, key)
    d = drafts[i]
    if len(d.member_ids) < 4:
        raise UsageError(f"{d.name}: {len(d.member_ids)} notes are too few to split")
    space = term_space([texts[m] for m in d.member_ids])
    vectors = reduce(space.matrix, seed, 10)
    halves = KMeans(2, n_init=10, random_state=seed).fit_predict(vectors)
    taken = {x.key for x in drafts} - {key}
    parts = []
    for h in (0, 1):
        idx = np.flatnonzero(halves == h)
        terms = top_terms(space, idx)
        parts.append(dataclasses.replace(
            d, key=key_from_terms(terms, taken), name=name_from_terms(terms),
            member_ids=tuple(d.member_ids[j] for j in idx), top_terms=tuple(terms), nearest="",
            definition=f"Part of “{d.name}”: {', '.join(terms[:5])}. To do: a definition."))
    parts.sort(key=lambda p: -len(p.member_ids))
    return drafts[:i] + parts + drafts[i + 1:]


def table_rows(drafts: list[Draft]) -> list[dict]:
    """The drafts as the Discover page's editable table (keep, key, name, fix class, size)."""
    return [{"keep": True, "key": d.key, "name": d.name, "fix_class": d.fix_class,
             "notes": len(d.member_ids), "nearest category": d.nearest,
             "terms": ", ".join(d.top_terms[:4])} for d in drafts]


def apply_rows(drafts: list[Draft], rows: list[dict]) -> list[Draft]:
    """Apply the table's edits, row by row in the drafts' order: unticked rows are dropped,
    changed keys, names and fix classes are applied (each checked like `edit`)."""
    if len(rows) != len(drafts):
        raise UsageError("the table no longer matches the clusters: reload the page")
    out = list(drafts)
    for d, row in zip(drafts, rows, strict=True):
        if not row.get("keep", True):
            out = drop(out, d.key)
            continue
        new_key = str(row.get("key") or d.key).strip()
        out = edit(out, d.key, new_key=new_key, name=str(row.get("name") or d.name),
                   fix_class=str(row.get("fix_class") or d.fix_class))
    return out
