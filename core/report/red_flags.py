"""Before you tune: the red flags that make fine-tuning fail (issue 20), each computed with its
evidence. A flag is `raised`, `clear`, `not_assessed` (the data or this version cannot tell, and
it says why) or `unanswered` (a question for the team). "Tuning justified" is never given while a
flag is raised or unanswered. Pure: core/report/tuning.py reads what it needs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from core.labels.agreement import Agreement
from core.report.model import share_of
from core.report.text import pct
from core.taxonomy import Taxonomy

BLOCKING = ("raised", "unanswered")
MIN_PER_HALF = 10  # failures each half needs before shares between halves are tested
MIN_EXPECTED = 5  # categories expected fewer times than this in a half are pooled


@dataclass(frozen=True)
class RedFlag:
    """One red flag: its status, the evidence it rests on and what to do about it."""

    flag: str
    title: str  # names the danger: "Noisy labels"
    label: str  # what is checked
    status: str  # raised | clear | not_assessed | unanswered
    evidence: str
    advice: str
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    threshold: float | None = None

    @property
    def blocks_tuning(self) -> bool:
        return self.status in BLOCKING


TITLES = {"too_few_examples": "Too few examples", "noisy_labels": "Noisy labels",
          "moving_target": "Moving target",
          "hallucination_leading": "Hallucination-type failures lead",
          "too_broad": "Task too broad", "prompting_not_tried": "Tried prompting first?"}


def _flag(flag: str, label: str, status: str, evidence: str, advice: str, value: float | None = None,
          ci_low: float | None = None, ci_high: float | None = None,
          threshold: float | None = None) -> RedFlag:
    return RedFlag(flag, TITLES[flag], label, status, evidence, advice, value, ci_low, ci_high,
                   threshold)


# Per failure category, the times (epoch seconds, UTC) that place its failures in a half.
TimedLabels = dict[str, np.ndarray]


@dataclass(frozen=True)
class VersionChange:
    """How one taxonomy version differs from the one used before it in the labeling window."""

    before: str  # name@version
    after: str
    first_used: datetime
    changed: tuple[str, ...]  # keys whose definition, not-this-when line or fix class changed
    removed: tuple[str, ...]
    added: tuple[str, ...]

    @property
    def moves_target(self) -> bool:
        """A version that only adds categories does not move the target."""
        return bool(self.changed or self.removed)


@dataclass(frozen=True)
class Scatter:
    """How scattered reviewers' notes in one category are (from discovery clusters)."""

    scattered: bool
    evidence: str


ScatterOf = Callable[[str], Scatter | None]


def _name(taxonomy: Taxonomy, key: str) -> str:
    return taxonomy.category(key).name if key in taxonomy.keys else key


def too_few_examples(proposed: dict[str, int], decision: dict[str, float],
                     taxonomy: Taxonomy) -> RedFlag:
    """A category proposed for tuning with fewer than red_flag_min_examples labeled examples."""
    need = decision["red_flag_min_examples"]
    label = f"at least {need:.0f} labeled examples of each category proposed for tuning"
    advice = "label more failures of these categories before tuning (a random sample)"
    if not proposed:
        return _flag("too_few_examples", label, "clear",
                       "no behavior category holds enough failures to be proposed for tuning",
                       advice, threshold=need)
    fewest = min(proposed.values())
    listing = ", ".join(f"{_name(taxonomy, k)} {n}" for k, n in sorted(proposed.items(),
                                                                       key=lambda kv: kv[1]))
    status = "raised" if fewest < need else "clear"
    return _flag("too_few_examples", label, status, f"labeled examples: {listing}", advice,
                   fewest, threshold=need)


def noisy_labels(agreement: Agreement, decision: dict[str, float]) -> RedFlag:
    """Reviewers disagree on red_flag_disagreement or more of the double-labeled transcripts,
    or alpha is below min_alpha: tuning would learn the noise."""
    limit, n = decision["red_flag_disagreement"], agreement.n_items
    label = f"labels consistent: reviewers disagree on less than {pct(limit)} of double-labeled items"
    advice = "adjudicate the disagreements and sharpen the definitions they hinge on, then re-measure"
    need = int(decision["min_double_labeled"])
    if n < need:
        return _flag("noisy_labels", label, "not_assessed",
                       f"{n} double-labeled transcripts, at least {need} needed", advice,
                       threshold=limit)
    s = share_of(agreement.n_disagreements, n)
    alpha = agreement.krippendorff_alpha
    low_alpha = alpha is None or alpha < decision["min_alpha"]
    shown = "undefined" if alpha is None else f"{alpha:.2f}"
    evidence = (f"reviewers disagree on {agreement.n_disagreements} of {n} double-labeled "
                f"transcripts: {pct(s.share, 1)} (95% CI {pct(s.ci_low, 1)}–{pct(s.ci_high, 1)}); "
                f"Krippendorff's alpha {shown} (minimum {decision['min_alpha']:.2f})")
    raised = (s.share or 0) >= limit or low_alpha
    return _flag("noisy_labels", label, "raised" if raised else "clear", evidence, advice,
                   s.share, s.ci_low, s.ci_high, limit)


def _halves(labels: TimedLabels) -> tuple[datetime, Counter, Counter]:
    times = [at for at in labels.values() if at.size]
    first, last = min(float(at.min()) for at in times), max(float(at.max()) for at in times)
    middle = first + (last - first) / 2
    early = Counter({k: int((at <= middle).sum()) for k, at in labels.items() if at.size})
    late = Counter({k: int((at > middle).sum()) for k, at in labels.items() if at.size})
    return datetime.fromtimestamp(middle, UTC), early, late


def _pooled(early: Counter, late: Counter) -> list[list[int]]:
    """Rows (category, [early, late]) with rare categories pooled so every expected count is
    large enough for the chi-square approximation."""
    n_early, n_late = sum(early.values()), sum(late.values())
    total = n_early + n_late
    rows, other = [], [0, 0]
    for key in sorted(set(early) | set(late)):
        row = [early[key], late[key]]
        smallest = min(n_early, n_late) * sum(row) / total
        if smallest < MIN_EXPECTED:
            other = [other[0] + row[0], other[1] + row[1]]
        else:
            rows.append(row)
    if sum(other):
        rows.append(other)
    return rows


def shares_shift(labels: TimedLabels, basis: str, p_limit: float) -> tuple[str, str]:
    """(raised | clear | not_assessed, evidence): a chi-square test of category shares between
    the first and second half of the period (split at its midpoint in time)."""
    n = sum(at.size for at in labels.values())
    if n < 2 * MIN_PER_HALF:
        return "not_assessed", f"{n} failures: too few to compare halves of {basis}"
    middle, early, late = _halves(labels)
    n_early, n_late = sum(early.values()), sum(late.values())
    if min(n_early, n_late) < MIN_PER_HALF:
        return "not_assessed", (f"halves of {basis} split at {middle:%Y-%m-%d %H:%M} hold "
                                f"{n_early} and {n_late} failures: at least {MIN_PER_HALF} each needed")
    rows = _pooled(early, late)
    if len(rows) < 2:
        return "clear", f"one category (after pooling rare ones) in both halves of {basis}"
    from scipy.stats import chi2_contingency  # scipy.stats: ~1 s to import, here when used

    stat, p, df, _ = chi2_contingency(rows, correction=False)
    shift = max(sorted(set(early) | set(late)),  # ties: the first by key, every run
                key=lambda k: abs(early[k] / n_early - late[k] / n_late))
    evidence = (f"category shares, first vs second half of {basis} (split at "
                f"{middle:%Y-%m-%d %H:%M}; {n_early} and {n_late} failures): chi-square "
                f"{stat:.1f}, df {df}, p = {p:.3g}; largest shift {shift} "
                f"{pct(early[shift] / n_early)} → {pct(late[shift] / n_late)}")
    return ("raised" if p < p_limit else "clear"), evidence


def moving_target(changes: Sequence[VersionChange], labels: TimedLabels, basis: str,
                  decision: dict[str, float]) -> RedFlag:
    """The taxonomy's definitions changed during the labeling window, or category shares differ
    between the halves of the period."""
    p_limit = decision["red_flag_moving_target_p"]
    label = "a stable target: definitions unchanged, category shares steady over time"
    advice = ("settle the definitions and re-label under one taxonomy version; if traffic shifts, "
              "tune on recent data and plan to retrain")
    moved = [c for c in changes if c.moves_target]
    parts = [f"{c.before} → {c.after} (first used {c.first_used:%Y-%m-%d}): "
             + "; ".join(x for x in (c.changed and f"changed {', '.join(c.changed)}",
                                     c.removed and f"removed {', '.join(c.removed)}") if x)
             for c in moved]
    if not moved:
        only_added = [c for c in changes if c.added]
        parts.append("no definition changed in the labeling window" + (
            f" ({len(only_added)} version(s) only added categories)" if only_added else ""))
    status, shares = shares_shift(labels, basis, p_limit)
    parts.append(shares)
    final = "raised" if moved or status == "raised" else status
    return _flag("moving_target", label, final, "; ".join(parts), advice, threshold=p_limit)


def hallucination_leading(counts: Counter, n_failures: int, taxonomy: Taxonomy) -> RedFlag:
    """Categories marked hallucination = true hold at least as many failures as the largest
    other category: tuning does not reliably prevent them."""
    marked = [c.key for c in taxonomy.categories if c.hallucination]
    label = "hallucination-type failures do not lead"
    advice = "ground the answers: retrieval, citations of tool output, a verifier; not tuning"
    if not marked:
        return _flag("hallucination_leading", label, "not_assessed",
                       f"taxonomy {taxonomy.name} marks no category hallucination = true", advice)
    held = sum(counts[k] for k in marked)
    others = [(n, k) for k, n in counts.items() if k not in marked]
    top_n, top_k = max(others, default=(0, None))
    s = share_of(held, n_failures)
    names = ", ".join(_name(taxonomy, k) for k in marked)
    evidence = (f"{names} (marked hallucination): {held} of {n_failures} failures "
                f"({pct(s.share, 1)}); the largest other category"
                + (f", {_name(taxonomy, top_k)}, holds {top_n}" if top_k else ": none"))
    status = "raised" if held and held >= top_n else "clear"
    return _flag("hallucination_leading", label, status, evidence, advice, s.share, s.ci_low,
                   s.ci_high)


def too_broad(behavior: Counter, decision: dict[str, float], taxonomy: Taxonomy,
              scatter_of: ScatterOf | None) -> RedFlag:
    """One category holds most behavior failures while reviewers' notes in it scatter."""
    label = "the proposed category is one narrow task, not several under one name"
    advice = "split the category by what its notes describe, and label again"
    n = sum(behavior.values())
    if not n:
        return _flag("too_broad", label, "clear", "no behavior failures", advice)
    top, held = behavior.most_common(1)[0]
    head = f"{_name(taxonomy, top)} holds {held} of {n} behavior failures ({pct(held / n)})"
    if held / n < decision["min_top_behavior_share"]:
        return _flag("too_broad", label, "clear", f"{head}: no single category holds most",
                       advice, held / n)
    scatter = scatter_of(top) if scatter_of else None
    if scatter is None:
        return _flag("too_broad", label, "not_assessed",
                       f"{head}; whether reviewers' notes in it scatter needs the discovery "
                       "clusters, not assessed in this version", advice, held / n)
    return _flag("too_broad", label, "raised" if scatter.scattered else "clear",
                   f"{head}; {scatter.evidence}", advice, held / n)


def prompting_first(answer: str, proposed: Sequence[str], taxonomy: Taxonomy) -> RedFlag:
    """The framework's first step, answered by an admin (the tried_prompting_first setting)."""
    label = "prompting tried first (few-shot examples, explicit format instructions)"
    cats = ", ".join(_name(taxonomy, k) for k in proposed) or "the behavior categories"
    advice = (f"try few-shot examples and explicit format instructions for {cats} first; an "
              "admin records the answer in the tried_prompting_first setting")
    evidence = {"yes": "an admin answered yes (tried_prompting_first)",
                "no": "an admin answered no: prompting has not been tried first",
                }.get(answer, "unanswered: nobody has answered the tried_prompting_first setting")
    status = {"yes": "clear", "no": "raised"}.get(answer, "unanswered")
    return _flag("prompting_not_tried", label, status, evidence, advice)
