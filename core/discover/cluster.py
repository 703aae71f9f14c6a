"""Grouping unit vectors: HDBSCAN finds the dense groups and so their number; groups beyond
`max_clusters` are merged by similarity; notes near a group join it until at most
`max_outlier_share` of the notes are left as outliers. Deterministic for given vectors."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import HDBSCAN, AgglomerativeClustering
from sklearn.preprocessing import normalize

from core.errors import UsageError

OUTLIER = -1
DEFAULT_MAX_CLUSTERS = 25
DEFAULT_MAX_OUTLIER_SHARE = 0.2


@dataclass(frozen=True)
class ClusterParams:
    """What the grouping may do: the smallest group (None: chosen from the number of notes),
    the most groups, the largest share of notes left in no group."""

    min_size: int | None = None
    max_clusters: int = DEFAULT_MAX_CLUSTERS
    max_outlier_share: float = DEFAULT_MAX_OUTLIER_SHARE

    def resolved_min_size(self, n: int) -> int:
        """The explicit min size, else about a third of √n, at least 4 (184 notes → 5, 3,000
        → 18): small enough for rare modes, large enough that a group is a pattern."""
        return self.min_size or max(4, round(math.sqrt(n) / 3))

    def check(self) -> None:
        """UsageError naming the option that is out of range."""
        if self.min_size is not None and self.min_size < 2:
            raise UsageError("--min-size must be at least 2")
        if self.max_clusters < 1:
            raise UsageError("--max-clusters must be at least 1")
        if not 0 <= self.max_outlier_share < 1:
            raise UsageError("the outlier share must be between 0 and 1")


def centroids(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit mean vector of each group 0..k-1 (rows in label order)."""
    k = int(labels.max()) + 1 if (labels >= 0).any() else 0
    if k == 0:
        return np.zeros((0, vectors.shape[1]))
    return normalize(np.vstack([vectors[labels == c].mean(axis=0) for c in range(k)]))


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Groups numbered by size, largest first (ties: the one whose first note comes first)."""
    ids = [c for c in np.unique(labels) if c != OUTLIER]
    order = sorted(ids, key=lambda c: (-(labels == c).sum(), int(np.argmax(labels == c))))
    out = np.full_like(labels, OUTLIER)
    for new, old in enumerate(order):
        out[labels == old] = new
    return out


def _merge_to(vectors: np.ndarray, labels: np.ndarray, max_clusters: int) -> np.ndarray:
    """Merge the most similar groups (average linkage over their centroids) down to max."""
    cents = centroids(vectors, labels)
    if len(cents) <= max_clusters:
        return labels
    merged = AgglomerativeClustering(n_clusters=max_clusters, metric="cosine",
                                     linkage="average").fit_predict(cents)
    return np.where(labels >= 0, merged[np.maximum(labels, 0)], OUTLIER)


def _absorb_outliers(vectors: np.ndarray, labels: np.ndarray, max_share: float) -> np.ndarray:
    """Outliers at least as close to a group's centroid as its tenth-percentile member join it;
    then, while more than `max_share` are left, the closest remaining ones join their nearest."""
    cents = centroids(vectors, labels)
    out = labels.copy()
    lonely = np.flatnonzero(out == OUTLIER)
    if not len(cents) or not len(lonely):
        return out
    member_sim = np.einsum("ij,ij->i", vectors[out >= 0], cents[out[out >= 0]])
    floor = np.array([np.quantile(member_sim[out[out >= 0] == c], 0.1) for c in range(len(cents))])
    sims = vectors[lonely] @ cents.T
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(len(lonely)), best]
    close = best_sim >= floor[best]
    out[lonely[close]] = best[close]
    allowed = int(max_share * len(labels))
    left = np.flatnonzero(~close)
    if len(left) > allowed:
        take = left[np.argsort(-best_sim[left], kind="stable")][: len(left) - allowed]
        out[lonely[take]] = best[take]
    return out


def group(vectors: np.ndarray, params: ClusterParams) -> np.ndarray:
    """A group number per note (0 = largest), OUTLIER for notes in none. A note with a zero
    vector (no word it shares with any other note) is an outlier: zero vectors all coincide,
    and grouping them would make a cluster of unrelated notes."""
    blank = np.linalg.norm(vectors, axis=1) < 1e-9 if len(vectors) else np.zeros(0, dtype=bool)
    if blank.any():
        out = np.full(len(vectors), OUTLIER)
        out[~blank] = group(vectors[~blank], params)
        return out
    n = len(vectors)
    min_size = params.resolved_min_size(n)
    if n < 2 * min_size:
        return np.full(n, OUTLIER)
    labels = HDBSCAN(min_cluster_size=min_size, copy=True).fit_predict(vectors)
    if not (labels >= 0).any():
        return labels
    labels = _merge_to(vectors, labels, params.max_clusters)
    labels = _absorb_outliers(vectors, labels, params.max_outlier_share)
    return _renumber(labels)
