"""The dashboard: the next-day forecast (live or late), the price chart, live accuracy and the recent forecasts.

One URL, `/`, renders the whole page. Its three interactive regions (chart, accuracy, forecast table) each
have an id; an htmx request aimed at one of them (the `HX-Target` header) gets only that region's
fragment, so range switches, accuracy tabs and pagination swap in place. Every link also works as a plain
link (its `href` carries the same query), so the page is complete without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from forecasts.models import Forecast
from forecasts.selectors.accuracy import ACCURACY_WINDOWS, forecast_accuracy
from forecasts.selectors.forecasts import forecast_latest, forecast_list
from forecasts.selectors.prices import price_bars_list, price_latest_date
from goldsite.presentation.charts import calibration_figure, forecast_figure
from goldsite.presentation.formatting import percent_units
from training.evidence import champion_evidence
from training.models import ModelVersion
from training.selectors import model_version_champion, model_version_naive_baseline

# Chart ranges: label -> calendar days back from the newest gold bar (None: the whole history).
RANGES: dict[str, int | None] = {"1M": 31, "3M": 92, "1Y": 366, "All": None}
DEFAULT_RANGE = "3M"
DEFAULT_WINDOW = ACCURACY_WINDOWS[0]
FORECASTS_PER_PAGE = 10

# Region id (the htmx target) -> its fragment template.
CHART_REGION = "dashboard-chart"
ACCURACY_REGION = "dashboard-accuracy"
FORECASTS_REGION = "dashboard-forecasts"
FRAGMENTS = {
    CHART_REGION: "forecasts/partials/_chart_panel.html",
    ACCURACY_REGION: "forecasts/partials/_accuracy_panel.html",
    FORECASTS_REGION: "forecasts/partials/_forecast_table.html",
}


@dataclass(frozen=True)
class DashboardQuery:
    """The dashboard's query string, with bad or missing values replaced by the defaults."""

    range: str = DEFAULT_RANGE
    show_naive: bool = False
    window: int = DEFAULT_WINDOW
    page: str = "1"

    @classmethod
    def parse(cls, query: QueryDict) -> DashboardQuery:
        chosen = query.get("range", DEFAULT_RANGE)
        try:
            window = int(query.get("window", DEFAULT_WINDOW))
        except ValueError:
            window = DEFAULT_WINDOW
        return cls(
            range=chosen if chosen in RANGES else DEFAULT_RANGE,
            show_naive=query.get("naive") == "1",
            window=window if window in ACCURACY_WINDOWS else DEFAULT_WINDOW,
            page=query.get("page", "1"),
        )


# What the dashboard charts and lists: forecasts as live operation made (or would have made) them. The CV
# folds' out-of-fold forecasts are model-selection evidence, shown on each version's page instead.
DASHBOARD_KINDS = (Forecast.Kind.LIVE, Forecast.Kind.LATE, Forecast.Kind.BACKTEST)


# --- Regions ------------------------------------------------------------------------------------------


def _forecast_card_context() -> dict:
    latest = forecast_latest()
    forecast = latest.forecast
    change = change_pct = None
    if forecast is not None and forecast.last_close:
        change = forecast.predicted_close - forecast.last_close
        change_pct = (forecast.predicted_close / forecast.last_close - 1.0) * 100.0
    return {
        "latest": latest,
        "change": change,
        "change_pct": change_pct,
        "evidence": champion_evidence(champion=latest.champion),  # the champion against naive, in words
    }


def chart_context(*, query: DashboardQuery, champion: ModelVersion | None) -> dict:
    """The price chart for the chosen range: gold closes, the champion's forecasts and the naive forecast."""
    newest = price_latest_date(symbol=settings.GOLD_SYMBOL)
    days = RANGES[query.range]
    start = newest - dt.timedelta(days=days) if newest is not None and days is not None else None
    closes = list(price_bars_list(symbol=settings.GOLD_SYMBOL, start=start).values_list("date", "close"))
    forecasts, naive = [], []
    if champion is not None:
        forecasts = list(forecast_list(start=start, kinds=DASHBOARD_KINDS, model_version=champion))
        baseline = model_version_naive_baseline(champion=champion)
        if baseline is not None and baseline.pk != champion.pk:
            naive = list(forecast_list(start=start, kinds=DASHBOARD_KINDS, model_version=baseline))
    figure = forecast_figure(closes=closes, forecasts=forecasts, naive=naive, show_naive=query.show_naive)
    return {
        "query": query,
        "ranges": list(RANGES),
        "has_prices": bool(closes),
        "has_naive": bool(naive),
        "has_late": any(row.kind == Forecast.Kind.LATE for row in forecasts),
        "price_figure": figure,
        "chart_label": (
            f"Gold close{' and champion forecasts' if forecasts else ''}, "
            f"{'whole history' if days is None else 'last ' + query.range}"
            + (f", {closes[0][0].isoformat()} to {closes[-1][0].isoformat()}" if closes else "")
        ),
    }


def accuracy_context(*, query: DashboardQuery) -> dict:
    accuracy = forecast_accuracy(window=query.window)
    rows = {}
    for side in ("champion", "naive"):
        metrics = accuracy[side]
        if metrics is not None:
            rows[side] = {
                **metrics,
                "direction_hit_pct": percent_units(metrics["direction_hit_rate"]),
                "coverage_80_pct": percent_units(metrics["coverage_80"]),
            }
    rmae = accuracy["rmae"]
    bands = accuracy["bands"]
    calibration = bands["calibration"]
    figure = calibration_figure(by_regime=calibration["by_regime"]) if calibration["by_regime"] else None
    where = "walk-forward test" if calibration["source"] == "backtest" else f"last {calibration['n']} live days"
    return {
        "query": query,
        "windows": ACCURACY_WINDOWS,
        "accuracy": accuracy,
        "champion_metrics": rows.get("champion"),
        "naive_metrics": rows.get("naive"),
        "beats_naive": None if rmae is None else rmae < 1.0,
        "bands": bands,
        "show_bands": bands["n"] > 0 or figure is not None,
        "calibration_figure": figure,
        "calibration_label": (
            f"Observed against nominal coverage of the 80% and 95% bands on calm, normal and volatile days, {where}"
        ),
    }


def forecasts_context(*, query: DashboardQuery, champion: ModelVersion | None) -> dict:
    if champion is not None:
        rows = forecast_list(kinds=DASHBOARD_KINDS, model_version=champion)
    else:
        rows = forecast_list().none()
    page_obj = Paginator(rows, FORECASTS_PER_PAGE).get_page(query.page)
    return {"query": query, "page_obj": page_obj, "champion": champion}


# --- View ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The whole page, or the one region an htmx request targets."""
    query = DashboardQuery.parse(request.GET)
    champion = model_version_champion()
    target = request.htmx.target if request.htmx and not request.htmx.history_restore_request else None
    if target == CHART_REGION:
        context = chart_context(query=query, champion=champion)
    elif target == ACCURACY_REGION:
        context = accuracy_context(query=query)
    elif target == FORECASTS_REGION:
        context = forecasts_context(query=query, champion=champion)
    else:
        context = {
            **_forecast_card_context(),
            **chart_context(query=query, champion=champion),
            **accuracy_context(query=query),
            **forecasts_context(query=query, champion=champion),
        }
    template = FRAGMENTS.get(target, "forecasts/dashboard.html")
    response = render(request, template, context)
    # The same URL answers with a fragment or the page, depending on these headers.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
