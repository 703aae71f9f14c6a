"""Prediction-powered estimates, computed by ppi_py (the reference implementation; nothing here
re-implements an estimator). A mean: PPI++ with the power-tuned λ (`ppi_mean_ci`,
`ppi_mean_pointestimate`, lam=None) for a labeler that never saw the labels, cross-PPI
(`crossppi_mean_ci`, `crossppi_mean_pointestimate`, λ = 1) for one cross-fitted on them.

A share of failures is a ratio r = P(class) / P(failure). It is estimated with PPI's own
machinery rather than the delta method: r is the root of the estimating equation
E[1{class} − r·1{failure}] = 0, a mean PPI estimates directly; the point estimate is the r at
which the prediction-powered estimate of that mean is 0, and the 95% interval is every r at
which the mean's 95% PPI interval contains 0 (test inversion, as ppi_py does for quantiles).
At r = 1/2 the mean is half the verdict statistic, so the pipeline share's interval clears 50%
exactly when the verdict statistic's interval clears 0: the shares and the verdict agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.stats import Z95

ALPHA = 0.05  # two-sided 95%
XTOL = 1e-10


@dataclass(frozen=True)
class Arrays:
    """One statistic as ppi_py takes it: human values Y (n,), the predictions on those
    transcripts Yhat (n,), and the predictions on the rest: (N,) for PPI++, (N, K) for
    cross-PPI (one column per fold model)."""

    y: np.ndarray
    yhat: np.ndarray
    yhat_unlabeled: np.ndarray

    @property
    def cross(self) -> bool:
        return self.yhat_unlabeled.ndim == 2

    def minus(self, r: float, other: Arrays) -> Arrays:
        """self − r·other, elementwise (the estimating equation of a ratio at r)."""
        return Arrays(self.y - r * other.y, self.yhat - r * other.yhat,
                      self.yhat_unlabeled - r * other.yhat_unlabeled)


@dataclass(frozen=True)
class Interval:
    """A point estimate and its 95% interval."""

    estimate: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def _ppi():
    """ppi_py, imported on first use: it brings scipy.stats, statsmodels and numba (seconds on
    a loaded machine), which a report without a population estimate never needs."""
    import ppi_py

    return ppi_py


def _lam(a: Arrays) -> float | None:
    """None (ppi_py tunes λ) unless every prediction is the same value: then the tuning is
    0/0 in ppi_py, and its limit, λ = 0 (the predictions carry nothing), is passed."""
    constant = np.ptp(a.yhat) == 0 and np.ptp(a.yhat_unlabeled) == 0 \
        and a.yhat[0] == a.yhat_unlabeled.flat[0]
    return 0.0 if constant else None


def point(a: Arrays) -> float:
    """The prediction-powered point estimate of the mean."""
    if a.cross:
        return float(np.squeeze(_ppi().crossppi_mean_pointestimate(a.y, a.yhat, a.yhat_unlabeled)))
    return float(np.squeeze(_ppi().ppi_mean_pointestimate(a.y, a.yhat, a.yhat_unlabeled,
                                                          lam=_lam(a))))


def bounds(a: Arrays) -> tuple[float, float]:
    """The prediction-powered 95% interval of the mean."""
    if a.cross:
        low, high = _ppi().crossppi_mean_ci(a.y, a.yhat, a.yhat_unlabeled, alpha=ALPHA)
    else:
        low, high = _ppi().ppi_mean_ci(a.y, a.yhat, a.yhat_unlabeled, alpha=ALPHA, lam=_lam(a))
    return float(np.squeeze(low)), float(np.squeeze(high))


def mean_estimate(a: Arrays) -> Interval:
    """Point and 95% interval of the mean."""
    low, high = bounds(a)
    return Interval(point(a), low, high)


def classical(y: np.ndarray) -> Interval:
    """The human-only (CLT) estimate of the mean from the same labeled transcripts."""
    low, high = _ppi().classical_mean_ci(y, alpha=ALPHA)
    return Interval(float(np.mean(y)), float(np.squeeze(low)), float(np.squeeze(high)))


def tuned_lambda(a: Arrays) -> float | None:
    """The power-tuning λ that ppi_mean_ci(lam=None) uses (clipped to [0, 1]); None for
    cross-PPI, whose λ is fixed at 1."""
    if a.cross:
        return None
    if _lam(a) is not None:
        return _lam(a)
    from ppi_py.ppi import _calc_lam_glm  # the λ ppi_mean_ci tunes, to report it

    y, yhat, unl = (np.asarray(x, float).reshape(-1, 1) for x in (a.y, a.yhat, a.yhat_unlabeled))
    centre = float(np.mean(unl)) + float(np.mean(y - yhat))  # λ = 1's estimate, as ppi_py does
    return float(_calc_lam_glm(y - centre, yhat - centre, unl - centre, np.eye(1), clip=True))


def variance_parts(a: Arrays) -> tuple[float, float]:
    """(rectifier variance, imputed variance): the estimate's variance is
    rectifier / n + imputed / N, the two terms of ppi_py's standard error. For projecting how
    the width changes with more labels (see `half_width_at`)."""
    if a.cross:
        return float(np.var(a.yhat - a.y)), float(np.var(a.yhat_unlabeled.mean(axis=1)))
    lam = tuned_lambda(a)
    return float(np.var(a.y - lam * a.yhat)), float(np.var(lam * a.yhat_unlabeled))


def half_width_at(parts: tuple[float, float], n: int, n_unlabeled: int) -> float:
    """The 95% half-width with n labeled and n_unlabeled predicted transcripts."""
    rect, imputed = parts
    return float(Z95 * np.sqrt(rect / n + (imputed / n_unlabeled if n_unlabeled else 0.0)))


def ratio_estimate(numerator: Arrays, denominator: Arrays) -> Interval | None:
    """Share = numerator / denominator (e.g. one class among failures, the numerator's
    indicator implying the denominator's), clipped to [0, 1], by test inversion (module
    docstring). None when nothing is a failure, labeled or predicted."""
    if not (denominator.y.any() or denominator.yhat_unlabeled.any() or denominator.yhat.any()):
        return None
    at = numerator.minus  # at(r, denominator): the estimating equation's values at r
    r = _root(lambda x: point(at(x, denominator)), 0.0, 1.0)
    low = _root(lambda x: bounds(at(x, denominator))[0], 0.0, r)
    high = _root(lambda x: bounds(at(x, denominator))[1], r, 1.0)
    return Interval(r, low, high)


def _root(f: Callable[[float], float], a: float, b: float) -> float:
    """Where the decreasing function f crosses 0 in [a, b]; a or b when it does not."""
    fa = f(a)
    if fa <= 0:
        return a
    fb = f(b)
    if fb >= 0:
        return b
    from scipy.optimize import brentq

    return float(brentq(f, a, b, xtol=XTOL))


def labels_for_effective_n(a: Arrays, effective_n: int, n_max: int) -> tuple[int, float]:
    """ppi_mean_power: the human labels (n) that, with predictions on the rest of n_max, give
    the standard error of `effective_n` human labels alone, at the measured correlation of
    labels and predictions (`a`'s labeled part). Predictions already made cost ~nothing
    (cost_Yhat 1e-6 of a label; 0 divides by zero in ppi_py). → (n, ppi_corr)."""
    import warnings

    with warnings.catch_warnings():  # "effective_n too large for n_max": the answer is n_max
        warnings.simplefilter("ignore")
        out = _ppi().ppi_mean_power(np.asarray(a.y, float), np.asarray(a.yhat, float), cost_Y=1.0,
                                    cost_Yhat=1e-6, effective_n=effective_n, n_max=n_max)
    return int(out["n"]), float(out["ppi_corr"])
