"""The version page's cumulative-edge chart as a Plotly figure dict (drawn by static/js/goldsite.js, no inline code).

Pure: it takes a `forecasts.selectors.edge.EdgeSeries` and returns `{"data": [...], "layout": {...}}`. One line per
phase (out-of-fold CV days, then walk-forward test days) of Σ(|e_naive| − |e_model|) in dollars; vertical lines
mark the CV fold starts, the start of the test window and each walk-forward refit.
"""

from __future__ import annotations

import math

from forecasts.models import Forecast
from forecasts.selectors.edge import EdgeSeries
from goldsite.presentation.charts import BACKTEST_COLOR, LIVE_COLOR, date_axis, top_label, vertical_line

CV_COLOR = LIVE_COLOR  # teal
TEST_COLOR = BACKTEST_COLOR  # violet
FOLD_LINE = "rgba(13, 102, 96, 0.55)"
REFIT_LINE = "rgba(90, 58, 160, 0.30)"
TEST_LINE = "rgba(90, 58, 160, 0.85)"
PHASE_NAMES = {Forecast.Kind.CV: "Cross-validation (out-of-fold)", Forecast.Kind.BACKTEST: "Walk-forward test"}


def edge_figure(series: EdgeSeries) -> dict:
    """The cumulative difference in absolute error against naive, CV days then test days, with the boundaries."""
    data = []
    for phase, color in ((Forecast.Kind.CV, CV_COLOR), (Forecast.Kind.BACKTEST, TEST_COLOR)):
        points = [p for p in series.points if p.phase == phase]
        if not points:
            continue
        name = PHASE_NAMES[phase]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": [p.day.isoformat() for p in points],
                "y": [round(p.cumulative, 2) if math.isfinite(p.cumulative) else None for p in points],
                "line": {"width": 2, "color": color},
                "hovertemplate": f"{name}: Σ $%{{y:,.2f}} ahead of naive<extra></extra>",
            }
        )
    test_start = series.test_start
    shapes, annotations = [], []
    for number, day in enumerate(series.fold_starts, start=1):
        shapes.append(vertical_line(day, color=FOLD_LINE, dash="dot"))
        annotations.append(top_label(day, f"fold {number}"))
    for day in series.refit_dates:
        if day != test_start:
            shapes.append(vertical_line(day, color=REFIT_LINE, dash="dash"))
    if test_start is not None:
        shapes.append(vertical_line(test_start, color=TEST_LINE, dash="solid", width=1.5))
        annotations.append(top_label(test_start, "test"))
    return {
        "data": data,
        "layout": {
            "xaxis": date_axis(),
            "yaxis": {
                "title": {"text": "Σ |naive error| − |model error|", "standoff": 12},
                "tickprefix": "$",
                "tickformat": ",.0f",
                "zeroline": True,
                "zerolinewidth": 2,
            },
            "hovermode": "x unified",
            "showlegend": True,
            "shapes": shapes,
            "annotations": annotations,
        },
    }
