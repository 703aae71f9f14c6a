"""How the "before you tune" part of the report looks, in one place for the page, the HTML (and
so the PDF) and the Markdown: the red-flag table, the cost panel's tables, words and chart. The
renderers place these as self-contained sections."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from core.report.charts import CLASS_COLOURS, WIDTH
from core.report.cost import CostPanel
from core.report.model import Report
from core.report.tables import Table
from core.report.text import interval, pct

STATUS_WORDS = {"raised": "RAISED", "clear": "clear", "not_assessed": "not assessed",
                "unanswered": "unanswered"}
INPUT_NAMES = {
    "queries_per_month": "Queries per month", "avg_input_tokens": "Input tokens per query",
    "avg_output_tokens": "Output tokens per query", "api_model": "API model",
    "input_per_mtok": "API input price, USD per million tokens",
    "output_per_mtok": "API output price, USD per million tokens",
    "training_cost_usd": "Tuning: one-time training, USD",
    "tuned_serving_usd_per_month": "Tuned model: serving, USD per month",
    "amortize_months": "Training amortised over, months",
}
API_COLOUR, TUNED_COLOUR = "#2b6cb0", CLASS_COLOURS["behavior"]


def usd(value: float | None) -> str:
    """225.0 → '$225.00'; None → '–'."""
    return "–" if value is None else (f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}")


def _value(key: str, value) -> str:
    if value is None:
        return "–"
    if key in ("queries_per_month", "avg_input_tokens", "avg_output_tokens"):
        return f"{value:,.0f}"
    if key in ("input_per_mtok", "output_per_mtok", "training_cost_usd",
               "tuned_serving_usd_per_month"):
        return f"{value:,.2f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def red_flags_table(r: Report) -> Table:
    """Each red flag: its status, evidence and what to do."""
    rows = tuple((f.title, STATUS_WORDS.get(f.status, f.status), f.evidence, f.advice)
                 for f in r.red_flags)
    return Table("Before you tune: red flags", ("Red flag", "Status", "Evidence", "What to do"), rows)


def cost_inputs_table(c: CostPanel) -> Table:
    """Every input with its value and where it came from."""
    rows = tuple((INPUT_NAMES.get(k, k), _value(k, i.value), i.source, i.detail)
                 for k, i in c.inputs.items())
    return Table("Cost inputs", ("Input", "Value", "Source", "Where it came from"), rows)


def cost_outputs_table(c: CostPanel) -> Table:
    """What the API costs, what the tuned model costs, where they cross."""
    volume = c.inputs["queries_per_month"].value
    even = c.break_even_queries_per_month
    rows = (
        ("API per month", usd(c.api_monthly_usd), f"at {volume:,.0f} queries per month"),
        ("Tuned model per month", usd(c.tuned_monthly_usd), "training amortised + serving"),
        ("Break-even volume", "none" if even is None else f"{even:,} queries/month",
         "from this volume on, the tuned model costs less"),
        ("Monthly saving by tuning", usd(c.monthly_saving_usd),
         "negative: tuning costs more at this volume"),
        ("Failures tuning can address", pct(c.tunable_share.share, 1),
         f"behavior failures, {c.tunable_share.count} ({interval(c.tunable_share)})"),
    )
    return Table("Cost figures", ("Figure", "Value", "Note"), rows)


def cost_sentence(c: CostPanel) -> str:
    """The panel in two sentences, with the share tuning can address and its interval."""
    s = c.tunable_share
    reach = (f"A tuned model only addresses behavior failures: {pct(s.share, 1)} of labeled "
             f"failures ({interval(s)}, n = {s.count})"
             + (f"; proposed for tuning: {', '.join(c.proposed_categories)}."
                if c.proposed_categories else "."))
    if c.api_monthly_usd is None:
        return f"The API side cannot be priced: {c.notes[0]}. {reach}"
    volume = c.inputs["queries_per_month"].value
    side = "saves" if (c.monthly_saving_usd or 0) > 0 else "costs"
    return (f"At {volume:,.0f} queries a month the API costs {usd(c.api_monthly_usd)} and a tuned "
            f"model {usd(c.tuned_monthly_usd)}: tuning {side} {usd(abs(c.monthly_saving_usd or 0))} "
            f"a month; break-even at {c.break_even_queries_per_month:,} queries a month. {reach}")


def _volumes(c: CostPanel) -> list[float]:
    marks = [v for v in (c.break_even_queries_per_month, c.inputs["queries_per_month"].value)
             if v]
    low = max(1.0, min(marks, default=1000) / 100)
    high = max(marks, default=1000) * 100
    steps = 60
    return [10 ** (math.log10(low) + i * (math.log10(high) - math.log10(low)) / steps)
            for i in range(steps + 1)]


def cost_figure(c: CostPanel) -> go.Figure:
    """Monthly cost against queries per month (log axes): the API, the tuned model, the
    break-even point and the team's volume."""
    xs, tuned = _volumes(c), c.tuned_monthly_usd
    fig = go.Figure()
    if c.api_cost_per_query_usd:
        fig.add_scatter(x=xs, y=[x * c.api_cost_per_query_usd for x in xs], mode="lines",
                        name="API", line={"color": API_COLOUR, "width": 2.5})
    fig.add_scatter(x=xs, y=[tuned] * len(xs), mode="lines", name="Tuned model",
                    line={"color": TUNED_COLOUR, "width": 2.5})
    even = c.break_even_queries_per_month
    if even:
        fig.add_scatter(x=[even], y=[tuned], mode="markers+text", name="Break-even",
                        marker={"size": 11, "color": "#222", "symbol": "diamond"},
                        text=[f"break-even {even:,}/month"], textposition="top left")
    volume = c.inputs["queries_per_month"].value
    if volume:  # a trace, not add_vline: its annotation misplaces on a log axis
        ys = [y for tr in fig.data for y in tr.y if y]
        fig.add_scatter(x=[volume, volume], y=[min(ys), max(ys)], mode="lines",
                        name=f"Your volume ({volume:,.0f}/month)",
                        line={"color": "#555", "dash": "dash", "width": 1.5})
    fig.update_layout(
        title={"text": "Monthly cost against volume", "font": {"size": 14}}, width=WIDTH,
        height=340, margin={"l": 70, "r": 30, "t": 50, "b": 50}, plot_bgcolor="white",
        paper_bgcolor="white", legend={"orientation": "h", "y": -0.2},
        xaxis={"type": "log", "title": "queries per month", "gridcolor": "#eee"},
        yaxis={"type": "log", "title": "USD per month", "gridcolor": "#eee"})
    return fig
