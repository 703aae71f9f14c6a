"""Before you tune: reads what the cost panel and the red flags need (settings, the transcripts'
traffic and tokens, label times, taxonomy versions) and assembles both. The report builder
calls `read_tuning_data` after reading its own data, and `assess` from its pure composition."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from core.labels.agreement import Agreement
from core.prelabel.tokens import ConversationTokens, conversation_tokens, token_counter
from core.report.cost import CostPanel, Usage, cost_panel, price_inputs, resolve_inputs
from core.report.failures import Failures, category_counts, n_failures
from core.report.model import Share
from core.report.red_flags import (
    RedFlag,
    Scatter,
    ScatterOf,
    TimedLabels,
    VersionChange,
    hallucination_leading,
    moving_target,
    noisy_labels,
    prompting_first,
    too_broad,
    too_few_examples,
)
from core.store import tuning_data
from core.store.connection import Database
from core.store.settings import get_settings, setting_is_set
from core.store.transcripts import get_transcripts
from core.store.tuning_data import LabelTimes
from core.taxonomy import Taxonomy

TOKEN_SAMPLE = 300  # transcripts tokens are measured on (a seeded random sample)
# Per content hash and counting method: a page rerun measures nothing twice.
_TOKENS: dict[tuple[str, str], ConversationTokens] = {}


@dataclass(frozen=True)
class TuningData:
    """Everything `assess` needs, read in one go."""

    scenario: dict
    price_table: dict
    price_set: bool
    prompting: str
    usage: Usage
    label_times: tuple[LabelTimes, ...] = ()
    changes: tuple[VersionChange, ...] = ()
    scatter_of: ScatterOf | None = field(default=None, compare=False)


def _measure_tokens(db: Database, model: str) -> dict:
    counter = token_counter(model)
    picked, _ = tuning_data.sample_transcript_ids(db, TOKEN_SAMPLE)
    missing = [tid for tid, h in picked if (h, counter.method) not in _TOKENS]
    for t in get_transcripts(db, missing):
        _TOKENS[(t.content_hash, counter.method)] = conversation_tokens(
            t.messages, t.context, t.tools, counter.count)
    measured = [_TOKENS[(h, counter.method)] for _, h in picked if (h, counter.method) in _TOKENS]
    served = [m for m in measured if m.calls]
    if not served:
        return {"token_method": counter.method, "n_without_calls": len(measured)}
    return {"avg_input_tokens": sum(m.input_tokens for m in served) / len(served),
            "avg_output_tokens": sum(m.output_tokens for m in served) / len(served),
            "n_token_sample": len(served), "n_without_calls": len(measured) - len(served),
            "token_method": counter.method}


def measure_usage(db: Database, scenario: dict, price_table: dict) -> Usage:
    """Traffic, model and tokens as the active transcripts show them (tokens counted for the
    model the cost panel prices)."""
    stamps = tuning_data.transcript_timestamps(db)
    models = tuning_data.model_counts(db)
    usage = Usage(
        time_field=stamps.field if stamps else None, n_timestamped=stamps.n_with if stamps else 0,
        n_active=tuning_data.sample_transcript_ids(db, 0)[1],
        first=stamps.first if stamps else None, last=stamps.last if stamps else None,
        model_field=models[0] if models else None, models=tuple(models[1]) if models else ())
    model = resolve_inputs(scenario, usage, price_table)["api_model"].value
    return dataclasses.replace(usage, **_measure_tokens(db, str(model)))


def version_changes(db: Database) -> tuple[VersionChange, ...]:
    """How each taxonomy version used in the labeling window differs from the one before it."""
    windows = tuning_data.version_windows(db)
    out = []
    for before, after in zip(windows, windows[1:], strict=False):
        old = tuning_data.category_definitions(db, before.taxonomy_name, before.taxonomy_version)
        new = tuning_data.category_definitions(db, after.taxonomy_name, after.taxonomy_version)
        out.append(VersionChange(
            f"{before.taxonomy_name}@{before.taxonomy_version}",
            f"{after.taxonomy_name}@{after.taxonomy_version}", after.first,
            tuple(k for k in old if k in new and old[k] != new[k]),
            tuple(k for k in old if k not in new), tuple(k for k in new if k not in old)))
    return tuple(out)


def notes_scatter(db: Database) -> ScatterOf:
    """How scattered reviewers' notes in a category are, from discovery's clusters of those notes
    (core/discover/spread.py): raised when they spread over SCATTERED_CLUSTERS or more clusters
    of similar size, none holding most of them. Computed only when the flag asks for it."""
    from core.discover.spread import category_notes_spread

    def scatter(category: str) -> Scatter | None:
        found = category_notes_spread(db, category)
        if found is None:
            return None
        discovery, s = found
        names = ", ".join(f"{discovery.cluster(k).name} ({n})" for k, n in s.clusters[:4])
        scattered = s.effective_clusters >= SCATTERED_CLUSTERS and s.top_share < 0.5
        return Scatter(scattered, (
            f"its {s.n_notes} reviewer notes fall into {len(s.clusters)} discovered clusters "
            f"(effectively {s.effective_clusters:g}; the largest holds {s.top_share:.0%}): "
            f"{names}" + (f"; {s.n_outliers} fit no cluster" if s.n_outliers else "")))
    return scatter


SCATTERED_CLUSTERS = 3.0


def read_tuning_data(db: Database, scatter_of: ScatterOf | None = None) -> TuningData:
    """Read the before-you-tune inputs (after report_data.read_report_data on this thread)."""
    s = get_settings(db, "cost_scenario", "price_table", "tried_prompting_first")
    usage = measure_usage(db, s["cost_scenario"], s["price_table"])
    return TuningData(s["cost_scenario"], s["price_table"], setting_is_set(db, "price_table"),
                      s["tried_prompting_first"], usage,
                      tuple(tuning_data.label_times(db, usage.time_field)), version_changes(db),
                      scatter_of)


def proposed_for_tuning(behavior: Counter, n_failures: int, min_share: float) -> dict[str, int]:
    """Behavior categories holding at least `min_share` of all failures, with their counts."""
    return {k: c for k, c in behavior.items() if n_failures and c / n_failures >= min_share}


def _timed(data: TuningData, failures: Failures) -> tuple[TimedLabels, str]:
    """The failures' times: when they happened if every one carries a time, else when they
    were first labeled."""
    failing = {(g.primary_label, g.fix_class) for g, _ in failures}
    groups = [g for g in data.label_times if (g.primary_label, g.fix_class) in failing]
    happened = bool(groups) and bool(data.usage.time_field) and all(
        bool(g.happened_at.all()) for g in groups)
    by_category: dict[str, list[np.ndarray]] = {}
    for g in groups:
        by_category.setdefault(g.primary_label, []).append(g.happened_at if happened else g.labeled_at)
    timed = {k: np.concatenate(v) for k, v in by_category.items()}
    if happened:
        return timed, f"the period the transcripts cover (metadata.{data.usage.time_field})"
    return timed, "the labeling window"


def assess(data: TuningData, failures: Failures, agreement: Agreement,
           taxonomy: Taxonomy, behavior_share: Share) -> tuple[CostPanel, tuple[RedFlag, ...]]:
    """The cost panel and the red flags from the data and the report's failures ((group, fix
    class) pairs)."""
    counts, behavior = category_counts(failures), category_counts(failures, "behavior")
    n = n_failures(failures)
    proposed = proposed_for_tuning(behavior, n, taxonomy.decision["tuned_category_min_share"])
    ranked = tuple(sorted(proposed, key=lambda k: -proposed[k]))
    inputs = resolve_inputs(data.scenario, data.usage, data.price_table)
    inputs.update(price_inputs(str(inputs["api_model"].value), data.price_table, data.price_set))
    timed, basis = _timed(data, failures)
    flags = (
        too_few_examples(proposed, taxonomy.decision, taxonomy),
        noisy_labels(agreement, taxonomy.decision),
        moving_target(data.changes, timed, basis, taxonomy.decision),
        hallucination_leading(counts, n, taxonomy),
        too_broad(behavior, taxonomy.decision, taxonomy, data.scatter_of),
        prompting_first(data.prompting, ranked, taxonomy),
    )
    return cost_panel(inputs, behavior_share, ranked), flags
