"""Words for the report: the one-sentence verdict and number formatting shared by the page,
the HTML and the Markdown export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.report.model import Check, Population, Share

VERDICT_TITLES = {
    "pipeline_first": "Fix the pipeline first",
    "tuning_justified": "Fine-tuning is justified",
    "behavior_not_ready": "Behavior failures dominate, but tuning is not ready yet",
    "inconclusive": "Inconclusive",
}


def pct(value: float | None, digits: int = 0) -> str:
    """0.5007 → '50%' (or '50.1%' with digits=1); None → '–'."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def num(value: float | None, digits: int = 2) -> str:
    """A figure with `digits` decimals; None → '–'."""
    return "–" if value is None else f"{value:.{digits}f}"


def cell(value: Any, kind: str) -> str:
    """A table cell as text by its column's kind: "ratio" (two decimals), "share" (a
    percentage), "text" or "count" (as written); None reads '–' for figures."""
    if kind == "ratio":
        return num(value)
    if kind == "share":
        return pct(value)
    return str(value)


def interval(s: Share) -> str:
    """'95% CI 50.1–63.7%' for a share."""
    if s.ci_low is None:
        return "no data"
    return f"95% CI {pct(s.ci_low, 1)}–{pct(s.ci_high, 1)}"


def share_phrase(name: str, s: Share, n: int) -> str:
    """'pipeline failures are 57.0% of 200 labeled failures (95% CI 50.1–63.7%)'."""
    return f"{name} failures are {pct(s.share, 1)} of {n} labeled failures ({interval(s)})"


def flags_phrase(flags: Sequence[Any]) -> str:
    """'red flag: noisy labels; unanswered: tried prompting first?' ('' when none stands)."""
    raised = [f.title.lower() for f in flags if f.status == "raised"]
    open_ = [f.title.lower() for f in flags if f.status == "unanswered"]
    parts = ([f"red flag{'s' if len(raised) > 1 else ''}: {'; '.join(raised)}"] if raised else [])
    parts += [f"unanswered: {'; '.join(open_)}"] if open_ else []
    return "; ".join(parts)


def verdict_sentence(verdict: str, classes: dict[str, Share], n_failures: int,
                     checks: Sequence[Check], needed: int | None, flags: Sequence[Any] = ()) -> str:
    """The verdict in one sentence, with n and the interval it rests on (and, when behavior
    dominates, the red flags that stand)."""
    if n_failures == 0:
        return "Inconclusive: there are no labeled failures yet."
    if verdict == "pipeline_first":
        return f"Fix the pipeline first: {share_phrase('pipeline', classes['pipeline'], n_failures)}."
    if verdict in ("tuning_justified", "behavior_not_ready"):
        head = share_phrase("behavior", classes["behavior"], n_failures)
        unknown = [f.title.lower() for f in flags if f.status == "not_assessed"]
        if verdict == "tuning_justified":
            tail = f" (not assessed: {'; '.join(unknown)})" if unknown else ""
            return (f"Fine-tuning is justified: {head}, every readiness check passes and no red "
                    f"flag stands{tail}.")
        failed = sum(not c.passed for c in checks)
        standing = flags_phrase(flags)
        return (f"Behavior failures dominate but tuning is not ready yet: {head}; "
                f"{failed} of {len(checks)} readiness checks fail"
                + (f"; {standing}" if standing else "") + ".")
    lead = max(classes, key=lambda c: classes[c].count)
    tail = (f"; about {needed:,} more labeled failures at this share would decide"
            if needed else "; no class's lower bound exceeds 50%")
    return f"Inconclusive: {share_phrase(lead, classes[lead], n_failures)}{tail}."


METHOD_NAMES = {"ppi++": "PPI++", "cross-ppi": "cross-PPI", "human-only": "human labels only"}


def estimate_phrase(e) -> str:
    """'57.0% (95% CI 53.1–60.8%)' for a population Estimate."""
    if e is None or e.estimate is None:
        return "–"
    return f"{pct(e.estimate, 1)} (95% CI {pct(e.ci_low, 1)}–{pct(e.ci_high, 1)})"


def population_sentence(p: Population) -> str:
    """The verdict in one sentence when it rests on the population estimate."""
    over = (f"all {p.N:,} transcripts" if p.scope == "all active transcripts"
            else f"the {p.N:,} transcripts of {p.scope}")
    basis = f"population estimate over {over} ({METHOD_NAMES[p.method]}, {p.n} random human labels)"
    if p.verdict == "pipeline_first":
        return (f"Fix the pipeline first: by the {basis}, pipeline failures are "
                f"{estimate_phrase(p.fix_classes['pipeline'])} of failures.")
    if p.verdict in ("tuning_justified", "behavior_not_ready"):
        head = f"by the {basis}, behavior failures are {estimate_phrase(p.fix_classes['behavior'])} of failures"
        if p.verdict == "tuning_justified":
            return f"Fine-tuning is justified: {head}, and every readiness check passes."
        return (f"Behavior failures dominate but tuning is not ready yet: {head}; readiness "
                "checks fail or red flags stand (see the readiness checklist).")
    lead = max(p.fix_classes, key=lambda c: p.fix_classes[c].estimate or 0.0)
    more = (f"; about {p.more_labels_needed} more random human labels would decide"
            if p.more_labels_needed else "; no side's interval clears 50% of failures")
    return (f"Inconclusive: by the {basis}, {lead} failures are "
            f"{estimate_phrase(p.fix_classes[lead])} of failures{more}.")


def basis_line(r) -> str:
    """Which estimate the verdict rests on, and the other one's verdict."""
    p = r.population
    human = VERDICT_TITLES[r.human_verdict or r.verdict]
    if r.verdict_basis == "population":
        return (f"Verdict from the population estimate ({METHOD_NAMES[p.method]} over {p.N:,} "
                f"transcripts, {p.n} random human labels, effective sample size "
                f"{p.effective_n:,}); human labels alone say: {human}.")
    return f"Verdict from the human labels alone; population estimate: {p.reason}"


def population_intro(p: Population) -> str:
    """What the population block is, in one paragraph."""
    if p.method == "human-only":
        return (f"No population estimate: {p.reason}. The figures below are the human-only ones "
                f"({p.N:,} transcripts in scope: {p.scope}; {p.n} labels in a uniform random "
                "sample).")
    fit = (f"its {p.folds} cross-fitted fold models (each labeled transcript predicted by the "
           "model trained without its fold)" if p.method == "cross-ppi"
           else f"its pre-labels (λ = {p.lam:.2f}, power-tuned)")
    notes = " ".join(p.notes)
    who = (f"All {p.N:,} active transcripts" if p.scope == "all active transcripts"
           else f"The {p.N:,} transcripts of {p.scope}")
    return (f"{who}, estimated by prediction-powered inference "
            f"({METHOD_NAMES[p.method]}): the {p.labeler} labeler's predictions on every "
            f"transcript, through {fit}, corrected by the {p.n} human labels of a uniform random "
            f"sample ({p.n_excluded_nonrandom} labels from non-random queues, filters or strata "
            f"left out). The interval is as narrow as about {p.effective_n:,} human labels alone "
            f"would give. {p.more_labels_reason[:1].upper()}{p.more_labels_reason[1:]}. {notes}").strip()
def more_failures_line(needed: int | None, reason: str, what: str = "labeled failures") -> str:
    """'More labeled failures needed: 37 (at the pipeline share …)', or, when no number of
    further labels would decide, words instead of a dash. `what` names what is counted (the
    population estimate counts random human labels)."""
    if needed is None:
        if reason.startswith("no labeled failures"):
            return f"More {what} needed: cannot say before the first one ({reason})"
        return f"More {what} needed: none would decide at this share ({reason})"
    return f"More {what} needed: {needed:,} ({reason})"


def more_line(r) -> str:
    """The "more needed" line of an inconclusive report: random human labels when the verdict
    rests on the population estimate, else labeled failures."""
    if r.verdict_basis == "population":
        p = r.population
        return more_failures_line(p.more_labels_needed, p.more_labels_reason, "random human labels")
    return more_failures_line(r.more_failures_needed, r.more_failures_reason)


def labeler_phrase(p: dict[str, Any]) -> str:
    """Who the evaluated pre-labeler is: 'the LLM pre-labeler (gpt-4o-mini)' or 'the offline
    pre-labeler (trained on n=236:1a2b3c4d)' (its model name already says "offline")."""
    model = str(p.get("model") or "")
    if p.get("labeler") == "offline":
        inner = model.removeprefix("offline").strip().removeprefix("(").removesuffix(")")
        return f"the offline pre-labeler ({inner})" if inner else "the offline pre-labeler"
    return f"the LLM pre-labeler ({model})" if model else "the LLM pre-labeler"
