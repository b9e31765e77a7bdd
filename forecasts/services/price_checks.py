"""The checks every load of daily bars passes before anything is written (CSV imports and Yahoo fetches alike).

Three layers, each raising MarketDataError that names the row at fault ("line 7" of a file, "bar 2025-09-24" of
Yahoo's answer) so that a person can find it:

1. Each bar on its own (`bars_checked`): prices finite, above zero and within settings.MARKET_PRICE_BOUNDS for
   the symbol; low <= open/close <= high; a whole volume that fits PriceBar's bigint; a date from 1900 to the
   last closed day; a date repeated with other values.
2. Against history (`overwrite_check`): a load that would change stored closes by more than
   settings.PRICE_OVERWRITE_TOLERANCE_PCT is refused unless told to overwrite; Yahoo's small revisions pass.
3. Against its neighbours (`jump_check`): a close that moves more than settings.PRICE_MAX_DAILY_MOVE_PCT[symbol]
   from the bar before it, in the file or already stored, is refused unless jumps are allowed. Bars more than
   NEIGHBOUR_MAX_GAP_DAYS apart are not neighbours (older history imported before newer is not a one-day move).
"""

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings

from forecasts.exceptions import MarketDataError
from forecasts.services.csv_parsing import PRICE_FIELDS, BarRow

# PriceBar.volume is a bigint: a larger volume cannot be stored (and is not a real volume anyway).
MAX_VOLUME = 2**63 - 1
EARLIEST_DATE = dt.date(1900, 1, 1)
# Consecutive bars further apart than this (calendar days) are not compared: the longest market closures
# (9/11: six calendar days) stay well inside it.
NEIGHBOUR_MAX_GAP_DAYS = 10


def bars_checked(
    rows: Iterable[BarRow], *, symbol: str, source: str, latest_allowed: dt.date
) -> tuple[list[BarRow], int]:
    """The rows with plausible values, one per date in date order, and how many identical duplicates were dropped.

    Raises MarketDataError naming the row at the first problem; a date repeated with other values is one.
    """
    by_date: dict[dt.date, BarRow] = {}
    duplicates = 0
    bounds = settings.MARKET_PRICE_BOUNDS[symbol]
    for row in rows:
        problem = bar_problem(row, symbol=symbol, bounds=bounds, latest_allowed=latest_allowed)
        if problem:
            raise MarketDataError(f"{source}, {row.where}: {problem}")
        earlier = by_date.get(row.date)
        if earlier is None:
            by_date[row.date] = row
        elif earlier.values() == row.values():
            duplicates += 1
        else:
            raise MarketDataError(
                f"{source}, {row.where}: {row.date.isoformat()} appears again with different values "
                f"(first at {earlier.where})"
            )
    return sorted(by_date.values(), key=lambda row: row.date), duplicates


def bar_problem(row: BarRow, *, symbol: str, bounds: tuple[float, float], latest_allowed: dt.date) -> str | None:
    """What is wrong with the row's values, in words, or None: each bar must make physical sense on its own."""
    lowest, highest = bounds
    for field in PRICE_FIELDS:
        value = getattr(row, field)
        if value is None:
            continue
        if not math.isfinite(value):
            return f"{field} is not a number ({value})"
        if value < 0:
            return f"{field} is negative ({value!r})"
        if value == 0:
            return f"{field} is zero"
        if not lowest <= value <= highest:
            return (
                f"{field} {value!r} is outside the plausible range for {symbol} "
                f"({_amount(lowest)} to {_amount(highest)})"
            )
    if row.high is not None and row.low is not None and row.high < row.low:
        return f"high {row.high!r} is below low {row.low!r}"
    for field in ("open", "close"):
        value = getattr(row, field)
        if value is None:
            continue
        if row.high is not None and value > row.high:
            return f"{field} {value!r} is above high {row.high!r}"
        if row.low is not None and value < row.low:
            return f"{field} {value!r} is below low {row.low!r}"
    volume = row.volume
    if volume is not None and not (math.isfinite(volume) and volume >= 0 and volume.is_integer()):
        return f"volume {volume!r} is not a whole number of zero or more"
    if volume is not None and volume > MAX_VOLUME:
        return f"volume {volume!r} is too large (a bar holds at most {MAX_VOLUME:,})"
    if row.date < EARLIEST_DATE:
        return f"date {row.date.isoformat()} is before {EARLIEST_DATE.year}"
    if row.date > latest_allowed:
        return f"date {row.date.isoformat()} is in the future"
    return None


def overwrite_check(*, bars: list[BarRow], stored: Mapping[dt.date, float], source: str) -> None:
    """Refuse a load that changes stored closes by more than settings.PRICE_OVERWRITE_TOLERANCE_PCT (relative).

    The message names the first such row and says how many closes would change and the largest change.
    """
    tolerance = settings.PRICE_OVERWRITE_TOLERANCE_PCT
    changes = [
        (row, stored[row.date], _pct(stored[row.date], row.close))
        for row in bars
        if row.date in stored and abs(_pct(stored[row.date], row.close)) > tolerance
    ]
    if not changes:
        return
    first, old, _ = changes[0]
    largest = max((pct for _, _, pct in changes), key=abs)
    closes = "close" if len(changes) == 1 else "closes"
    raise MarketDataError(
        f"{source}, {first.where}: the load would change {len(changes)} stored {closes} by more than {tolerance:g}% "
        f"(by up to {largest:+.1f}%; the first is {first.date.isoformat()}: {old!r} -> {first.close!r}); nothing "
        "was written. Pass --overwrite if the new values are right."
    )


@dataclass(frozen=True)
class _Close:
    date: dt.date
    close: float
    where: str  # the row ("line 4", "bar 2025-09-24"), or "stored"
    new: bool  # the load inserts this close or changes it


def jump_check(*, bars: list[BarRow], stored: Mapping[dt.date, float], symbol: str, source: str) -> None:
    """Refuse a close that moves more than settings.PRICE_MAX_DAILY_MOVE_PCT[symbol] from its neighbour.

    `stored` holds the stored closes around the load (NEIGHBOUR_MAX_GAP_DAYS either side of it and between its
    rows). Only a move the load brings is refused: two stored closes, or a bar loaded again unchanged, pass.
    """
    limit = settings.PRICE_MAX_DAILY_MOVE_PCT[symbol]
    series = {day: _Close(day, close, "stored", new=False) for day, close in stored.items()}
    for row in bars:
        series[row.date] = _Close(row.date, row.close, row.where, new=stored.get(row.date) != row.close)
    ordered = [series[day] for day in sorted(series)]
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if not (earlier.new or later.new) or (later.date - earlier.date).days > NEIGHBOUR_MAX_GAP_DAYS:
            continue
        move = _pct(earlier.close, later.close)
        if abs(move) > limit:
            named = later if later.new else earlier
            raise MarketDataError(
                f"{source}, {named.where}: the close moves {move:+.1f}% from {earlier.date.isoformat()} "
                f"({earlier.close!r}, {earlier.where}) to {later.date.isoformat()} ({later.close!r}, {later.where}), "
                f"more than the {limit:g}% a day allowed for {symbol}; nothing was written. "
                "Pass --allow-jumps if the move is real."
            )


def _pct(old: float, new: float) -> float:
    return (new / old - 1.0) * 100.0


def _amount(value: float) -> str:
    """100000.0 -> "100,000"; 0.5 -> "0.5"."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
