"""The seeded coverage simulation of the population estimate (issue 17): synthetic populations
with a known truth, a uniform random human sample, and a good (κ ≈ 0.8) or a useless (random)
pre-labeler, as an LLM (PPI++) or cross-fitted offline (cross-PPI, K fold models). The product's
own estimator runs on each (core/report/ppi.py, through PopulationInputs). pytest runs a small
number of populations; benchmarks/population_bench.py runs 1,000 and prints the table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.report.population_inputs import CLASSES, PopulationInputs, verdict_statistic
from core.report.ppi import classical, mean_estimate

# True class shares of the synthetic populations: pipeline, behavior, model, none.
SHARES = np.array([0.42, 0.22, 0.14, 0.22])
GOOD_ACCURACY = 0.84  # κ ≈ 0.8 over four classes at these shares
K = 5


@dataclass(frozen=True)
class SimResult:
    """Coverage of the 95% interval of the verdict statistic, and mean widths."""

    labeler: str  # good | useless
    method: str  # ppi++ | cross-ppi
    populations: int
    coverage: float  # of the population interval
    coverage_reported: float  # of what the report shows (population, or human-only if wider)
    human_coverage: float
    width: float
    human_width: float
    width_reported: float
    fallback_share: float  # how often the report fell back to human-only

    @property
    def width_ratio(self) -> float:
        return self.width / self.human_width


def _predict(truth: np.ndarray, accuracy: float | None, rng: np.random.Generator) -> np.ndarray:
    """A prediction per item: the truth with probability `accuracy`, else a class drawn at the
    population's shares; accuracy None: independent of the truth (useless)."""
    guess = rng.choice(4, size=truth.shape, p=SHARES)
    if accuracy is None:
        return guess
    return np.where(rng.random(truth.shape) < accuracy, truth, guess)


def _population(rng: np.random.Generator, size: int, n: int, accuracy: float | None,
                cross: bool) -> tuple[PopulationInputs, float]:
    truth = rng.choice(4, size=size, p=SHARES)
    labeled = rng.permutation(size)[:n]
    mask = np.zeros(size, bool)
    mask[labeled] = True
    k = K if cross else 1
    # Each fold model errs independently; a labeled item gets its own fold's model only.
    preds = np.stack([_predict(truth, accuracy, rng) for _ in range(k)], axis=1)
    own = preds[mask][np.arange(n), rng.integers(0, k, n)]
    z_of = {0: 1.0, 1: -1.0, 2: -1.0, 3: 0.0}
    target = float(np.mean([z_of[int(c)] for c in truth]))
    inputs = PopulationInputs(
        labeler="offline" if cross else "llm", labeler_model="sim", prompt_version=None, k=k,
        labels=("",), y_class=truth[mask], y_label=np.zeros(n, np.int64),
        labeled_class=np.repeat(own[:, None], k, axis=1), labeled_label=np.zeros((n, k), np.int64),
        unlabeled_class=preds[~mask], unlabeled_label=np.zeros((size - n, k), np.int64))
    return inputs, target


def simulate(labeler: str, method: str, populations: int, size: int = 20000, n: int = 200,
             seed: int = 0) -> SimResult:
    """Run the estimator on `populations` seeded synthetic populations."""
    assert tuple(CLASSES[:4]) == ("pipeline", "behavior", "model", "none")
    rng = np.random.default_rng(seed)
    accuracy = GOOD_ACCURACY if labeler == "good" else None
    hits = hits_rep = hits_h = fallbacks = 0
    widths, widths_h, widths_rep = [], [], []
    for _ in range(populations):
        inputs, target = _population(rng, size, n, accuracy, method == "cross-ppi")
        arrays = verdict_statistic(inputs)
        pop, human = mean_estimate(arrays), classical(arrays.y)
        reported = human if pop.half_width > human.half_width else pop
        fallbacks += reported is human
        hits += pop.ci_low <= target <= pop.ci_high
        hits_h += human.ci_low <= target <= human.ci_high
        hits_rep += reported.ci_low <= target <= reported.ci_high
        widths.append(2 * pop.half_width)
        widths_h.append(2 * human.half_width)
        widths_rep.append(2 * reported.half_width)
    m = populations
    return SimResult(labeler, method, m, hits / m, hits_rep / m, hits_h / m, float(np.mean(widths)),
                     float(np.mean(widths_h)), float(np.mean(widths_rep)), fallbacks / m)


def table(results: list[SimResult]) -> str:
    """The coverage/width table, as the benchmark prints it."""
    head = (f"{'labeler':8} {'method':10} {'pops':>5} {'coverage':>9} {'reported':>9} "
            f"{'human':>7} {'width':>7} {'human w':>8} {'ratio':>6} {'fallback':>9}")
    rows = [f"{r.labeler:8} {r.method:10} {r.populations:5d} {r.coverage:9.3f} "
            f"{r.coverage_reported:9.3f} {r.human_coverage:7.3f} {r.width:7.4f} "
            f"{r.human_width:8.4f} {r.width_ratio:6.3f} {r.fallback_share:9.1%}" for r in results]
    return "\n".join([head, *rows])
