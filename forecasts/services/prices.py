"""Writing daily bars: CSV imports and Yahoo fetches. Each one is recorded in a DataLoad.

Every load passes the checks of `price_checks` first: each bar must make physical sense on its own, must not
jump from its neighbours (in the load or stored) and must not change stored closes beyond a small tolerance;
the last two can be waived (`allow_jumps`, `overwrite`). The neighbour and history checks run inside the
writing transaction, against the bars stored at that moment.

A load is all or nothing: rows are parsed and checked first, then written in one transaction with bulk
queries; any problem fails the whole load, leaves the bars as they were and marks the DataLoad FAILED with
the reason. Loads are idempotent: a bar identical to the stored one counts as unchanged, a bar whose values
differ (a revised close) is updated. Floats are compared exactly as parsed.
"""

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.utils import timezone

from forecasts.calendar import latest_closed_day, new_york_today
from forecasts.exceptions import MarketDataError, MarketDataUnavailable
from forecasts.models import DataLoad, PriceBar
from forecasts.services.csv_parsing import BAR_FIELDS, BarRow, read_price_csv
from forecasts.services.price_checks import NEIGHBOUR_MAX_GAP_DAYS, bars_checked, jump_check, overwrite_check
from forecasts.services.yahoo import yahoo_daily_frame, yahoo_frame_rows

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def prices_import_csv(
    *,
    symbol: str,
    path: Path,
    date_format: str | None = None,
    overwrite: bool = False,
    allow_jumps: bool = False,
) -> DataLoad:
    """Import the daily bars of `symbol` from a CSV file of any supported shape (see csv_parsing).

    `date_format` (dd/mm/yyyy, mm/dd/yyyy or yyyy-mm-dd) says how to read the dates; by default it is detected,
    and a file whose dates read both as dd/mm and as mm/dd is refused, asking for it. `overwrite` lets the file
    change stored closes by more than the tolerance; `allow_jumps` lets a close move more than the daily limit
    (see price_checks).

    Returns the succeeded DataLoad. Raises MarketDataError naming the file line at the first bad row; the
    bars are then untouched and the DataLoad is saved as FAILED with that message.
    """
    _check_symbol(symbol)
    path = Path(path)
    label = str(path)
    with _database_busy(label):
        load = DataLoad.objects.create(kind=DataLoad.Kind.IMPORT, symbol=symbol, target=str(path.absolute())[:500])
        with _recorded(load), _database_busy(label):
            parsed = read_price_csv(path, symbol=symbol, date_format=date_format)
            bars, duplicates = bars_checked(parsed.rows, symbol=symbol, source=label, latest_allowed=new_york_today())
            _store(
                load,
                bars=bars,
                skipped=parsed.skipped + duplicates,
                source=PriceBar.Source.CSV,
                label=label,
                overwrite=overwrite,
                allow_jumps=allow_jumps,
            )
    return load


def prices_fetch(
    *,
    symbols: list[str] | None = None,
    since: dt.date | None = None,
    overwrite: bool = False,
    allow_jumps: bool = False,
    now: dt.datetime | None = None,
) -> list[DataLoad]:
    """Fetch recent daily bars from Yahoo for each symbol (default: settings.MARKET_SYMBOLS).

    Each symbol is fetched from `since`, or else from its last stored day minus settings.FETCH_OVERLAP_DAYS
    (Yahoo revises recent closes), or else from settings.FETCH_DEFAULT_START. Bars of a session that has not
    closed yet (before 17:30 New York on its day) are skipped. Every symbol is tried and gets its own DataLoad
    and transaction; if any failed, the error is raised after the others are done: MarketDataUnavailable when
    a retry may help (Yahoo down or rate-limiting), MarketDataError otherwise. Yahoo's bars pass the same checks
    as an import; `overwrite` and `allow_jumps` waive the history and neighbour checks as they do there.
    `now` is the time that decides today and which sessions have closed (default: the clock, read as needed).
    """
    symbols = list(settings.MARKET_SYMBOLS if symbols is None else symbols)
    for symbol in symbols:
        _check_symbol(symbol)
    today = new_york_today(now)
    if since is not None and since > today:
        raise MarketDataError(f"Cannot fetch since {since.isoformat()}: that is after today ({today.isoformat()}).")

    loads: list[DataLoad] = []
    failures: list[MarketDataError] = []
    for symbol in symbols:
        try:
            loads.append(
                _fetch_symbol(symbol, since=since, today=today, now=now, overwrite=overwrite, allow_jumps=allow_jumps)
            )
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


def _fetch_symbol(
    symbol: str, *, since: dt.date | None, today: dt.date, now: dt.datetime | None, overwrite: bool, allow_jumps: bool
) -> DataLoad:
    label = f"Yahoo {symbol}"
    with _database_busy(label):
        start = since or _incremental_start(symbol)
        load = DataLoad.objects.create(
            kind=DataLoad.Kind.FETCH, symbol=symbol, target=f"Yahoo {start.isoformat()} … {today.isoformat()}"
        )
        with _recorded(load), _database_busy(label):
            frame = yahoo_daily_frame(symbol=symbol, start=start, end=today + dt.timedelta(days=1))
            parsed = yahoo_frame_rows(frame, symbol=symbol)
            closed_by = latest_closed_day(now)
            complete = [row for row in parsed.rows if row.date <= closed_by]
            if len(complete) < len(parsed.rows):
                logger.info(
                    "%s: skipping %d bar(s) of a session not closed yet", symbol, len(parsed.rows) - len(complete)
                )
            bars, duplicates = bars_checked(complete, symbol=symbol, source=label, latest_allowed=closed_by)
            skipped = parsed.skipped + duplicates + len(parsed.rows) - len(complete)
            _store(
                load,
                bars=bars,
                skipped=skipped,
                source=PriceBar.Source.YAHOO,
                label=label,
                overwrite=overwrite,
                allow_jumps=allow_jumps,
            )
    return load


def _incremental_start(symbol: str) -> dt.date:
    latest = PriceBar.objects.filter(symbol=symbol).order_by("-date").values_list("date", flat=True).first()
    if latest is None:
        return dt.date.fromisoformat(settings.FETCH_DEFAULT_START)
    return latest - dt.timedelta(days=settings.FETCH_OVERLAP_DAYS)


@contextmanager
def _recorded(load: DataLoad) -> Iterator[None]:
    """Save the load as FAILED, with the reason, if the block raises; the exception still propagates.

    If the database refuses even that (still locked by another writer), the failure is logged and the load's
    row stays RUNNING: the original error is what the caller needs to see.
    """
    try:
        yield
    except Exception as exc:
        load.status = DataLoad.Status.FAILED
        load.error = str(exc) if isinstance(exc, MarketDataError) else f"{type(exc).__name__}: {exc}"
        load.finished_at = timezone.now()
        logger.warning("%s %s failed: %s", load.get_kind_display(), load.symbol, load.error)
        try:
            load.save(update_fields=["status", "error", "finished_at"])
        except DatabaseError as save_error:
            logger.error("Could not record data load #%s as failed: %s", load.pk, save_error)
        raise


# SQLSTATEs of PostgreSQL's lock contention: serialization failure, deadlock, lock_timeout.
LOCK_SQLSTATES = {"40001", "40P01", "55P03"}


@contextmanager
def _database_busy(label: str) -> Iterator[None]:
    """Turn "another writer holds the database" into MarketDataUnavailable that says so and to retry.

    On SQLite, the loser of two concurrent loads waits out the lock timeout (20 s), then gets "database is locked";
    on PostgreSQL a lock timeout or a deadlock. Either way nothing of this load was written.
    """
    try:
        yield
    except OperationalError as exc:
        sqlite_locked = "database is locked" in str(exc) or "database table is locked" in str(exc)
        if not sqlite_locked and getattr(exc.__cause__, "sqlstate", None) not in LOCK_SQLSTATES:
            raise
        raise MarketDataUnavailable(
            f"{label}: another import or write holds the database ({exc}); nothing was written; "
            "try again when it has finished"
        ) from exc


def _store(
    load: DataLoad,
    *,
    bars: list[BarRow],
    skipped: int,
    source: str,
    label: str,
    overwrite: bool,
    allow_jumps: bool,
) -> None:
    """Check the bars against the stored ones, then insert new bars and update changed ones, all in one
    transaction, and finish the load with the counts. `label` names the file or Yahoo in an error.
    """
    try:
        with transaction.atomic():
            existing, neighbours = _stored_around(symbol=load.symbol, bars=bars)
            if not overwrite:
                overwrite_check(bars=bars, stored=neighbours, source=label)
            if not allow_jumps:
                jump_check(bars=bars, stored=neighbours, symbol=load.symbol, source=label)
            inserted, updated, unchanged = _writes(bars=bars, existing=existing, symbol=load.symbol, source=source)
            PriceBar.objects.bulk_create(inserted, batch_size=BATCH_SIZE)
            PriceBar.objects.bulk_update(updated, [*BAR_FIELDS, "source", "updated_at"], batch_size=BATCH_SIZE)

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


def _stored_around(*, symbol: str, bars: list[BarRow]) -> tuple[dict[dt.date, PriceBar], dict[dt.date, float]]:
    """The stored bars of the load's days (locked for the transaction) and the closes of their neighbours up to
    NEIGHBOUR_MAX_GAP_DAYS either side, which the jump and overwrite checks compare with."""
    existing: dict[dt.date, PriceBar] = {}
    neighbours: dict[dt.date, float] = {}
    if not bars:
        return existing, neighbours
    gap = dt.timedelta(days=NEIGHBOUR_MAX_GAP_DAYS)
    for bar in PriceBar.objects.select_for_update().filter(
        symbol=symbol, date__range=(bars[0].date - gap, bars[-1].date + gap)
    ):
        neighbours[bar.date] = bar.close
        if bars[0].date <= bar.date <= bars[-1].date:
            existing[bar.date] = bar
    return existing, neighbours


def _writes(
    *, bars: list[BarRow], existing: dict[dt.date, PriceBar], symbol: str, source: str
) -> tuple[list[PriceBar], list[PriceBar], int]:
    """(bars to insert, stored bars changed in place to update, how many are unchanged): a bar identical to the
    stored one, compared exactly as parsed, is unchanged."""
    inserted: list[PriceBar] = []
    updated: list[PriceBar] = []
    unchanged = 0
    now = timezone.now()
    for row in bars:
        values = dict(zip(BAR_FIELDS, row.values(), strict=True))
        if values["volume"] is not None:
            values["volume"] = int(values["volume"])
        bar = existing.get(row.date)
        if bar is None:
            inserted.append(PriceBar(symbol=symbol, date=row.date, source=source, **values))
        elif all(getattr(bar, field) == value for field, value in values.items()):
            unchanged += 1
        else:
            for field, value in values.items():
                setattr(bar, field, value)
            bar.source = source
            bar.updated_at = now  # bulk_update does not apply auto_now
            updated.append(bar)
    return inserted, updated, unchanged
