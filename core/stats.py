"""Small statistics the report rests on: the Wilson score interval, how many more failures a
share needs before its interval clears 50%, and Cohen's kappa. Pure functions, no I/O."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

# Two-sided 95%: the 0.975 quantile of the standard normal (as scipy.stats.norm.ppf gives it).
Z95 = 1.959963984540054


def wilson_interval(count: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Two-sided Wilson score interval of count/n; (None, None) when n is 0.
    Unlike the normal approximation it stays inside [0, 1] and behaves at small n."""
    if n <= 0:
        return None, None
    return _wilson_bounds(count / n, n, z)


def _wilson_bounds(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    low = 0.0 if p <= 0 else max(0.0, centre - half)  # exact at the edges, no 1e-17 residue
    high = 1.0 if p >= 1 else min(1.0, centre + half)
    return low, high


def wilson_lower(p: float, n: float, z: float = Z95) -> float:
    """Lower Wilson bound for an observed share p over n trials."""
    return _wilson_bounds(p, n, z)[0]


def more_needed_to_clear(count: int, n: int, threshold: float = 0.5) -> int | None:
    """The smallest extra n such that, at the current share count/n, the Wilson lower bound
    at n + extra exceeds `threshold`. 0 when it already does; None when the share is at or
    below the threshold (more data at that share never clears it) or there is no data."""
    if n <= 0:
        return None
    p = count / n
    if p <= threshold:
        return None
    if wilson_lower(p, n) > threshold:
        return 0
    # The lower bound rises monotonically with n at a fixed share above the threshold.
    hi = 1
    while wilson_lower(p, n + hi) <= threshold:
        hi *= 2
    lo = hi // 2
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if wilson_lower(p, n + mid) > threshold:
            hi = mid
        else:
            lo = mid
    return hi


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters over the same items; None when undefined (no items,
    or chance agreement is 1 because both always chose the same single label)."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)
