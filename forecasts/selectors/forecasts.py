"""Reading forecasts: the list, the latest one, and live accuracy against the naive baseline.

Shared by the API and the dashboard, so they return plain data: querysets of Forecast, a dataclass of
model rows, and a dict of numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import fmean

from django.conf import settings
from django.db.models import QuerySet

from forecasts.calendar import last_completed_trading_day, trading_calendar
from forecasts.exceptions import ForecastError
from forecasts.models import Forecast
from forecasts.selectors.prices import Freshness, data_freshness
from training.models import ModelVersion
from training.selectors import model_version_champion, model_version_naive_baseline

ACCURACY_WINDOWS = (20, 60, 250)


@dataclass(frozen=True)
class DataAge:
    """How far data dated `as_of_date` lags the last completed trading day, and whether that is too far.

    The one staleness rule of the service: /health/, GET /api/forecasts/latest/ and POST /api/predict/ use it.
    """

    as_of_date: dt.date | None
    expected_date: dt.date  # the last completed trading day
    days: int | None  # trading days after as_of_date up to expected_date (0: current); None: no data
    stale: bool  # no data, or more than settings.FORECAST_STALE_AFTER_DAYS trading days behind


@dataclass(frozen=True)
class LatestForecast:
    """The champion's newest live forecast and the naive one for the same day, with the data's freshness.

    `champion` is None before any training; `forecast` is None while the champion has no live forecast; `naive`
    is None when no naive forecast exists for that day (when the champion is the naive model, it is `forecast`).
    `data_age` is the age of the data `forecast` was made from (its as_of_date); None without a forecast.
    """

    champion: ModelVersion | None
    forecast: Forecast | None
    naive: Forecast | None
    freshness: Freshness
    data_age: DataAge | None = None


def data_age(*, as_of_date: dt.date | None, now: dt.datetime | None = None) -> DataAge:
    """The age in trading days (on settings.TRADING_CALENDAR) of data dated `as_of_date`, as of `now`."""
    expected = last_completed_trading_day(now)
    if as_of_date is None:
        return DataAge(as_of_date=None, expected_date=expected, days=None, stale=True)
    days = _sessions_after(as_of_date, expected)
    return DataAge(
        as_of_date=as_of_date, expected_date=expected, days=days, stale=days > settings.FORECAST_STALE_AFTER_DAYS
    )


def _sessions_after(day: dt.date, end: dt.date) -> int:
    """Trading sessions after `day` up to and including `end` (sessions before the calendar's start not counted)."""
    if day >= end:
        return 0
    calendar = trading_calendar()
    start = max(day + dt.timedelta(days=1), calendar.first_session.date())
    return len(calendar.sessions_in_range(start.isoformat(), end.isoformat()))


def forecast_list(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    kind: str | None = None,
    model_version: ModelVersion | int | None = None,
) -> QuerySet[Forecast]:
    """Forecasts with their model version, newest target day first; `start` and `end` are inclusive."""
    forecasts = Forecast.objects.select_related("model_version")
    if start is not None:
        forecasts = forecasts.filter(target_date__gte=start)
    if end is not None:
        forecasts = forecasts.filter(target_date__lte=end)
    if kind:
        forecasts = forecasts.filter(kind=kind)
    if model_version is not None:
        forecasts = forecasts.filter(model_version=model_version)
    return forecasts.order_by("-target_date", "kind", "model_version_id")


def forecast_latest(*, now: dt.datetime | None = None) -> LatestForecast:
    """The champion's newest live forecast (normally for the next trading day) and the naive one beside it."""
    freshness = data_freshness(now=now)
    champion = model_version_champion()
    if champion is None:
        return LatestForecast(champion=None, forecast=None, naive=None, freshness=freshness)
    forecast = (
        Forecast.objects.live()
        .filter(model_version=champion)
        .select_related("model_version")
        .order_by("-target_date")
        .first()
    )
    naive = age = None
    if forecast is not None:
        naive = forecast if champion.architecture == ModelVersion.Architecture.NAIVE else _naive_live_on(forecast)
        age = data_age(as_of_date=forecast.as_of_date, now=now)
    return LatestForecast(champion=champion, forecast=forecast, naive=naive, freshness=freshness, data_age=age)


def _naive_live_on(forecast: Forecast) -> Forecast | None:
    """The naive live forecast for the same day: the champion's baseline version's if stored, else any naive."""
    baseline = model_version_naive_baseline(champion=forecast.model_version)
    candidates = list(
        Forecast.objects.live()
        .filter(target_date=forecast.target_date, model_version__architecture=ModelVersion.Architecture.NAIVE)
        .select_related("model_version")
        .order_by("-created_at")
    )
    preferred = [f for f in candidates if baseline is not None and f.model_version_id == baseline.pk]
    return (preferred or candidates or [None])[0]


def forecast_accuracy(*, window: int) -> dict:
    """The champion against the naive forecast over the last `window` (20, 60 or 250) scored target days.

    Uses the champion's scored live forecasts paired with naive live forecasts of the same days. When fewer
    than `window` such pairs exist, it uses the champion's backtest (its test window, paired with the naive
    version's backtest on the same days) instead and says so in `source` and `note`; with no backtest either,
    the live pairs there are. Returns::

        {"window": 20, "source": "live" | "backtest" | None, "n": 20, "live_n": 7, "note": "...",
         "start": date | None, "end": date | None, "rmae": float | None,
         "champion": {"id", "label", "architecture", "n", "mae", "mape", "direction_hit_rate", "coverage_80"} | None,
         "naive": {... the same keys} | None}

    `mae` is in dollars, `mape` in percent, `direction_hit_rate` and `coverage_80` are fractions (0-1);
    `direction_hit_rate` is None for the naive model, which never calls a direction. `rmae` is the champion's
    MAE divided by the naive MAE on the same days (below 1: the champion beats "tomorrow = today").
    """
    if window not in ACCURACY_WINDOWS:
        raise ForecastError(f"The window must be one of {', '.join(map(str, ACCURACY_WINDOWS))} trading days.")
    champion = model_version_champion()
    result = {
        "window": window,
        "source": None,
        "n": 0,
        "live_n": 0,
        "note": "",
        "start": None,
        "end": None,
        "rmae": None,
        "champion": None,
        "naive": None,
    }
    if champion is None:
        return {**result, "note": "There is no champion model yet."}

    live = _scored_pairs(champion=champion, kind=Forecast.Kind.LIVE, window=window)
    source, pairs, note = Forecast.Kind.LIVE, live, ""
    if len(live) < window:
        backtest = _scored_pairs(champion=champion, kind=Forecast.Kind.BACKTEST, window=window)
        if backtest:
            source, pairs = Forecast.Kind.BACKTEST, backtest
            note = (
                f"Only {len(live)} scored live forecast{'s' if len(live) != 1 else ''} so far; "
                f"showing the champion's backtest (its last {len(backtest)} test days) instead."
            )
        elif live:
            note = f"Only {len(live)} scored live forecast{'s' if len(live) != 1 else ''} so far."
    result.update(live_n=len(live), note=note)
    if not pairs:
        return {**result, "note": "No scored days forecast by both the champion and the naive model yet."}

    champion_metrics = _metrics([c for c, _ in pairs], version=champion)
    naive_metrics = _metrics([n for _, n in pairs], version=pairs[-1][1].model_version)
    naive_mae = naive_metrics["mae"]
    return {
        **result,
        "source": str(source),
        "n": len(pairs),
        "start": pairs[0][0].target_date,
        "end": pairs[-1][0].target_date,
        "rmae": champion_metrics["mae"] / naive_mae if naive_mae else None,
        "champion": champion_metrics,
        "naive": naive_metrics,
    }


def _scored_pairs(*, champion: ModelVersion, kind: str, window: int) -> list[tuple[Forecast, Forecast]]:
    """(champion, naive) scored forecasts of the same target days: the last `window` of them, oldest first."""
    champion_rows = (
        Forecast.objects.scored()
        .filter(model_version=champion, kind=kind)
        .select_related("model_version")
        .order_by("-target_date")
    )
    if champion.architecture == ModelVersion.Architecture.NAIVE:
        rows = list(champion_rows[:window])
        return [(row, row) for row in reversed(rows)]

    baseline = model_version_naive_baseline(champion=champion)
    naive_rows = Forecast.objects.scored().filter(
        kind=kind,
        model_version__architecture=ModelVersion.Architecture.NAIVE,
        target_date__in=champion_rows.values("target_date"),
    )
    if kind == Forecast.Kind.BACKTEST:
        # A backtest belongs to its run's test window: compare with the naive version of the same run only.
        if baseline is None:
            return []
        naive_rows = naive_rows.filter(model_version=baseline)
    naive_by_day: dict[dt.date, Forecast] = {}
    for row in naive_rows.select_related("model_version").order_by("-created_at"):
        current = naive_by_day.get(row.target_date)
        if current is None or (baseline is not None and row.model_version_id == baseline.pk):
            naive_by_day[row.target_date] = row

    pairs = []
    for row in champion_rows.iterator():
        naive = naive_by_day.get(row.target_date)
        if naive is not None:
            pairs.append((row, naive))
            if len(pairs) == window:
                break
    return pairs[::-1]


def _metrics(rows: list[Forecast], *, version: ModelVersion) -> dict:
    calls = [row.direction_hit for row in rows if row.direction_hit is not None]
    return {
        "id": version.pk,
        "label": str(version),
        "architecture": version.architecture,
        "n": len(rows),
        "mae": fmean(abs(row.error) for row in rows),
        "mape": fmean(row.abs_pct_error for row in rows),
        "direction_hit_rate": sum(calls) / len(calls) if calls else None,
        "coverage_80": fmean(1.0 if row.inside_80 else 0.0 for row in rows),
    }
