"""Words for the report: the one-sentence verdict and number formatting shared by the page,
the HTML and the Markdown export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.report.model import Check, Share

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
    tail = (f"; about {needed} more labeled failures at this share would decide"
            if needed else "; no class's lower bound exceeds 50%")
    return f"Inconclusive: {share_phrase(lead, classes[lead], n_failures)}{tail}."
