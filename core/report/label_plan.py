"""`triage plan`: how many human labels reach a target interval half-width on a fix class's
share of failures, human-only and with the pre-labels (from their measured agreement with the
random human sample, by ppi_py's power analysis `ppi_mean_power`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.report.build import read_population
from core.report.population import FIX_CLASSES, refusal
from core.report.population_inputs import failure_indicator
from core.report.ppi import labels_for_effective_n, mean_estimate
from core.stats import Z95
from core.store.connection import Database


@dataclass(frozen=True)
class LabelPlan:
    """The answer: labels needed for ±target on `fix_class`'s share of failures."""

    fix_class: str
    target: float
    share: float | None
    n_now: int  # human labels in the uniform random sample
    N: int
    human_only_n: int
    population_n: int | None  # None when the population cannot be estimated (see reason)
    ppi_corr: float | None
    method: str
    reason: str

    @property
    def more(self) -> int:
        """Further random human labels to reach the target (0 when already there)."""
        need = self.population_n if self.population_n is not None else self.human_only_n
        return max(0, need - self.n_now)

    def lines(self) -> list[str]:
        """The plan as the CLI prints it."""
        shown = "unknown" if self.share is None else f"{self.share:.1%}"
        out = [f"target: ±{self.target * 100:g} points on the {self.fix_class} share of failures "
               f"(now {shown} in the random human sample); {self.n_now} random human labels so far, {self.N:,} transcripts",
               f"human labels only: about {self.human_only_n:,} labels"]
        if self.population_n is not None:
            out.append(f"with the pre-labels ({self.method}, correlation with the human labels "
                       f"{self.ppi_corr:.2f}): about {self.population_n:,} labels")
        else:
            out.append(f"with the pre-labels: not available ({self.reason})")
        out.append(f"label {self.more:,} more from the random sample"
                   if self.more else "the target is already reached")
        return out


def plan_labels(db: Database, target: float = 0.05, fix_class: str | None = None) -> LabelPlan:
    """Labels needed for a ±target half-width (a share, e.g. 0.05) on `fix_class` (default: the
    leading class). Human-only: the share's variance among failures over the failure rate;
    with pre-labels: the same effective n reached through ppi_mean_power (which assumes the
    power-tuned λ of PPI++; cross-PPI's fixed λ = 1 may need somewhat more)."""
    data = read_population(db)
    p, census = data.inputs, data.census
    why = refusal(census, p)
    if p is None or p.n == 0:
        n0 = math.ceil((Z95 * 0.5 / target) ** 2)  # no labels yet: the worst case, p = 1/2
        return LabelPlan(fix_class or "pipeline", target, None, 0, census.n_active, n0, None,
                         None, "human-only", why or "no human labels in a random sample yet")
    fail = failure_indicator(p)
    counts = {c: float(p.arrays({c: 1.0}).y.sum()) for c in FIX_CLASSES}
    lead = fix_class or max(FIX_CLASSES, key=lambda c: counts[c])
    share = counts[lead] / fail.y.sum() if fail.y.sum() else 0.5  # in the random human sample
    w = p.arrays({lead: 1.0}).minus(share, fail)
    f = mean_estimate(fail).estimate if why is None else float(fail.y.mean())
    n0 = math.ceil((Z95 * float(w.y.std()) / (target * max(f, 1e-9))) ** 2)
    total = p.n + p.n_unlabeled
    if why is not None:
        return LabelPlan(lead, target, share, p.n, total, n0, None, None, "human-only", why)
    n_ppi, corr = labels_for_effective_n(w, n0, total)
    return LabelPlan(lead, target, share, p.n, total, min(n0, total), min(n_ppi, n0, total), corr,
                     "cross-ppi" if p.cross else "ppi++", "")
