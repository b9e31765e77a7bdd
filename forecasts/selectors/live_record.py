"""The live record: which forecasts are live, which are late, and which bar a live forecast is waiting for.

A forecast is **live** only if it was stored before its target day's gold close was stored; one stored after
is **late**: kept, scored and charted, never counted as live. `forecast_is_late` is that rule, its one copy:
the next-day step applies it when it stores a forecast (`forecast_kind_on_storing`), and migration
`forecasts/0003` applied it to the rows stored before the rule existed.

The next-day step forecasts the trading day after the last day with both a gold and an S&P 500 close. When
gold's close of that day is already stored (gold is a day ahead of the S&P 500, say), the forecast it makes
is late, and a live one has to wait for the other bar(s) of that day: `live_forecast_missing_bars` names
them ("S&P 500 close for 2025-09-25 not stored yet") for the dashboard, `/health/` and the API alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from forecasts.calendar import next_trading_day
from forecasts.models import Forecast, PriceBar
from forecasts.selectors.prices import price_last_common_date


def forecast_is_late(*, forecast_stored_at: dt.datetime, close_stored_at: dt.datetime | None) -> bool:
    """The rule: a forecast is late when its target day's gold close was stored no later than the forecast.

    `close_stored_at` is when that gold bar was first stored (`PriceBar.created_at`; a revision of the close
    later does not move it), None while it is not stored.
    """
    return close_stored_at is not None and close_stored_at <= forecast_stored_at


def gold_close_stored_at(*, day: dt.date) -> dt.datetime | None:
    """When the gold close of `day` was first stored, or None when it is not stored."""
    return PriceBar.objects.filter(symbol=settings.GOLD_SYMBOL, date=day).values_list("created_at", flat=True).first()


def forecast_kind_on_storing(*, target_date: dt.date) -> str:
    """The kind of a next-day forecast of `target_date` stored now: late if the day's gold close is in, else live."""
    late = forecast_is_late(forecast_stored_at=timezone.now(), close_stored_at=gold_close_stored_at(day=target_date))
    return Forecast.Kind.LATE if late else Forecast.Kind.LIVE


@dataclass(frozen=True)
class MissingBars:
    """The bars a live next-day forecast waits for: those of `date` (the day after `as_of_date`) not stored.

    `as_of_date` is the last day with both closes, so a forecast made now is as of it and targets `date`,
    whose gold close is already stored: that forecast is late.
    """

    as_of_date: dt.date
    date: dt.date
    symbols: tuple[str, ...]

    @property
    def labels(self) -> list[str]:
        return [symbol_label(symbol) for symbol in self.symbols]

    @property
    def message(self) -> str:
        """ "S&P 500 close for 2025-09-25 not stored yet" (two symbols: "... and ... closes for ...")."""
        labels = self.labels
        what = f"{' and '.join(labels)} close{'s' if len(labels) > 1 else ''}"
        return f"{what[0].upper()}{what[1:]} for {self.date.isoformat()} not stored yet"

    def to_dict(self) -> dict:
        return {
            "as_of_date": self.as_of_date.isoformat(),
            "date": self.date.isoformat(),
            "symbols": list(self.symbols),
            "message": self.message,
        }


def symbol_label(symbol: str) -> str:
    return {settings.GOLD_SYMBOL: "gold", settings.SPX_SYMBOL: "S&P 500"}.get(symbol, symbol)


def live_forecast_missing_bars() -> MissingBars | None:
    """What keeps the next-day step from making a live forecast now; None when it can (or has no data at all).

    The step would forecast the trading day after the last day with both closes. If gold's close of that day
    is not stored, that forecast is live: nothing is missing. If it is stored, the forecast would be late, and
    the missing bars are the other symbols' bars of that day.
    """
    as_of = price_last_common_date()
    if as_of is None:
        return None
    day = next_trading_day(as_of)
    needed = (settings.GOLD_SYMBOL, settings.SPX_SYMBOL)  # what the model reads (price_closes_frame)
    stored = set(PriceBar.objects.filter(date=day, symbol__in=needed).values_list("symbol", flat=True))
    if settings.GOLD_SYMBOL not in stored:
        return None
    missing = tuple(symbol for symbol in needed if symbol not in stored)
    return MissingBars(as_of_date=as_of, date=day, symbols=missing) if missing else None
