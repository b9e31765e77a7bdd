"""Reading daily bars and data loads: price history for the model, the dashboard and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Max, QuerySet

from forecasts.calendar import last_completed_trading_day
from forecasts.models import DataLoad, PriceBar

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Freshness:
    """How current the gold history is compared with the last completed trading day."""

    newest_gold_date: dt.date | None
    expected_date: dt.date  # the last completed trading day
    is_stale: bool  # no gold bars at all, or none for expected_date yet
    last_successful_load: DataLoad | None
    staleness_days: int | None  # calendar days from newest_gold_date to expected_date (0 when fresh); None: no data


def price_bars_list(
    *, symbol: str | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[PriceBar]:
    """Bars ordered by symbol then date; `start` and `end` are inclusive."""
    bars = PriceBar.objects.all()
    if symbol is not None:
        bars = bars.filter(symbol=symbol)
    if start is not None:
        bars = bars.filter(date__gte=start)
    if end is not None:
        bars = bars.filter(date__lte=end)
    return bars.order_by("symbol", "date")


def price_closes_frame(*, end: dt.date | None = None) -> pd.DataFrame:
    """Closes on the days both gold and the S&P 500 traded: float columns `gold` and `spx`, sorted by date.

    The index is a DatetimeIndex named `date`. With `end`, only days up to and including it.
    """
    import pandas as pd

    names = {settings.GOLD_SYMBOL: "gold", settings.SPX_SYMBOL: "spx"}
    bars = PriceBar.objects.filter(symbol__in=list(names))
    if end is not None:
        bars = bars.filter(date__lte=end)
    records = list(bars.order_by().values_list("date", "symbol", "close"))
    if not records:
        return pd.DataFrame(
            {"gold": pd.Series(dtype="float64"), "spx": pd.Series(dtype="float64")},
            index=pd.DatetimeIndex([], name="date"),
        )
    long = pd.DataFrame.from_records(records, columns=["date", "symbol", "close"])
    wide = long.pivot(index="date", columns="symbol", values="close").rename(columns=names)
    wide = wide.reindex(columns=["gold", "spx"]).dropna().astype("float64").sort_index()
    wide.index = pd.DatetimeIndex(pd.to_datetime(wide.index), name="date")
    wide.columns.name = None
    return wide


def price_latest_date(*, symbol: str) -> dt.date | None:
    return PriceBar.objects.filter(symbol=symbol).aggregate(latest=Max("date"))["latest"]


def price_last_common_date() -> dt.date | None:
    """The last day with both a gold and an S&P 500 close (the last row of `price_closes_frame`), or None."""
    gold_days = PriceBar.objects.filter(symbol=settings.GOLD_SYMBOL).values("date")
    return PriceBar.objects.filter(symbol=settings.SPX_SYMBOL, date__in=gold_days).aggregate(latest=Max("date"))[
        "latest"
    ]


def data_load_latest_successful() -> DataLoad | None:
    """The most recently finished successful fetch or import, of any symbol."""
    return DataLoad.objects.filter(status=DataLoad.Status.SUCCEEDED).order_by("-finished_at", "-id").first()


def data_freshness(*, now: dt.datetime | None = None) -> Freshness:
    """Whether gold has a bar for the last completed trading day as of `now` (default: the current time)."""
    newest = price_latest_date(symbol=settings.GOLD_SYMBOL)
    expected = last_completed_trading_day(now)
    return Freshness(
        newest_gold_date=newest,
        expected_date=expected,
        is_stale=newest is None or newest < expected,
        last_successful_load=data_load_latest_successful(),
        staleness_days=None if newest is None else max((expected - newest).days, 0),
    )
