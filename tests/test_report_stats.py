"""The report's statistics against references: statsmodels' Wilson interval, scikit-learn's
Cohen's kappa, the krippendorff package and Krippendorff's own worked example."""

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint

from core.labels.agreement import (
    alpha_from_counts,
    bootstrap_alpha,
    bootstrap_alphas,
    bootstrap_weights,
    group_units,
    measure_agreement,
    unit_patterns,
    value_counts,
)
from core.stats import cohen_kappa, more_needed_to_clear, wilson_interval, wilson_lower

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, values 1–5, missing data; nominal alpha = 0.743.
KRIPPENDORFF_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
])


def triples_from(reliability: np.ndarray) -> list[tuple[str, str, str]]:
    coders, units = reliability.shape
    return [(f"u{j}", f"c{i}", str(int(reliability[i, j])))
            for i in range(coders) for j in range(units) if not np.isnan(reliability[i, j])]


@pytest.mark.parametrize("count,n", [(0, 1), (1, 1), (0, 7), (3, 7), (7, 7), (114, 200),
                                     (113, 200), (1, 1000), (999, 1000), (50, 100)])
def test_wilson_interval_matches_statsmodels(count, n):
    low, high = wilson_interval(count, n)
    ref_low, ref_high = proportion_confint(count, n, alpha=0.05, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)


def test_wilson_interval_holds_the_product_example():
    assert round(wilson_interval(114, 200)[0], 4) == 0.5007
    assert round(wilson_interval(113, 200)[0], 4) == 0.4957
    assert wilson_interval(0, 0) == (None, None)


def test_more_needed_is_the_smallest_n_that_clears_half():
    needed = more_needed_to_clear(113, 200)
    assert needed is not None and needed > 0
    p = 113 / 200
    assert wilson_lower(p, 200 + needed) > 0.5
    assert wilson_lower(p, 200 + needed - 1) <= 0.5


def test_more_needed_none_at_or_below_half_and_zero_when_decided():
    assert more_needed_to_clear(100, 200) is None
    assert more_needed_to_clear(80, 200) is None
    assert more_needed_to_clear(0, 0) is None
    assert more_needed_to_clear(114, 200) == 0


def test_cohen_kappa_matches_sklearn():
    rng = np.random.default_rng(3)
    cats = ["a", "b", "c", "d"]
    for _ in range(20):
        n = int(rng.integers(5, 80))
        x = list(rng.choice(cats, n))
        y = [v if rng.random() < 0.6 else str(rng.choice(cats)) for v in x]
        if len(set(x) | set(y)) == 1:
            continue
        assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y), abs=1e-12)


def test_cohen_kappa_undefined_when_both_raters_use_one_label():
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None
    assert cohen_kappa([], []) is None


def test_alpha_reproduces_krippendorffs_worked_example():
    counts, _ = value_counts(group_units(triples_from(KRIPPENDORFF_2011)))
    assert round(alpha_from_counts(counts), 3) == 0.743
    ref = krippendorff.alpha(reliability_data=KRIPPENDORFF_2011, level_of_measurement="nominal")
    assert alpha_from_counts(counts) == pytest.approx(ref, abs=1e-12)


def test_alpha_matches_krippendorff_package_on_random_data_with_missing_values():
    rng = np.random.default_rng(11)
    for _ in range(15):
        coders, units = int(rng.integers(2, 6)), int(rng.integers(5, 60))
        truth = rng.integers(0, 4, units)
        data = np.where(rng.random((coders, units)) < 0.7, truth, rng.integers(0, 4, (coders, units)))
        data = np.where(rng.random((coders, units)) < 0.25, NAN, data.astype(float))
        triples = triples_from(data)
        counts, _ = value_counts(group_units(triples))
        ref = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        assert alpha_from_counts(counts) == pytest.approx(ref, abs=1e-9)


def test_vectorised_bootstrap_equals_the_reference_alpha_per_resample():
    counts, _ = value_counts(group_units(triples_from(KRIPPENDORFF_2011)))
    fast = bootstrap_alphas(counts, resamples=25, seed=5)
    patterns, freq = unit_patterns(counts)
    assert freq.sum() == counts.shape[0] and len(patterns) < counts.shape[0]
    weights = bootstrap_weights(freq, 25, 5)
    for b in range(25):
        # Rebuild the resample as coder × unit data: each drawn unit pattern repeated w times.
        columns = []
        for u, w in enumerate(weights[b]):
            values = [c for c in range(counts.shape[1]) for _ in range(int(patterns[u, c]))]
            columns += [values] * int(w)
        data = np.full((4, len(columns)), NAN)
        for j, vals in enumerate(columns):
            data[: len(vals), j] = vals
        if len({v for col in columns for v in col}) < 2:
            assert np.isnan(fast[b])
            continue
        ref = krippendorff.alpha(reliability_data=data, value_domain=list(range(counts.shape[1])),
                                 level_of_measurement="nominal")
        assert fast[b] == pytest.approx(ref, abs=1e-9)


def test_bootstrap_interval_is_seeded_and_brackets_alpha():
    counts, _ = value_counts(group_units(triples_from(KRIPPENDORFF_2011)))
    first, again = bootstrap_alpha(counts, seed=1), bootstrap_alpha(counts, seed=1)
    assert first == again
    assert first[0] < alpha_from_counts(counts) <= first[1]
    assert bootstrap_alpha(counts, seed=2) != first


def test_agreement_figures_on_a_small_set():
    triples = [("t1", "ann", "a"), ("t1", "bob", "a"), ("t2", "ann", "a"), ("t2", "bob", "b"),
               ("t3", "ann", "b"), ("t3", "bob", "b"), ("t3", "cy", "b"), ("t4", "ann", "a")]
    agreement = measure_agreement(triples, {"t2": (None, "disagreement")}, resamples=50)
    assert agreement.n_items == 3  # t4 has one annotator
    assert agreement.raw_agreement == pytest.approx(2 / 3)
    assert [(p.a, p.b, p.n) for p in agreement.pairwise_kappa] == [
        ("ann", "bob", 3), ("ann", "cy", 1), ("bob", "cy", 1)]
    assert agreement.per_category == {"a": {"n": 2, "agreement": 0.5},
                                      "b": {"n": 2, "agreement": 0.5}}
    assert [(d.transcript_id, d.labels, d.status) for d in agreement.disagreements] == [
        ("t2", {"ann": "a", "bob": "b"}, "disagreement")]


def test_agreement_is_null_without_double_labels():
    agreement = measure_agreement([("t1", "ann", "a")], {})
    assert (agreement.krippendorff_alpha, agreement.ci_low, agreement.n_items,
            agreement.raw_agreement) == (None, None, 0, None)


def test_unit_patterns_are_the_distinct_rows_in_numpys_order():
    """The rows read as integers give the patterns, order and counts of np.unique over rows
    (the bootstrap's seeded draws depend on that order)."""
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 4, size=(5000, 9)).astype(np.float64)
    patterns, freq = unit_patterns(counts)
    ref_patterns, ref_freq = np.unique(counts, axis=0, return_counts=True)
    assert np.array_equal(patterns, ref_patterns) and np.array_equal(freq, ref_freq)
