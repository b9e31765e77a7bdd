"""Plotly figures for the pages of both apps, built server-side as plain JSON-ready dicts (no Plotly import).

`static/js/goldsite.js` draws a figure `{"data": [...], "layout": {...}}` handed over with `json_script`.
The builders here are pure: they take sequences of rows and return the figure, so they are easy to test. The
colours, the date axis and the boundary lines (`vertical_line`, `top_label`) are shared by every chart, the
version page's edge chart (forecasts.views.edge_chart) included.
Every number in a figure is finite or None: `json_script` would otherwise write `Infinity`, which is not JSON.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Protocol

# Mid-tone colours that read on both the light and the dark page background.
ACTUAL_COLOR = "#b8860b"  # gold
LIVE_COLOR = "#0f8a80"  # teal, as .badge--live
BACKTEST_COLOR = "#7a5cc8"  # violet, as .badge--backtest
LATE_COLOR = "#c9731b"  # amber, as .badge--late
NAIVE_COLOR = "#8a93a3"  # grey
BAND_FILL = "rgba(70, 110, 190, 0.18)"
BAND_LINE = "rgba(70, 110, 190, 0.45)"

ISO_DATE = "%Y-%m-%d"


class ForecastRow(Protocol):
    """What the builders read from a forecast (a `forecasts.models.Forecast` has all of it)."""

    kind: str
    target_date: dt.date
    predicted_close: float
    lower_80: float
    upper_80: float


def _x(days: Iterable[dt.date]) -> list[str]:
    return [day.isoformat() for day in days]


def _y(values: Iterable[float]) -> list[float | None]:
    """Values rounded to cents; a non-finite one (a corrupt row) is None, a gap in Plotly's line, never Infinity."""
    return [round(value, 2) if math.isfinite(value := float(raw)) else None for raw in values]


def _money_hover(label: str) -> str:
    """Tooltip line such as "Actual close: $4,012.30" (the date heads the unified tooltip)."""
    return f"{label}: $%{{y:,.2f}}<extra></extra>"


def date_axis() -> dict:
    """An x axis of trading days, dates written YYYY-MM-DD in ticks and tooltips."""
    return {"type": "date", "hoverformat": ISO_DATE, "tickformat": ISO_DATE}


def vertical_line(day: dt.date, *, color: str, dash: str, width: float = 1.0) -> dict:
    """A layout shape: a vertical line across the whole plot at `day`, behind the traces."""
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": day.isoformat(),
        "x1": day.isoformat(),
        "y0": 0,
        "y1": 1,
        "line": {"color": color, "width": width, "dash": dash},
        "layer": "below",
    }


def top_label(day: dt.date, text: str) -> dict:
    """A layout annotation: `text` just above the plot, starting at `day` (names a `vertical_line`)."""
    return {
        "x": day.isoformat(),
        "xref": "x",
        "y": 1,
        "yref": "paper",
        "yanchor": "bottom",
        "xanchor": "left",
        "text": text,
        "showarrow": False,
        "font": {"size": 11},
    }


def forecast_figure(
    *,
    closes: Sequence[tuple[dt.date, float]],
    forecasts: Sequence[ForecastRow],
    naive: Sequence[ForecastRow] = (),
    show_naive: bool = False,
    actual_label: str = "Actual close",
) -> dict:
    """Actual gold closes with the model's forecasts over them.

    Traces, in drawing order: the 80% band (a lower edge and an upper edge filled down to it with
    `fill="tonexty"`, one legend entry), the actual close line, the live, late and backtest forecasts as
    markers (late ones as crosses: made after their target close was stored, never counted as live), and the
    naive forecast (a dashed line, hidden until `show_naive` or a legend click). Live, late and backtest traces
    appear only when there are rows of that kind; the band covers every forecast, a live row winning over a
    late one of the same day, and either over a backtest row.
    """
    data = [
        *_band_traces(_band_rows(forecasts)),
        _actual_trace(sorted(closes), label=actual_label),
        *_forecast_traces(forecasts),
        *_naive_traces(naive, show_naive=show_naive),
    ]
    return {
        "data": data,
        "layout": {
            "xaxis": date_axis(),
            "yaxis": {"tickprefix": "$", "tickformat": ",.0f", "separatethousands": True},
            "hovermode": "x unified",
            "showlegend": True,
        },
    }


def _band_rows(forecasts: Sequence[ForecastRow]) -> list[ForecastRow]:
    """One forecast per target day for the band, oldest first: live over late, either over backtest."""
    band_rank = {"live": 2, "late": 1}
    by_day: dict[dt.date, ForecastRow] = {}
    for row in sorted(forecasts, key=lambda r: (r.target_date, band_rank.get(r.kind, 0))):
        by_day[row.target_date] = row  # the live row of a day comes last and wins
    return [by_day[day] for day in sorted(by_day)]


def _band_traces(band_rows: Sequence[ForecastRow]) -> list[dict]:
    """The 80% band's lower edge and its upper edge filled down to it (one legend entry); none without rows."""
    if not band_rows:
        return []
    band_x = _x(row.target_date for row in band_rows)
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "80% range (low)",
            "x": band_x,
            "y": _y(row.lower_80 for row in band_rows),
            "line": {"width": 0.5, "color": BAND_LINE},
            "legendgroup": "band",
            "showlegend": False,
            "hovertemplate": _money_hover("80% range low"),
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "80% range",
            "x": band_x,
            "y": _y(row.upper_80 for row in band_rows),
            "fill": "tonexty",
            "fillcolor": BAND_FILL,
            "line": {"width": 0.5, "color": BAND_LINE},
            "legendgroup": "band",
            "hovertemplate": _money_hover("80% range high"),
        },
    ]


def _actual_trace(closes: Sequence[tuple[dt.date, float]], *, label: str) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": label,
        "x": _x(day for day, _ in closes),
        "y": _y(close for _, close in closes),
        "line": {"width": 2, "color": ACTUAL_COLOR},
        "hovertemplate": _money_hover(label),
    }


# Forecast markers by kind: (kind, legend name, colour, marker symbol), in drawing order.
FORECAST_MARKERS = (
    ("live", "Forecast (live)", LIVE_COLOR, "diamond"),
    ("late", "Forecast (late)", LATE_COLOR, "x"),
    ("backtest", "Forecast (backtest)", BACKTEST_COLOR, "circle"),
)


def _forecast_traces(forecasts: Sequence[ForecastRow]) -> list[dict]:
    """One marker trace per kind that has rows: live, late, backtest."""
    traces = []
    for kind, label, color, symbol in FORECAST_MARKERS:
        rows = sorted((row for row in forecasts if row.kind == kind), key=lambda r: r.target_date)
        if not rows:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "x": _x(row.target_date for row in rows),
                "y": _y(row.predicted_close for row in rows),
                "marker": {"size": 5 if kind == "backtest" else 7, "color": color, "symbol": symbol},
                "hovertemplate": _money_hover(label),
            }
        )
    return traces


def _naive_traces(naive: Sequence[ForecastRow], *, show_naive: bool) -> list[dict]:
    """The naive forecast as a dotted line, one point per day, hidden until asked for; none without rows."""
    naive_rows = sorted({row.target_date: row for row in naive}.values(), key=lambda r: r.target_date)
    if not naive_rows:
        return []
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Naive forecast",
            "x": _x(row.target_date for row in naive_rows),
            "y": _y(row.predicted_close for row in naive_rows),
            "line": {"width": 1.5, "color": NAIVE_COLOR, "dash": "dot"},
            "visible": True if show_naive else "legendonly",
            "hovertemplate": _money_hover("Naive forecast"),
        }
    ]


# The calibration chart: observed coverage of each band per volatility regime against its nominal level.
REGIME_LABELS = {"calm": "Calm", "normal": "Normal", "volatile": "Volatile"}
COVERAGE_COLORS = {"80": "#466ebe", "95": "#26407a"}  # the band's blue (BAND_LINE), and a darker one for 95%
NOMINAL = {"80": 80.0, "95": 95.0}


def _percent(value) -> float | None:
    """A 0-1 fraction as percent rounded to 0.1; None for a missing or non-finite one."""
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return round(number * 100.0, 1) if math.isfinite(number) else None


def calibration_figure(*, by_regime: dict[str, dict]) -> dict:
    """Observed against nominal coverage of the 80% and 95% bands on the calm, normal and volatile third of the days.

    `by_regime` is `training.ml.metrics.coverage_by_regime`'s shape ({"calm": {"n", "coverage_80", "coverage_95",
    ...}, ...}). Traces, in drawing order: one bar per band (observed, percent of the regime's days), then each
    band's nominal level as a dashed line across the regimes. A band that holds reaches its line in every regime.
    """
    regimes = [name for name in REGIME_LABELS if isinstance(by_regime.get(name), dict)]
    x = [REGIME_LABELS[name] for name in regimes]
    days = [by_regime[name].get("n") for name in regimes]
    data: list[dict] = []
    for key in NOMINAL:
        data.append(
            {
                "type": "bar",
                "name": f"{key}% band: observed",
                "x": x,
                "y": [_percent(by_regime[name].get(f"coverage_{key}")) for name in regimes],
                "customdata": days,
                "marker": {"color": COVERAGE_COLORS[key]},
                "hovertemplate": f"{key}% band held on %{{y:.1f}}% of %{{customdata}} days<extra></extra>",
            }
        )
    for key, level in NOMINAL.items():
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{key}% nominal",
                "x": x,
                "y": [level] * len(x),
                "line": {"width": 1.5, "color": COVERAGE_COLORS[key], "dash": "dash"},
                "hovertemplate": f"{key}% nominal<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            "barmode": "group",
            "xaxis": {"type": "category"},
            "yaxis": {"range": [0, 100], "ticksuffix": "%", "title": {"text": "Closes inside the band"}},
            "hovermode": "closest",
            "showlegend": True,
        },
    }
