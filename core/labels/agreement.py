"""Annotator agreement on double-labeled transcripts: Krippendorff's alpha (nominal) with a
seeded, vectorised bootstrap interval, pairwise Cohen's kappa, raw and per-category agreement,
and the list of disagreements. Pure functions over (transcript, annotator, label) triples."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from core.stats import cohen_kappa

BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class PairKappa:
    """Cohen's kappa between two annotators on the transcripts both labeled."""

    a: str
    b: str
    n: int
    kappa: float | None


@dataclass(frozen=True)
class Disagreement:
    """A double-labeled transcript whose annotators chose different primary labels."""

    transcript_id: str
    labels: dict[str, str]  # annotator -> label
    status: str  # disagreement (open) | adjudicated
    final_label: str | None


@dataclass(frozen=True)
class Agreement:
    """Agreement figures; all None when nothing is double-labeled."""

    krippendorff_alpha: float | None
    ci_low: float | None
    ci_high: float | None
    n_items: int
    raw_agreement: float | None
    pairwise_kappa: tuple[PairKappa, ...]
    per_category: dict[str, dict]
    n_disagreements: int
    disagreements: tuple[Disagreement, ...]


def group_units(triples: Iterable[tuple[str, str, str]]) -> dict[str, dict[str, str]]:
    """transcript → {annotator: label}, keeping only transcripts with two or more annotators."""
    units: dict[str, dict[str, str]] = defaultdict(dict)
    for tid, annotator, label in triples:
        units[tid][annotator] = label
    return {t: v for t, v in units.items() if len(v) >= 2}


def value_counts(units: dict[str, dict[str, str]]) -> tuple[np.ndarray, list[str]]:
    """Units × categories matrix of how many annotators chose each category in each unit."""
    cats = sorted({lab for u in units.values() for lab in u.values()})
    index = {c: i for i, c in enumerate(cats)}
    counts = np.zeros((len(units), len(cats)), dtype=np.float64)
    for row, labels in enumerate(units.values()):
        for lab in labels.values():
            counts[row, index[lab]] += 1
    return counts, cats


def _alpha_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: its observed-disagreement term d_u and its number of pairable values m_u."""
    m = counts.sum(axis=1)
    pairable = m >= 2
    d = np.zeros_like(m)
    d[pairable] = (m[pairable] ** 2 - (counts[pairable] ** 2).sum(axis=1)) / (m[pairable] - 1)
    return d, np.where(pairable, m, 0.0)


def alpha_from_counts(counts: np.ndarray) -> float | None:
    """Krippendorff's alpha, nominal, from a units × categories count matrix (units with
    fewer than two values are not pairable and drop out, as in Krippendorff 2011)."""
    if counts.size == 0:
        return None
    d, m = _alpha_parts(counts)
    value = _alpha(d.sum(), (counts * (m > 0)[:, None]).sum(axis=0), m.sum())
    return None if np.isnan(value) else float(value)


def _alpha(d_sum, n_c, n):
    """alpha = 1 - (n - 1) Σ d_u / (n² - Σ n_c²); vectorised over leading axes."""
    expected = n**2 - (n_c**2).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1 - (n - 1) * d_sum / expected, np.nan)


def unit_patterns(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a units × categories count matrix (in lexicographic order) and how
    many units have each. Units with the same counts are interchangeable in alpha, so resampling
    units is resampling patterns in proportion to their frequency (exactly the same distribution,
    far fewer draws). Each row is read as one integer in base max + 1 (the same order), which
    sorts a quarter of the time of sorting rows."""
    k = counts.shape[1] if counts.ndim == 2 else 0
    base = int(counts.max()) + 1 if counts.size else 1
    if not counts.size or base ** k >= 2 ** 62:
        return np.unique(counts, axis=0, return_counts=True)
    keys = counts.astype(np.int64) @ (base ** np.arange(k - 1, -1, -1, dtype=np.int64))
    _, first, freq = np.unique(keys, return_index=True, return_counts=True)
    return counts[first], freq


def bootstrap_weights(freq: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Seeded bootstrap resamples as rows of pattern weights: draw sum(freq) units with
    replacement; row b says how many drawn units have each pattern."""
    rng = np.random.default_rng(seed)
    n_units = int(freq.sum())
    return rng.multinomial(n_units, freq / n_units, size=resamples).astype(np.float64)


def bootstrap_alphas(counts: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = 0) -> np.ndarray:
    """Alpha for each bootstrap resample of units (NaN where undefined). A resample is a weight
    vector, so all resamples come from matrix products, not a loop over alpha."""
    patterns, freq = unit_patterns(counts)
    d, m = _alpha_parts(patterns)
    pair_counts = patterns * (m > 0)[:, None]
    w = bootstrap_weights(freq, resamples, seed)
    return _alpha(w @ d, w @ pair_counts, w @ m)


def bootstrap_alpha(counts: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES,
                    seed: int = 0) -> tuple[float | None, float | None]:
    """Percentile 95% interval of alpha over `resamples` seeded bootstrap resamples of units."""
    if counts.shape[0] < 2:
        return None, None
    values = bootstrap_alphas(counts, resamples, seed)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return None, None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def pairwise_kappas(units: dict[str, dict[str, str]]) -> tuple[PairKappa, ...]:
    """Cohen's kappa for every pair of annotators who labeled at least one transcript in common."""
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for u in units.values():  # one pass: each unit adds to the pairs of its own annotators
        for a, b in itertools.combinations(sorted(u), 2):
            pairs[(a, b)].append((u[a], u[b]))
    out = []
    for (a, b), both in sorted(pairs.items()):
        xs, ys = zip(*both, strict=True)
        out.append(PairKappa(a, b, len(both), cohen_kappa(xs, ys)))
    return tuple(out)


def per_category_agreement(counts: np.ndarray, cats: list[str]) -> dict[str, dict]:
    """For each category: of the double-labeled transcripts where anyone chose it, the share
    where everyone did (from the units × categories count matrix and its categories)."""
    chosen = counts > 0
    seen = chosen.sum(axis=0)
    unanimous = (chosen & (chosen.sum(axis=1) == 1)[:, None]).sum(axis=0)
    return {c: {"n": int(seen[i]), "agreement": int(unanimous[i]) / int(seen[i])}
            for i, c in enumerate(cats) if seen[i]}


def measure_agreement(triples: Iterable[tuple[str, str, str]],
                      final: dict[str, tuple[str | None, str]], seed: int = 0,
                      resamples: int = BOOTSTRAP_RESAMPLES, max_listed: int = 50) -> Agreement:
    """All agreement figures. `final` maps transcript → (final label, status), to say which
    disagreements are still open."""
    units = group_units(triples)
    if not units:
        return Agreement(None, None, None, 0, None, (), {}, 0, ())
    counts, cats = value_counts(units)
    low, high = bootstrap_alpha(counts, resamples, seed)
    split = [(t, u) for t, u in units.items() if len(set(u.values())) > 1]
    listed = tuple(
        Disagreement(t, dict(sorted(u.items())), final.get(t, (None, "disagreement"))[1],
                     final.get(t, (None, ""))[0])
        for t, u in sorted(split)[:max_listed])
    return Agreement(
        krippendorff_alpha=alpha_from_counts(counts), ci_low=low, ci_high=high,
        n_items=len(units), raw_agreement=1 - len(split) / len(units),
        pairwise_kappa=pairwise_kappas(units), per_category=per_category_agreement(counts, cats),
        n_disagreements=len(split), disagreements=listed)
