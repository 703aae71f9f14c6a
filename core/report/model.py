"""The report as a tree of frozen dataclasses, and its JSON form (`Report.to_dict()`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from core.labels.agreement import Agreement
from core.stats import wilson_interval

if TYPE_CHECKING:  # their modules build on this one
    from core.report.cost import CostPanel
    from core.report.red_flags import RedFlag

VERDICTS = ("pipeline_first", "tuning_justified", "behavior_not_ready", "inconclusive")


@dataclass(frozen=True)
class Share:
    """count out of a denominator, the share, and its two-sided 95% Wilson interval."""

    count: int
    share: float | None
    ci_low: float | None
    ci_high: float | None


def share_of(count: int, n: int) -> Share:
    """count/n with its Wilson interval; share and bounds are None when n is 0."""
    low, high = wilson_interval(count, n)
    return Share(count, count / n if n else None, low, high)


@dataclass(frozen=True)
class Check:
    """One readiness item: its figure, its threshold (from the taxonomy's [decision]), pass/fail."""

    check: str
    label: str
    value: float | None
    threshold: float
    passed: bool
    detail: str


@dataclass(frozen=True)
class NextAction:
    """A category that drives the verdict, with its count and the taxonomy's typical fix.
    ideal_responses (behavior categories only): reviewer-written responses, the tuning seed."""

    key: str
    name: str
    fix_class: str
    count: int
    share: float | None
    typical_fix: str
    ideal_responses: int | None


@dataclass(frozen=True)
class SliceRow:
    """One value of a metadata field: how many transcripts, failures, and their fix classes."""

    value: str
    n_labeled: int
    n_failures: int
    small: bool
    fix_classes: dict[str, Share]
    top_category: str | None


@dataclass(frozen=True)
class Sampling:
    """How the labeled sample was drawn, and how much of it came from non-random queues."""

    random_only: bool
    samples: tuple[dict[str, Any], ...]
    queues: dict[str, int]
    n_labels: int
    non_random_share: float | None
    unrecorded_queue_share: float | None
    n_excluded_by_random_only: int
    warning: str | None


@dataclass(frozen=True)
class TaxonomyInfo:
    """The taxonomy the report uses and the versions the labels were made with."""

    name: str
    version: str
    versions: tuple[dict[str, Any], ...]
    warning: str | None


@dataclass(frozen=True)
class ExampleItem:
    """An example transcript of a top category (raw text: renderers escape it). `snippet` is
    the message where a reviewer marked the failure, else the pre-labeler's evidence, else the
    last assistant message; `snippet_from` says which. `metadata` holds only the keys the
    `report_fields` setting allows."""

    transcript_id: str
    short_id: str
    category: str
    snippet: str
    snippet_from: str
    note: str | None
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its two-sided 95% interval (None when there is nothing to estimate)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class WidthPoint:
    """How wide the leading share's 95% interval would be (± share points) with n human labels."""

    n: int
    human_only: float
    population: float | None


@dataclass(frozen=True)
class Population:
    """The verdict for the whole population (issue 17's contract: `lam` is JSON `lambda`).
    Shares are of failures, clipped to [0, 1]; with method human-only the figures are the
    human-only report's and `reason` says why."""

    method: str  # ppi++ | cross-ppi | human-only
    N: int
    n: int
    n_excluded_nonrandom: int
    labeler: str | None
    lam: float | None
    verdict_statistic: Estimate
    fix_classes: dict[str, Estimate]
    effective_n: int | None
    verdict: str
    reason: str | None
    labeler_model: str | None = None
    prompt_version: str | None = None
    folds: int | None = None
    scope: str = "all active transcripts"
    behavior_statistic: Estimate | None = None
    categories: dict[str, Estimate] = dataclasses.field(default_factory=dict)
    no_failure: Estimate | None = None
    human_only_half_width: float | None = None  # the verdict statistic's, same random sample
    n_excluded_few_shot: int = 0
    n_excluded_open: int = 0
    more_labels_needed: int | None = None
    more_labels_reason: str = ""
    width_by_n: tuple[WidthPoint, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """The whole triage report. `to_dict()` gives the documented JSON keys."""

    verdict: str
    verdict_sentence: str
    leading_class: str | None
    n_transcripts: int
    n_labeled: int
    n_failures: int
    n_open_disagreements: int
    fix_classes: dict[str, Share]
    categories: dict[str, Share]
    no_failure: Share
    readiness: tuple[Check, ...]
    more_failures_needed: int | None
    more_failures_reason: str
    agreement: Agreement
    prelabeler: dict[str, Any] | None
    sampling: Sampling
    next_actions: tuple[NextAction, ...]
    slices: dict[str, tuple[SliceRow, ...]]
    examples: tuple[ExampleItem, ...]
    taxonomy: TaxonomyInfo
    reviewers: dict[str, int]
    date_range: dict[str, str | None]
    warnings: tuple[str, ...]
    generated_at: str
    population: Population | None = None
    verdict_basis: str = "human-only"  # population | human-only: which estimate `verdict` uses
    human_verdict: str | None = None  # the human-only verdict, whichever is used
    cost: CostPanel | None = None  # before you tune: the cost panel (core/report/cost.py)
    red_flags: tuple[RedFlag, ...] = ()  # before you tune: shown with the readiness checks
    left_out: dict[str, int] = dataclasses.field(default_factory=dict)  # demo, archived

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (lists, dicts, numbers, strings, None)."""
        return _plain(self)


_JSON_NAMES = {"lam": "lambda"}  # field names Python reserves


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_JSON_NAMES.get(f.name, f.name): _plain(getattr(value, f.name))
                for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
