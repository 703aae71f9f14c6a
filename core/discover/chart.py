"""The saturation curve as a chart (the Discover page)."""

from __future__ import annotations

import plotly.graph_objects as go

from core.discover.model import SaturationPoint


def saturation_figure(curve: tuple[SaturationPoint, ...]) -> go.Figure:
    """Categories found against notes coded, one marker per re-clustering step."""
    fig = go.Figure(go.Scatter(x=[p.notes for p in curve], y=[p.clusters for p in curve],
                               mode="lines+markers", line={"color": "#2b6cb0", "width": 3},
                               hovertemplate="%{x} notes → %{y} categories<extra></extra>"))
    fig.update_layout(height=300, margin={"l": 50, "r": 20, "t": 30, "b": 45},
                      title={"text": "Saturation: categories found vs notes coded", "x": 0},
                      xaxis_title="notes coded (time order)", yaxis_title="categories",
                      yaxis={"rangemode": "tozero", "dtick": 1 if curve and
                             max(p.clusters for p in curve) <= 12 else None},
                      plot_bgcolor="white")
    fig.update_xaxes(gridcolor="#e2e8f0")
    fig.update_yaxes(gridcolor="#e2e8f0")
    return fig
