"""Saturation: categories found against notes coded. The notes in time order are re-clustered
at steps (same vectors, same smallest group); when the count stops growing, new notes stopped
bringing new categories."""

from __future__ import annotations

import numpy as np

from core.discover.cluster import ClusterParams, group
from core.discover.model import SaturationPoint

DEFAULT_STEPS = 10
# The curve has flattened when at least this share of the notes came after its last rise.
FLAT_SHARE = 0.2


def step_sizes(n: int, min_size: int, steps: int) -> list[int]:
    """Prefix lengths from the smallest that can hold two groups up to all n notes."""
    start = min(n, 2 * min_size)
    if steps <= 1 or n <= start:
        return [n]
    return sorted({int(round(x)) for x in np.linspace(start, n, steps)})


def saturation_curve(vectors: np.ndarray, params: ClusterParams,
                     steps: int = DEFAULT_STEPS) -> list[SaturationPoint]:
    """Clusters found in the first k notes for each step k (vectors in time order)."""
    n = len(vectors)
    if n == 0 or steps < 1:
        return []
    # The smallest group stays the one of the whole run: a curve whose threshold grew with k
    # would show the threshold, not the notes.
    fixed = ClusterParams(params.resolved_min_size(n), params.max_clusters,
                          params.max_outlier_share)
    out = []
    for k in step_sizes(n, fixed.resolved_min_size(n), steps):
        labels = group(vectors[:k], fixed)
        out.append(SaturationPoint(k, int(labels.max()) + 1 if (labels >= 0).any() else 0))
    return out


def saturation_sentence(curve: list[SaturationPoint]) -> str:
    """'The last N notes added no category' when the curve is flat over its last part;
    otherwise that it is still rising (keep coding)."""
    if len(curve) < 3:
        return "Too few steps to judge saturation: code more notes."
    total, final = curve[-1].notes, curve[-1].clusters
    last_rise = next((p.notes for p in curve if p.clusters >= final), total)
    quiet = total - last_rise
    if final and quiet >= FLAT_SHARE * total:
        return (f"The last {quiet} notes added no category ({final} categories from the first "
                f"{last_rise} of {total} notes): the categories look saturated.")
    when = ("only at the last step" if last_rise == total
            else f"only after {last_rise} notes")
    return (f"Not saturated yet: {final} categories with all {total} notes, a count reached "
            f"{when}; new notes still bring new categories, so keep coding and run "
            "discovery again.")
