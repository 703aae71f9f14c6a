"""Plotly figures of the report (shared by the page and the HTML export). Fixed sizes, so the
exported page prints the same everywhere. Only taxonomy names go into figures, never
transcript text or metadata values."""

from __future__ import annotations

import plotly.graph_objects as go

from core.report.model import Report, Share
from core.taxonomy import Taxonomy

CLASS_COLOURS = {"pipeline": "#2b6cb0", "behavior": "#c05621", "model": "#6b46c1", "unknown": "#718096"}
WIDTH = 660


def _tick(label: str, s: Share, with_interval: bool) -> str:
    if with_interval and s.ci_low is not None:
        return f"{label}  {s.share or 0:.0%} (n={s.count}, CI {s.ci_low:.0%}–{s.ci_high:.0%})"
    return f"{label}  {s.share or 0:.0%} (n={s.count})"


def _bars(labels: list[str], shares: list[Share], colours: list[str], height: int,
          title: str, half_line: bool = True) -> go.Figure:
    values = [s.share or 0.0 for s in shares]
    plus = [(s.ci_high - (s.share or 0)) if s.ci_high is not None else 0 for s in shares]
    minus = [((s.share or 0) - s.ci_low) if s.ci_low is not None else 0 for s in shares]
    # The few fix classes carry their interval in the label: the chart alone is the summary.
    ticks = [_tick(lab, s, half_line) for lab, s in zip(labels, shares, strict=True)]
    fig = go.Figure(go.Bar(
        x=values, y=ticks, orientation="h", marker_color=colours, cliponaxis=False,
        error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                 "color": "#222", "thickness": 1.5, "width": 6},
        hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    if half_line:
        fig.add_vline(x=0.5, line_dash="dash", line_color="#888",
                      annotation_text="50%", annotation_position="top")
    fig.update_layout(
        title={"text": title, "font": {"size": 14}}, width=WIDTH, height=height,
        margin={"l": 240, "r": 40, "t": 44, "b": 30}, plot_bgcolor="white",
        paper_bgcolor="white", showlegend=False,
        xaxis={"range": [0, 1], "tickformat": ".0%", "gridcolor": "#eee"},
        yaxis={"autorange": "reversed"})
    return fig


def fix_class_figure(report: Report) -> go.Figure:
    """Share of failures per fix class with 95% Wilson intervals and the 50% line."""
    classes = list(report.fix_classes)
    return _bars(classes, [report.fix_classes[c] for c in classes],
                 [CLASS_COLOURS.get(c, "#555") for c in classes], 170,
                 f"Fix class, share of {report.n_failures} failures (95% Wilson interval)")


def category_figure(report: Report, taxonomy: Taxonomy) -> go.Figure:
    """Share of failures per category with intervals, coloured by fix class."""
    keys = list(report.categories)
    names, colours = [], []
    for k in keys:
        cat = taxonomy.category(k) if k in taxonomy.keys else None
        names.append(taxonomy.name_of(k))
        colours.append(CLASS_COLOURS.get(cat.fix_class if cat else "", "#555"))
    return _bars(names, [report.categories[k] for k in keys], colours, 56 + 22 * len(keys),
                 f"Categories, share of {report.n_failures} failures", half_line=False)


def population_figure(report: Report) -> go.Figure:
    """Both estimates side by side with their 95% intervals: human-only (Wilson) and the
    population (prediction-powered), per fix class, with the 50% line."""
    p = report.population
    classes = list(report.fix_classes)
    fig = go.Figure()
    series = [("Human-only", "#a0aec0", [report.fix_classes[c] for c in classes], "share")]
    if p is not None and p.method != "human-only":
        series.append((f"Population ({p.method})", "#2b6cb0", [p.fix_classes[c] for c in classes],
                       "estimate"))
    for name, colour, items, attr in series:
        x = [getattr(s, attr) or 0.0 for s in items]
        fig.add_trace(go.Bar(
            name=name, x=x, y=classes, orientation="h", marker_color=colour, cliponaxis=False,
            error_x={"type": "data", "symmetric": False, "color": "#222", "thickness": 1.5,
                     "array": [(s.ci_high or v) - v for s, v in zip(items, x, strict=True)],
                     "arrayminus": [v - (s.ci_low or v) for s, v in zip(items, x, strict=True)]},
            hovertemplate="%{y}: %{x:.1%}<extra>" + name + "</extra>"))
    fig.add_vline(x=0.5, line_dash="dash", line_color="#888", annotation_text="50%",
                  annotation_position="top")
    fig.update_layout(
        title={"text": "Share of failures: human-only vs population (95% intervals)",
               "font": {"size": 14}}, width=WIDTH, height=280, barmode="group",
        margin={"l": 90, "r": 40, "t": 50, "b": 40}, plot_bgcolor="white", paper_bgcolor="white",
        legend={"orientation": "h", "y": -0.15}, yaxis={"autorange": "reversed"},
        xaxis={"range": [0, 1], "tickformat": ".0%", "gridcolor": "#eee"})
    return fig


def width_figure(report: Report) -> go.Figure:
    """How the leading share's interval narrows as human labels grow: human-only vs with the
    pre-labels (projected from the current variances), the current n marked."""
    p = report.population
    points = p.width_by_n if p is not None else ()
    fig = go.Figure()
    n = [w.n for w in points]
    fig.add_trace(go.Scatter(x=n, y=[w.human_only for w in points], name="Human-only",
                             mode="lines", line={"color": "#a0aec0", "width": 3}))
    fig.add_trace(go.Scatter(x=n, y=[w.population for w in points], name="Population",
                             mode="lines", line={"color": "#2b6cb0", "width": 3}))
    if p is not None and points:
        fig.add_vline(x=p.n, line_dash="dot", line_color="#555",
                      annotation_text=f"now: n = {p.n}", annotation_position="top right")
    fig.update_layout(
        title={"text": "Interval half-width (± share points) as human labels grow",
               "font": {"size": 14}}, width=WIDTH, height=300,
        margin={"l": 60, "r": 40, "t": 50, "b": 50}, plot_bgcolor="white", paper_bgcolor="white",
        legend={"orientation": "h", "y": -0.25},
        xaxis={"title": "human labels in the random sample (n)", "gridcolor": "#eee"},
        yaxis={"tickformat": ".0%", "gridcolor": "#eee", "rangemode": "tozero"})
    return fig
