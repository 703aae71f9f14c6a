"""The cost panel (issue 20): what the team pays the API at its volume and token counts, against
a tuned small model's training (amortised) and serving; the break-even volume. Every input says
where it came from: `setting` (the cost_scenario or price_table setting), `measured` (from the
imported transcripts) or `default`. Pure: core/report/tuning.py reads what it needs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.report.model import Share

DAYS_PER_MONTH = 365.25 / 12
MIN_SPAN_DAYS = 1.0  # timestamps spanning less than a day say nothing about a month
DEFAULTS: dict[str, Any] = {
    "queries_per_month": 100_000, "avg_input_tokens": 500, "avg_output_tokens": 100,
    "api_model": "gpt-4o", "training_cost_usd": 50.0, "tuned_serving_usd_per_month": 200.0,
    "amortize_months": 12,
}
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class CostInput:
    """One input of the cost model, where it came from and how it was found."""

    value: Any
    source: str  # setting | measured | default
    detail: str


@dataclass(frozen=True)
class Usage:
    """What the imported transcripts say about the team's traffic (None: not measurable)."""

    time_field: str | None = None
    n_timestamped: int = 0
    n_active: int = 0
    first: datetime | None = None
    last: datetime | None = None
    model_field: str | None = None
    models: tuple[tuple[str, int], ...] = ()
    avg_input_tokens: float | None = None
    avg_output_tokens: float | None = None
    n_token_sample: int = 0
    n_without_calls: int = 0
    token_method: str = ""


@dataclass(frozen=True)
class CostPanel:
    """The cost block of the report (`cost` in the JSON)."""

    inputs: dict[str, CostInput]
    api_cost_per_query_usd: float | None
    api_monthly_usd: float | None
    tuned_monthly_usd: float
    break_even_queries_per_month: int | None
    monthly_saving_usd: float | None  # at the team's volume; negative when tuning costs more
    tunable_share: Share  # the behavior share of failures: all a tuned model can address
    proposed_categories: tuple[str, ...]
    notes: tuple[str, ...]


def price_model(model: str, price_table: dict[str, Any]) -> str | None:
    """The price_table entry for a model name, also when it carries a date suffix."""
    for name in (model, _DATED.sub("", model)):
        if name in price_table:
            return name
    return None


def _volume(usage: Usage) -> CostInput | None:
    if not usage.time_field or usage.n_timestamped < 2 or usage.first is None or usage.last is None:
        return None
    days = (usage.last - usage.first).total_seconds() / 86400
    if days < MIN_SPAN_DAYS:
        return None
    per_month = round(usage.n_timestamped / days * DAYS_PER_MONTH)
    return CostInput(per_month, "measured", (
        f"{usage.n_timestamped:,} of {usage.n_active:,} transcripts carry metadata."
        f"{usage.time_field}, from {usage.first:%Y-%m-%d} to {usage.last:%Y-%m-%d} ({days:.1f} "
        "days); this counts imported transcripts only: if they are a sample of the traffic, set "
        "cost_scenario.queries_per_month"))


def _model(usage: Usage, price_table: dict[str, Any]) -> CostInput | None:
    for model, n in usage.models:
        if price_model(model, price_table):
            return CostInput(model, "measured", (
                f"metadata.{usage.model_field} of {n:,} of {usage.n_active:,} transcripts "
                "(the most common one with a price_table entry)"))
    return None


def _tokens(usage: Usage, key: str) -> CostInput | None:
    value = getattr(usage, key)
    if value is None:
        return None
    skipped = (f"; {usage.n_without_calls} without an assistant turn left out"
               if usage.n_without_calls else "")
    return CostInput(round(value), "measured", (
        f"mean over {usage.n_token_sample:,} of {usage.n_active:,} transcripts{skipped}; each "
        "assistant turn is a call that reads everything before it (tools and context included); "
        f"counted with {usage.token_method}"))


def resolve_inputs(scenario: dict[str, Any], usage: Usage,
                   price_table: dict[str, Any]) -> dict[str, CostInput]:
    """Each of the cost_scenario keys from the setting, else measured, else its default."""
    measured = {"queries_per_month": _volume(usage), "api_model": _model(usage, price_table),
                "avg_input_tokens": _tokens(usage, "avg_input_tokens"),
                "avg_output_tokens": _tokens(usage, "avg_output_tokens")}
    out = {}
    for key, default in DEFAULTS.items():
        if key in scenario:
            out[key] = CostInput(scenario[key], "setting", f"cost_scenario.{key}")
        elif measured.get(key) is not None:
            out[key] = measured[key]
        else:
            why = ("no transcript carries a timestamp spanning a day or more"
                   if key == "queries_per_month" else "not measurable from the transcripts"
                   if key in measured else "the cost model's default")
            out[key] = CostInput(default, "default", f"{why}; set cost_scenario.{key}")
    return out


def price_inputs(model: str, price_table: dict[str, Any], price_set: bool) -> dict[str, CostInput]:
    """The API model's input and output prices (USD per million tokens) from price_table."""
    entry = price_model(model, price_table)
    source = "setting" if price_set else "default"
    if entry is None:
        why = f"no price_table entry for {model!r}: add it to compute the API side"
        return {k: CostInput(None, source, why) for k in ("input_per_mtok", "output_per_mtok")}
    return {k: CostInput(float(price_table[entry].get(k, 0)), source, f"price_table[{entry!r}].{k}")
            for k in ("input_per_mtok", "output_per_mtok")}


def cost_figures(queries: float, tokens_in: float, tokens_out: float, price_in: float | None,
                 price_out: float | None, training: float, serving: float,
                 months: float) -> tuple[float | None, float | None, float, int | None, float | None]:
    """(API cost per query, API per month, tuned per month, break-even queries per month, monthly
    saving). Money is rounded to cents; break-even is the smallest whole volume from which the
    API costs more than the tuned model."""
    tuned = training / months + serving
    if price_in is None or price_out is None:
        return None, None, round(tuned, 2), None, None
    per_query = (tokens_in * price_in + tokens_out * price_out) / 1e6
    api = queries * per_query
    even = math.floor(tuned / per_query) + 1 if per_query > 0 else None
    return per_query, round(api, 2), round(tuned, 2), even, round(api - tuned, 2)


def cost_panel(inputs: dict[str, CostInput], tunable: Share,
               proposed: tuple[str, ...]) -> CostPanel:
    """The panel from resolved inputs (prices included) and the behavior share of failures."""
    v = {k: i.value for k, i in inputs.items()}
    per_query, api, tuned, even, saving = cost_figures(
        float(v["queries_per_month"]), float(v["avg_input_tokens"]), float(v["avg_output_tokens"]),
        v["input_per_mtok"], v["output_per_mtok"], float(v["training_cost_usd"]),
        float(v["tuned_serving_usd_per_month"]), float(v["amortize_months"]))
    notes = []
    if api is None:
        notes.append(inputs["input_per_mtok"].detail)
    if any(i.source == "default" for k, i in inputs.items() if k in DEFAULTS):
        notes.append("inputs marked default are assumptions: state your own with the "
                     "cost_scenario setting")
    return CostPanel(inputs, per_query, api, tuned, even, saving, tunable, proposed, tuple(notes))
