"""How scattered each existing category's notes are over the discovered clusters: a category
whose notes fall into many clusters may be several failure modes under one name (issue 20's
"task too broad" flag cites this)."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass

from core.discover.model import Discovery
from core.discover.notes import notes_from_db
from core.discover.run import DiscoverOptions, discover
from core.store.connection import Database


@dataclass(frozen=True)
class CategorySpread:
    """One existing category's notes over the clusters: counts per cluster (largest first),
    the share in its largest cluster, the entropy-based number of clusters it effectively
    spans (1 = all in one; e^H), and how many of its notes fit no cluster."""

    category: str
    n_notes: int
    clusters: tuple[tuple[str, int], ...]
    top_share: float
    effective_clusters: float
    n_outliers: int


def category_spread(discovery: Discovery) -> dict[str, CategorySpread]:
    """Per category the notes were labeled with, which clusters its notes fall in."""
    where: dict[str, Counter] = defaultdict(Counter)
    for c in discovery.clusters:
        for m in c.member_ids:
            if m in discovery.labels:
                where[discovery.labels[m]][c.key] += 1
    lonely = Counter(discovery.labels[m] for m in discovery.outliers if m in discovery.labels)
    out = {}
    for cat in sorted(set(where) | set(lonely)):
        counts = where[cat]
        placed = sum(counts.values())
        entropy = -sum(v / placed * math.log(v / placed) for v in counts.values()) if placed else 0
        out[cat] = CategorySpread(
            cat, placed + lonely[cat], tuple(counts.most_common()),
            round(max(counts.values()) / placed, 4) if placed else 0.0,
            round(math.exp(entropy), 2), lonely[cat])
    return out


def notes_spread(db: Database, seed: int = 0) -> tuple[Discovery, dict[str, CategorySpread]] | None:
    """Discovery over every note in the database (offline, no saturation) and each category's
    spread; None when there are too few notes to form any cluster."""
    notes = notes_from_db(db)
    if not notes:
        return None
    discovery = discover(notes, DiscoverOptions(seed=seed, saturation_steps=0))
    if not discovery.clusters:
        return None
    return discovery, category_spread(discovery)


SCATTER_MIN_NOTES = 20  # fewer notes than this in a category: its spread is not assessed
SCATTER_MAX_NOTES = 1000  # a seeded sample of at most this many notes is clustered
_scatter_cache: dict[tuple, tuple[Discovery, CategorySpread] | None] = {}


def category_notes_spread(db: Database, category: str, seed: int = 0
                          ) -> tuple[Discovery, CategorySpread] | None:
    """Cluster the notes reviewers wrote on one category's labels (offline; a seeded sample of
    at most SCATTER_MAX_NOTES) and say how they spread over the clusters: several clusters of
    similar size suggest several failure modes under one name. None with too few notes or no
    cluster. Cached per process for the same notes."""
    notes = notes_from_db(db, label=category)
    if len(notes) < SCATTER_MIN_NOTES:
        return None
    if len(notes) > SCATTER_MAX_NOTES:
        notes = sorted(random.Random(seed).sample(notes, SCATTER_MAX_NOTES), key=lambda n: n.note_id)
    key = (str(db.path), category, seed, tuple(n.note_id for n in notes))
    if key not in _scatter_cache:
        discovery = discover(notes, DiscoverOptions(seed=seed, saturation_steps=0))
        spread = category_spread(discovery).get(category) if discovery.clusters else None
        _scatter_cache[key] = None if spread is None else (discovery, spread)
    return _scatter_cache[key]
