"""Writing daily bars: CSV imports and Yahoo fetches. Each one is recorded in a DataLoad.

Every bar must make physical sense on its own: prices finite, above zero and within settings.MARKET_PRICE_BOUNDS
for the symbol, low <= open/close <= high, a whole volume that fits a bigint, a date from 1900 to today.

A load is all or nothing: rows are parsed and checked first, then written in one transaction with bulk
queries; any problem fails the whole load, leaves the bars as they were and marks the DataLoad FAILED with
the reason. Loads are idempotent: a bar identical to the stored one counts as unchanged, a bar whose values
differ (a revised close) is updated. Floats are compared exactly as parsed.
"""

import datetime as dt
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from forecasts.calendar import latest_closed_day, new_york_today
from forecasts.exceptions import MarketDataError, MarketDataUnavailable
from forecasts.models import DataLoad, PriceBar
from forecasts.services.csv_parsing import PRICE_FIELDS, BarRow, read_price_csv
from forecasts.services.yahoo import yahoo_daily_frame, yahoo_frame_rows

logger = logging.getLogger(__name__)

BAR_VALUE_FIELDS = ["open", "high", "low", "close", "volume"]
BATCH_SIZE = 500
# PriceBar.volume is a bigint: a larger volume cannot be stored (and is not a real volume anyway).
MAX_VOLUME = 2**63 - 1
EARLIEST_DATE = dt.date(1900, 1, 1)


def prices_import_csv(*, symbol: str, path: Path, date_format: str | None = None) -> DataLoad:
    """Import the daily bars of `symbol` from a CSV file of any supported shape (see csv_parsing).

    `date_format` (dd/mm/yyyy, mm/dd/yyyy or yyyy-mm-dd) says how to read the dates; by default it is detected,
    and a file whose dates read both as dd/mm and as mm/dd is refused, asking for it.

    Returns the succeeded DataLoad. Raises MarketDataError naming the file line at the first bad row; the
    bars are then untouched and the DataLoad is saved as FAILED with that message.
    """
    _check_symbol(symbol)
    path = Path(path)
    load = DataLoad.objects.create(kind=DataLoad.Kind.IMPORT, symbol=symbol, target=str(path.absolute())[:500])
    with _recorded(load):
        parsed = read_price_csv(path, symbol=symbol, date_format=date_format)
        bars, duplicates = _checked(parsed.rows, symbol=symbol, source=str(path), latest_allowed=new_york_today())
        _store(load, bars=bars, skipped=parsed.skipped + duplicates, source=PriceBar.Source.CSV)
    return load


def prices_fetch(*, symbols: list[str] | None = None, since: dt.date | None = None) -> list[DataLoad]:
    """Fetch recent daily bars from Yahoo for each symbol (default: settings.MARKET_SYMBOLS).

    Each symbol is fetched from `since`, or else from its last stored day minus settings.FETCH_OVERLAP_DAYS
    (Yahoo revises recent closes), or else from settings.FETCH_DEFAULT_START. Bars of a session that has not
    closed yet (before 17:30 New York on its day) are skipped. Every symbol is tried and gets its own DataLoad
    and transaction; if any failed, the error is raised after the others are done: MarketDataUnavailable when
    a retry may help (Yahoo down or rate-limiting), MarketDataError otherwise.
    """
    symbols = list(settings.MARKET_SYMBOLS if symbols is None else symbols)
    for symbol in symbols:
        _check_symbol(symbol)
    today = new_york_today()
    if since is not None and since > today:
        raise MarketDataError(f"Cannot fetch since {since.isoformat()}: that is after today ({today.isoformat()}).")

    loads: list[DataLoad] = []
    failures: list[MarketDataError] = []
    for symbol in symbols:
        try:
            loads.append(_fetch_symbol(symbol, since=since, today=today))
        except MarketDataError as exc:
            failures.append(exc)
    if failures:
        retryable = any(isinstance(exc, MarketDataUnavailable) for exc in failures)
        error_class = MarketDataUnavailable if retryable else MarketDataError
        raise error_class("; ".join(str(exc) for exc in failures)) from failures[0]
    return loads


def data_load_summary(*, load: DataLoad) -> str:
    """One line for a person: `GC=F: 1257 inserted, 0 updated, 0 unchanged, 0 skipped (2020-09-28 … 2025-09-25)`."""
    span = f"{load.first_date.isoformat()} … {load.last_date.isoformat()}" if load.first_date else "no bars"
    return (
        f"{load.symbol}: {load.rows_inserted} inserted, {load.rows_updated} updated, "
        f"{load.rows_unchanged} unchanged, {load.rows_skipped} skipped ({span})"
    )


def _check_symbol(symbol: str) -> None:
    if symbol not in settings.MARKET_SYMBOLS:
        allowed = ", ".join(settings.MARKET_SYMBOLS)
        raise MarketDataError(f"Unknown symbol {symbol!r}; the market data symbols are {allowed}.")


def _fetch_symbol(symbol: str, *, since: dt.date | None, today: dt.date) -> DataLoad:
    start = since or _incremental_start(symbol)
    load = DataLoad.objects.create(
        kind=DataLoad.Kind.FETCH, symbol=symbol, target=f"Yahoo {start.isoformat()} … {today.isoformat()}"
    )
    with _recorded(load):
        frame = yahoo_daily_frame(symbol=symbol, start=start, end=today + dt.timedelta(days=1))
        parsed = yahoo_frame_rows(frame, symbol=symbol)
        closed_by = latest_closed_day(timezone.now())
        complete = [row for row in parsed.rows if row.date <= closed_by]
        if len(complete) < len(parsed.rows):
            logger.info("%s: skipping %d bar(s) of a session not closed yet", symbol, len(parsed.rows) - len(complete))
        bars, duplicates = _checked(complete, symbol=symbol, source=f"Yahoo {symbol}", latest_allowed=closed_by)
        skipped = parsed.skipped + duplicates + len(parsed.rows) - len(complete)
        _store(load, bars=bars, skipped=skipped, source=PriceBar.Source.YAHOO)
    return load


def _incremental_start(symbol: str) -> dt.date:
    latest = PriceBar.objects.filter(symbol=symbol).order_by("-date").values_list("date", flat=True).first()
    if latest is None:
        return dt.date.fromisoformat(settings.FETCH_DEFAULT_START)
    return latest - dt.timedelta(days=settings.FETCH_OVERLAP_DAYS)


@contextmanager
def _recorded(load: DataLoad) -> Iterator[None]:
    """Save the load as FAILED, with the reason, if the block raises; the exception still propagates."""
    try:
        yield
    except Exception as exc:
        load.status = DataLoad.Status.FAILED
        load.error = str(exc) if isinstance(exc, MarketDataError) else f"{type(exc).__name__}: {exc}"
        load.finished_at = timezone.now()
        load.save(update_fields=["status", "error", "finished_at"])
        logger.warning("%s %s failed: %s", load.get_kind_display(), load.symbol, load.error)
        raise


def _checked(rows: list[BarRow], *, symbol: str, source: str, latest_allowed: dt.date) -> tuple[list[BarRow], int]:
    """The rows with plausible values, one per date in date order, and how many identical duplicates were dropped.

    Raises MarketDataError naming the row at the first problem; a date repeated with other values is one.
    """
    by_date: dict[dt.date, BarRow] = {}
    duplicates = 0
    bounds = _price_bounds(symbol)
    for row in rows:
        problem = _problem(row, symbol=symbol, bounds=bounds, latest_allowed=latest_allowed)
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


def _price_bounds(symbol: str) -> tuple[float, float]:
    return settings.MARKET_PRICE_BOUNDS[symbol]


def _problem(row: BarRow, *, symbol: str, bounds: tuple[float, float], latest_allowed: dt.date) -> str | None:
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


def _amount(value: float) -> str:
    """100000.0 -> "100,000"; 0.5 -> "0.5"."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _store(load: DataLoad, *, bars: list[BarRow], skipped: int, source: str) -> None:
    """Insert new bars and update changed ones in one transaction, and finish the load with the counts."""
    inserted: list[PriceBar] = []
    updated: list[PriceBar] = []
    unchanged = 0
    now = timezone.now()
    try:
        with transaction.atomic():
            existing = {}
            if bars:
                existing = {
                    bar.date: bar
                    for bar in PriceBar.objects.select_for_update().filter(
                        symbol=load.symbol, date__range=(bars[0].date, bars[-1].date)
                    )
                }
            for row in bars:
                values = dict(zip(BAR_VALUE_FIELDS, row.values(), strict=True))
                if values["volume"] is not None:
                    values["volume"] = int(values["volume"])
                bar = existing.get(row.date)
                if bar is None:
                    inserted.append(PriceBar(symbol=load.symbol, date=row.date, source=source, **values))
                elif all(getattr(bar, field) == value for field, value in values.items()):
                    unchanged += 1
                else:
                    for field, value in values.items():
                        setattr(bar, field, value)
                    bar.source = source
                    bar.updated_at = now  # bulk_update does not apply auto_now
                    updated.append(bar)
            PriceBar.objects.bulk_create(inserted, batch_size=BATCH_SIZE)
            PriceBar.objects.bulk_update(updated, [*BAR_VALUE_FIELDS, "source", "updated_at"], batch_size=BATCH_SIZE)

            load.status = DataLoad.Status.SUCCEEDED
            load.rows_inserted = len(inserted)
            load.rows_updated = len(updated)
            load.rows_unchanged = unchanged
            load.rows_skipped = skipped
            load.first_date = bars[0].date if bars else None
            load.last_date = bars[-1].date if bars else None
            load.finished_at = timezone.now()
            load.save()
    except IntegrityError as exc:
        # The rows were checked above, so this is a race: another load inserted some of these days between
        # our read and our insert. Nothing was written; a retry reads them and updates instead.
        raise MarketDataUnavailable(
            f"{load.symbol}: the database refused the bars, most likely because another load wrote the same days "
            f"at the same time; try again ({exc})"
        ) from exc
    logger.info("%s: %s", load.get_kind_display(), data_load_summary(load=load))
