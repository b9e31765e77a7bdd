"""Reading forecasts: the list, the latest one and the age of the data it was made from.

Shared by the API and the dashboard, so they return plain data: querysets of Forecast and dataclasses of
model rows (accuracy is in `forecasts.selectors.accuracy`). Late forecasts (made after their target close
was stored, see `forecasts.selectors.live_record`) are shown as such and never counted as live.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from forecasts.calendar import last_completed_trading_day, trading_calendar
from forecasts.exceptions import NO_CHAMPION, ForecastNotReady
from forecasts.models import Forecast
from forecasts.selectors.live_record import MissingBars, live_forecast_missing_bars
from forecasts.selectors.prices import Freshness, data_freshness
from training.models import ModelVersion
from training.selectors import model_version_champion, model_version_naive_baseline


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
    """The champion's newest next-day forecast (live or late) and the naive one for the same day and kind.

    `champion` is None before any training; `forecast` is None while the champion has no next-day forecast;
    `naive` is None when no naive forecast exists for that day (when the champion is the naive model, it is
    `forecast`). `kind` is the forecast's: "live", or "late" when it was made after its target day's gold close
    was stored (shown as late, never counted as live); None without a forecast. `data_age` is the age of the
    data `forecast` was made from (its as_of_date); None without a forecast. `missing_bars` names the bars a
    live forecast of the next day waits for (`live_forecast_missing_bars`); None when none is missing.
    """

    champion: ModelVersion | None
    forecast: Forecast | None
    naive: Forecast | None
    freshness: Freshness
    data_age: DataAge | None = None
    missing_bars: MissingBars | None = None

    @property
    def kind(self) -> str | None:
        return None if self.forecast is None else self.forecast.kind

    @property
    def is_late(self) -> bool:
        return self.kind == Forecast.Kind.LATE


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
    kinds: tuple[str, ...] | None = None,
    model_version: ModelVersion | int | None = None,
) -> QuerySet[Forecast]:
    """Forecasts with their model version, newest target day first; `start` and `end` are inclusive; `kind` one
    kind, `kinds` several."""
    forecasts = Forecast.objects.select_related("model_version")
    if kinds is not None:
        forecasts = forecasts.filter(kind__in=kinds)
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
    """The champion's newest next-day forecast, live or late (normally for the next trading day), and the naive
    one beside it; with the missing bars that keep a live forecast of the next day from being made."""
    freshness = data_freshness(now=now)
    missing = live_forecast_missing_bars()
    champion = model_version_champion()
    if champion is None:
        return LatestForecast(champion=None, forecast=None, naive=None, freshness=freshness, missing_bars=missing)
    forecast = (
        Forecast.objects.next_day()
        .filter(model_version=champion)
        .select_related("model_version")
        .order_by("-target_date", "created_at")
        .first()
    )
    naive = age = None
    if forecast is not None:
        naive = forecast if champion.architecture == ModelVersion.Architecture.NAIVE else _naive_on(forecast)
        age = data_age(as_of_date=forecast.as_of_date, now=now)
    return LatestForecast(
        champion=champion, forecast=forecast, naive=naive, freshness=freshness, data_age=age, missing_bars=missing
    )


def _naive_on(forecast: Forecast) -> Forecast | None:
    """The naive forecast of the same day and kind: the champion's baseline version's if stored, else any naive."""
    baseline = model_version_naive_baseline(champion=forecast.model_version)
    candidates = list(
        Forecast.objects.filter(
            kind=forecast.kind,
            target_date=forecast.target_date,
            model_version__architecture=ModelVersion.Architecture.NAIVE,
        )
        .select_related("model_version")
        .order_by("-created_at")
    )
    preferred = [f for f in candidates if baseline is not None and f.model_version_id == baseline.pk]
    return (preferred or candidates or [None])[0]


LATEST_CACHE_KEY = "goldsite:api:forecast-latest"


def forecast_latest_answer(*, render: Callable[[LatestForecast], dict]) -> dict:
    """The API's answer about the latest forecast, `render`ed from `forecast_latest()` and cached for
    API_LATEST_CACHE_SECONDS (dropped on promotion: `forecast_latest_cache_clear`). Raises ForecastNotReady,
    saying what to do, when there is no champion or it has no next-day forecast yet."""
    from django.core.cache import cache

    seconds = settings.API_LATEST_CACHE_SECONDS
    data = cache.get(LATEST_CACHE_KEY) if seconds else None
    if data is not None:
        return data
    latest = forecast_latest()
    if latest.champion is None:
        raise ForecastNotReady(NO_CHAMPION)
    if latest.forecast is None:
        raise ForecastNotReady(
            f"The champion {latest.champion} has no next-day forecast yet; "
            "run `manage.py predict_next_day` or POST /api/predict/."
        )
    data = render(latest)
    if seconds:
        cache.set(LATEST_CACHE_KEY, data, seconds)
    return data


def forecast_latest_cache_clear() -> None:
    from django.core.cache import cache

    cache.delete(LATEST_CACHE_KEY)
