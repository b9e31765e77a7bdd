"""The one place that talks to Yahoo Finance (through yfinance 1.x), and reads the frames it returns.

yfinance is imported inside the functions: the web process never pays for it.

What `yf.download` does in 1.7 (read in .venv/.../yfinance/multi.py):
- It never raises for a ticker that failed. Each ticker's exception (rate limit, DNS/connection error, timeout,
  "no price data found") is caught, logged on the `yfinance` logger as `['GC=F']: YFRateLimitError(...)`,
  and the ticker gets an empty frame. `yf.shared._ERRORS` still exists but is no longer filled (the errors go
  to a per-call context), so the log record is the only trace of the failure; `yahoo_daily_frame` collects it.
- With `yf.config.debug.hide_exceptions` left True, a failed HTTP request even turns into "no price data
  found", which looks exactly like a weekend; it is set to False so the real exception type reaches the log.
- Columns are a MultiIndex with levels ['Price', 'Ticker'], e.g. ('Close', 'GC=F'); values are float64
  (Volume too); the index is a DatetimeIndex named 'Date', naive for daily bars (ignore_tz) or tz-aware.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from forecasts.exceptions import MarketDataError, MarketDataUnavailable
from forecasts.services.csv_parsing import BAR_FIELDS, BarRow, ParsedRows

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

YAHOO_TIMEOUT_SECONDS = 20
# Texts of yfinance's "Yahoo answered, but has no bars in that range" error (a weekend, a holiday).
NO_DATA_MARKERS = ("YFPricesMissingError", "no price data found", "Data doesn't exist")


def yahoo_daily_frame(*, symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Daily bars of `symbol` from `start` up to but excluding `end`, exactly as `yf.download` returns them.

    An empty frame means Yahoo has no bars in the range. Raises MarketDataUnavailable when Yahoo could not be
    asked or refused (rate limit, network error, timeout): worth retrying later.
    """
    import yfinance as yf
    from yfinance.exceptions import YFException

    yf.config.debug.hide_exceptions = False
    with _yfinance_errors() as errors, warnings.catch_warnings():
        # yfinance 1.7 calls pandas 3 methods with inplace=True, deprecated: not ours to fix, not worth a log line.
        warnings.filterwarnings("ignore", message="The inplace keyword", module="yfinance")
        try:
            frame = yf.download(
                symbol,
                start=start.isoformat(),
                end=end.isoformat(),
                interval="1d",
                auto_adjust=False,
                actions=False,
                progress=False,
                threads=False,
                multi_level_index=True,
                timeout=YAHOO_TIMEOUT_SECONDS,
            )
        except (YFException, OSError) as exc:  # OSError: requests' and curl_cffi's errors, timeouts
            raise MarketDataUnavailable(f"Yahoo Finance is unavailable for {symbol}: {exc!r}") from exc

    failures = [text for text in errors if not any(marker in text for marker in NO_DATA_MARKERS)]
    if failures:
        raise MarketDataUnavailable(f"Yahoo Finance is unavailable for {symbol}: {'; '.join(failures)}")
    if errors:
        logger.info("Yahoo has no %s bars from %s to %s: %s", symbol, start, end, errors[0])
    if frame is None:
        raise MarketDataUnavailable(f"Yahoo Finance returned nothing for {symbol}")
    return frame


class _ErrorCollector(logging.Handler):
    """Keeps the text of yfinance's ERROR records logged by one thread (download runs with threads=False)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        text = record.getMessage().strip()
        # Skip download's "\n1 Failed download:" heading; the next record carries the error itself.
        if text and not text.endswith("Failed download:") and not text.endswith("Failed downloads:"):
            self.messages.append(text)


@contextmanager
def _yfinance_errors() -> Iterator[list[str]]:
    collector = _ErrorCollector()
    yf_logger = logging.getLogger("yfinance")
    yf_logger.addHandler(collector)
    try:
        yield collector.messages
    finally:
        yf_logger.removeHandler(collector)


def yahoo_frame_rows(frame: pd.DataFrame, *, symbol: str) -> ParsedRows:
    """The frame's bars as rows; a row without a close (Yahoo's NaN rows) is skipped and counted.

    The rows are not checked here: `prices` puts them through the same `price_checks` as a CSV's rows (plausible
    prices, low <= open/close <= high, a storable volume, no jumps, no silent rewrite of stored closes).
    """
    if frame is None or len(frame) == 0:
        return ParsedRows(rows=[], skipped=0)
    columns = _symbol_columns(frame, symbol=symbol)
    dates = _index_dates(frame, symbol=symbol)

    rows: list[BarRow] = []
    skipped = 0
    for position, date in enumerate(dates):
        where = f"Yahoo {symbol}, bar {date.isoformat()}"
        values = {field: _value(series[position], field=field, where=where) for field, series in columns.items()}
        close = values.pop("close")
        if close is None:
            skipped += 1
            continue
        rows.append(BarRow(where=f"bar {date.isoformat()}", date=date, close=close, **values))
    return ParsedRows(rows=rows, skipped=skipped)


def _symbol_columns(frame: pd.DataFrame, *, symbol: str) -> dict[str, list]:
    """field -> the column's values, from ('Close', 'GC=F') MultiIndex columns or plain 'Close' ones."""
    import pandas as pd

    if isinstance(frame.columns, pd.MultiIndex):
        price_level = next(
            (
                level
                for level in range(frame.columns.nlevels)
                if "close" in {str(v).lower() for v in frame.columns.get_level_values(level)}
            ),
            None,
        )
        if price_level is None or frame.columns.nlevels != 2:
            raise MarketDataError(f"Yahoo's answer for {symbol} has unexpected columns {list(frame.columns)}")
        ticker_level = 1 - price_level
        tickers = frame.columns.get_level_values(ticker_level)
        if symbol.upper() not in {str(t).upper() for t in tickers}:
            raise MarketDataError(f"Yahoo's answer has no columns for {symbol} (it has {sorted(set(tickers))})")
        chosen = [column for column in frame.columns if str(column[ticker_level]).upper() == symbol.upper()]
        named = {str(column[price_level]).lower(): frame[column] for column in chosen}
    else:
        named = {str(column).lower(): frame[column] for column in frame.columns}
    if "close" not in named:
        raise MarketDataError(f"Yahoo's answer for {symbol} has no Close column ({list(frame.columns)})")
    return {field: named[field].tolist() for field in BAR_FIELDS if field in named}


def _index_dates(frame: pd.DataFrame, *, symbol: str) -> list[dt.date]:
    """The bars' days. A tz-aware index is read in its own zone (Yahoo's exchange time): midnight New York."""
    import pandas as pd

    if not isinstance(frame.index, pd.DatetimeIndex):
        raise MarketDataError(f"Yahoo's answer for {symbol} is not indexed by date ({type(frame.index).__name__})")
    return [timestamp.date() for timestamp in frame.index]


def _value(raw: object, *, field: str, where: str) -> float | None:
    if raw is None:
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError) as exc:  # garbage in the frame is Yahoo's error, not a crash of ours
        raise MarketDataError(f"{where}: {field} {raw!r} is not a number") from exc
    return None if math.isnan(number) else number
