"""The "Population estimate" block (issue 17): the shares and the verdict for every active
transcript, from a uniform random human sample and one labeler's pre-labels on everything, by
prediction-powered inference (core/report/ppi.py); or, when a validity rule bites, the
human-only figures and the reason. Pure: the store's census and rows go in, a Population out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from threadpoolctl import threadpool_limits

from core.report.model import Check, Estimate, Population, Share, WidthPoint
from core.report.population_inputs import (
    PopulationInputs,
    behavior_statistic,
    failure_indicator,
    verdict_statistic,
)
from core.report.ppi import (
    Arrays,
    Interval,
    classical,
    half_width_at,
    mean_estimate,
    ratio_estimate,
    tuned_lambda,
    variance_parts,
)
from core.stats import Z95
from core.store.population import Census
from core.taxonomy import Taxonomy

MIN_RANDOM_LABELS = 20  # below this the intervals' normal approximation is not to be trusted
FIX_CLASSES = ("pipeline", "behavior", "model")


@dataclass(frozen=True)
class HumanSide:
    """What the human-only report decided, for the block's fallback and the readiness checks."""

    verdict: str
    fix_classes: dict[str, Share]
    n_labeled: int
    checks: tuple[Check, ...]
    flags: tuple = ()  # the red flags (core/report/red_flags.py): one that blocks holds tuning back


def _estimate(i: Interval | None) -> Estimate:
    """A share, clipped to [0, 1]."""
    if i is None:
        return Estimate(None, None, None)
    return Estimate(*(min(1.0, max(0.0, x)) for x in (i.estimate, i.ci_low, i.ci_high)))


def _raw(i: Interval) -> Estimate:
    return Estimate(i.estimate, i.ci_low, i.ci_high)


def human_only(census: Census, human: HumanSide, n: int, reason: str,
               inputs: PopulationInputs | None = None, notes: Sequence[str] = ()) -> Population:
    """The block when it cannot (or should not) estimate: the human-only figures and why."""
    return Population(
        method="human-only", N=census.n_active, n=n, n_excluded_nonrandom=census.n_nonrandom,
        labeler=inputs.labeler if inputs else None, lam=None,
        verdict_statistic=Estimate(None, None, None),
        fix_classes={c: Estimate(s.share, s.ci_low, s.ci_high) for c, s in human.fix_classes.items()},
        effective_n=human.n_labeled, verdict=human.verdict, reason=reason,
        labeler_model=inputs.labeler_model if inputs else None,
        prompt_version=inputs.prompt_version if inputs else None,
        n_excluded_few_shot=census.n_random_few_shot, n_excluded_open=census.n_random_open,
        notes=tuple(notes), scope=census.scope)


def refusal(census: Census, inputs: PopulationInputs | None) -> str | None:
    """Why the population cannot be estimated validly, or None. Each rule names what bit."""
    if census.scope_problem:
        return census.scope_problem
    if census.stratified:
        shown = ", ".join(f"{s} ({n} labeled)" for s, n in census.stratified)
        return (f"labels from a stratified sample without weights ({shown}): prediction-powered "
                "inference needs a uniform random sample; draw one (`triage sample --n 300`, no "
                "--stratify-by; --where only for the population_scope it names) and label it")
    llm = [c for c in census.coverage if c.labeler == "llm"]
    whole = [c for c in census.coverage
             if c.n >= census.n_active - (census.n_few_shot if c.labeler == "llm" else 0)]
    if inputs is None or inputs.labeler not in {c.labeler for c in whole} \
            or (inputs.labeler == "llm" and len(llm) > 1):
        return _coverage_reason(census)
    if inputs.n < MIN_RANDOM_LABELS:
        return (f"{inputs.n} human labels in a uniform random sample; at least "
                f"{MIN_RANDOM_LABELS} are needed to correct the pre-labels")
    if inputs.n_unlabeled == 0:
        return (f"every transcript in scope is in the human sample (N = n = {inputs.n}): "
                "the human-only figures are the population's; the human-only verdict stands")
    return None


def _coverage_reason(census: Census) -> str:
    if not census.coverage:
        return ("no pre-labels: pre-label every transcript in scope with one labeler "
                "(`triage prelabel --offline`, or an LLM run) to estimate the population")
    shown = "; ".join(
        f"{c.labeler} {c.model}" + (f" prompt {c.version}" if c.labeler == "llm" else "")
        + f" on {c.n:,}" for c in census.coverage)
    mixed = sum(c.labeler == "llm" for c in census.coverage) > 1
    head = ("the pre-labels are a mix of labelers or versions" if mixed
            else "no one labeler has pre-labeled every transcript in scope")
    return (f"{head} ({shown}; {census.n_active:,} active transcripts): pre-label them all with "
            "one labeler (`triage prelabel --offline`, or one LLM run) to estimate the population")


def estimate_population(census: Census, inputs: PopulationInputs | None, taxonomy: Taxonomy,
                        human: HumanSide, enabled: bool = True) -> Population:
    """The Population block: PPI++ for an LLM labeler, cross-PPI for the offline one, or
    human-only with the reason (turned off, a validity rule, or wider than human-only).
    BLAS runs on one thread: ppi_py's many small covariances (one per step of each ratio's
    root-finding) took 10× longer when two threads contend on a busy machine."""
    with threadpool_limits(1):
        return _estimate_population(census, inputs, taxonomy, human, enabled)


def _estimate_population(census: Census, inputs: PopulationInputs | None, taxonomy: Taxonomy,
                         human: HumanSide, enabled: bool) -> Population:
    n = inputs.n if inputs else 0
    if not enabled:
        return human_only(census, human, n, "turned off (--no-population)", inputs)
    reason = refusal(census, inputs)
    if reason:
        return human_only(census, human, n, reason, inputs)
    z_arrays = verdict_statistic(inputs)
    z, z_human = mean_estimate(z_arrays), classical(z_arrays.y)
    method = "cross-ppi" if inputs.cross else "ppi++"
    if z.half_width > z_human.half_width:
        return replace(human_only(census, human, n, (
            f"the pre-labels would widen the interval ({method} ±{z.half_width:.3f} on the verdict "
            f"statistic vs ±{z_human.half_width:.3f} from the {n} random human labels alone): "
            "the human-only verdict stands"), inputs),
            folds=inputs.k if inputs.cross else None, human_only_half_width=z_human.half_width)
    return _population(census, inputs, taxonomy, human, z_arrays, z, z_human)


def _population(census: Census, p: PopulationInputs, taxonomy: Taxonomy, human: HumanSide,
                z_arrays: Arrays, z: Interval, z_human: Interval) -> Population:
    fail = failure_indicator(p)
    classes = {c: _estimate(ratio_estimate(p.arrays({c: 1.0}), fail)) for c in FIX_CLASSES}
    cats = {c.key: _estimate(ratio_estimate(p.arrays(by_label={c.key: 1.0}), fail))
            for c in taxonomy.categories if c.fix_class != "none"}
    zb_arrays = behavior_statistic(p)
    zb = mean_estimate(zb_arrays)
    verdict = population_verdict(z, zb, human.checks, human.flags)
    needed, why = more_labels(p, z_arrays, z, zb_arrays, zb)
    effective = round(p.n * (z_human.half_width / z.half_width) ** 2) if z.half_width else None
    return Population(
        method="cross-ppi" if p.cross else "ppi++", N=p.n + p.n_unlabeled, n=p.n,
        n_excluded_nonrandom=census.n_nonrandom, labeler=p.labeler,
        lam=tuned_lambda(z_arrays), verdict_statistic=_raw(z), fix_classes=classes,
        effective_n=effective, verdict=verdict, reason=None, labeler_model=p.labeler_model,
        prompt_version=p.prompt_version, folds=p.k if p.cross else None,
        behavior_statistic=_raw(zb), categories=cats,
        no_failure=_estimate(mean_estimate(p.arrays({"none": 1.0}))),
        human_only_half_width=z_human.half_width,
        n_excluded_few_shot=census.n_random_few_shot, n_excluded_open=census.n_random_open,
        more_labels_needed=needed, more_labels_reason=why,
        width_by_n=width_curve(p, classes), notes=_notes(census, p), scope=census.scope)


def _notes(census: Census, p: PopulationInputs) -> tuple[str, ...]:
    out = []
    if p.labeler == "llm" and census.n_few_shot:
        out.append(f"{census.n_few_shot} transcripts shown to the LLM as few-shot examples carry "
                   "no pre-label by design and are left out of the population")
    if census.n_random_open:
        out.append(f"{census.n_random_open} transcripts of the random sample are open "
                   "disagreements: left out of the human sample until adjudicated")
    return tuple(out)


def population_verdict(z: Interval, zb: Interval, checks: Sequence[Check],
                       flags: Sequence = ()) -> str:
    """Pipeline-first when the verdict statistic's interval lies above 0; behavior dominates
    when the behavior statistic's does (then the human readiness checklist and the red flags
    decide, as for the human-only verdict)."""
    if z.ci_low > 0:
        return "pipeline_first"
    if zb.ci_low > 0:
        ready = all(c.passed for c in checks) and not any(f.blocks_tuning for f in flags)
        return "tuning_justified" if ready else "behavior_not_ready"
    return "inconclusive"


def more_labels(p: PopulationInputs, z_arrays: Arrays, z: Interval, zb_arrays: Arrays,
                zb: Interval) -> tuple[int | None, str]:
    """How many more random human labels would lift the leading side's interval above 0 at its
    current estimate, from the population estimate's own variance (rectifier / n + imputed /
    N, as ppi_py computes its standard error); 0 when decided, None when no number would."""
    side, arrays, est = max((("pipeline", z_arrays, z), ("behavior", zb_arrays, zb)),
                            key=lambda s: s[2].estimate)
    if est.ci_low > 0:
        return 0, f"decided: the {side} side's interval already lies above 0"
    if est.estimate <= 0:
        return None, ("neither pipeline nor behavior failures are more than half of the "
                      "failures at the population estimate: more labels at these shares never decide")
    parts, n, unl = variance_parts(arrays), p.n, p.n_unlabeled
    if est.estimate - half_width_at(parts, n + unl - 1, 1) <= 0:
        return None, (f"at the {side} estimate, even labeling every transcript would not "
                      "clear it: inconclusive")
    lo, hi = 0, unl - 1
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if est.estimate - half_width_at(parts, n + mid, unl - mid) > 0:
            hi = mid
        else:
            lo = mid
    return hi, (f"at the population estimate, about {hi} more human labels from the random "
                f"sample would lift the {side} side's interval above 0")


def width_curve(p: PopulationInputs, classes: dict[str, Estimate],
                steps: int = 12) -> tuple[WidthPoint, ...]:
    """± share points of the leading class's interval as n grows, human-only vs population
    (delta-method projection of the current variances; the reported intervals are exact)."""
    lead = max(FIX_CLASSES, key=lambda c: classes[c].estimate or 0.0)
    share = classes[lead].estimate
    fail = mean_estimate(failure_indicator(p)).estimate
    if share is None or not fail:
        return ()
    w = p.arrays({lead: 1.0}).minus(share, failure_indicator(p))
    parts = variance_parts(w)
    human_sd = float(w.y.std())
    total = p.n + p.n_unlabeled
    top = min(total - 1, max(4 * p.n, 100))
    grid = sorted({max(10, round(10 + (top - 10) * (i / (steps - 1)) ** 2)) for i in range(steps)})
    return tuple(WidthPoint(m, Z95 * human_sd / m ** 0.5 / fail,
                            half_width_at(parts, m, total - m) / fail) for m in grid)
