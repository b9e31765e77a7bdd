"""Helpers for the market-data tests: frames shaped exactly as yfinance returns them, a stand-in for Yahoo."""

import datetime as dt

import pandas as pd

from forecasts.models import PriceBar

# The header of Yahoo's history download, as in the seed files (../shared/data).
SEED_HEADER = "Date,Close,High,Low,Open,Volume"
# The column order yfinance 1.7's download returns with auto_adjust=False (sorted by field name).
DOWNLOAD_FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]


def download_frame(symbol: str, bars: dict[str, tuple | None], *, tz: str | None = None) -> pd.DataFrame:
    """A frame shaped exactly like `yf.download(symbol, auto_adjust=False)` in yfinance 1.x.

    `bars` maps an ISO day to (open, high, low, close, volume), or to None for a row of NaN (what Yahoo sends for
    a day it lists without prices). Columns are a MultiIndex with levels ['Price', 'Ticker'], values float64, the
    index a DatetimeIndex named 'Date': naive (download's default for daily bars) or localised to `tz`.
    """
    index = pd.DatetimeIndex([pd.Timestamp(day) for day in bars], name="Date")
    if tz is not None:
        index = index.tz_localize(tz)
    nan = float("nan")
    data = {field: [] for field in DOWNLOAD_FIELDS}
    for values in bars.values():
        open_, high, low, close, volume = values if values is not None else (nan,) * 5
        for field, value in zip(DOWNLOAD_FIELDS, (close, close, high, low, open_, volume), strict=True):
            data[field].append(value)
    columns = pd.MultiIndex.from_tuples([(field, symbol) for field in DOWNLOAD_FIELDS], names=["Price", "Ticker"])
    return pd.DataFrame(
        [[data[field][i] for field in DOWNLOAD_FIELDS] for i in range(len(index))],
        index=index,
        columns=columns,
        dtype="float64",
    )


def empty_download_frame(symbol: str) -> pd.DataFrame:
    """What download returns when Yahoo has no bars in the range (or the ticker failed)."""
    return download_frame(symbol, {})


class FakeYahoo:
    """Replaces `yfinance.download`. Answers each symbol from a queue; the last answer repeats."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.answers: dict[str, list] = {}

    def answer(self, symbol: str, *answers: pd.DataFrame | BaseException) -> None:
        self.answers.setdefault(symbol, []).extend(answers)

    def download(self, tickers, start=None, end=None, **kwargs):
        self.calls.append({"symbol": tickers, "start": start, "end": end, **kwargs})
        queue = self.answers[tickers]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer.copy()

    def starts(self, symbol: str) -> list[dt.date]:
        return [dt.date.fromisoformat(call["start"]) for call in self.calls if call["symbol"] == symbol]


def bars_snapshot() -> list[tuple]:
    """Every stored bar with every column, to prove a failed load left the table exactly as it was."""
    return list(
        PriceBar.objects.order_by("symbol", "date").values_list(
            "symbol", "date", "open", "high", "low", "close", "volume", "source", "created_at", "updated_at"
        )
    )


def seed_file(*rows: str) -> str:
    """A seed-shaped CSV whose rows are `date` or `date,close`; the other columns are made to fit the close."""
    lines = [SEED_HEADER]
    for row in rows:
        date, _, close = row.partition(",")
        close = float(close or 2000)
        lines.append(f"{date},{close},{close + 10},{close - 10},{close},5")
    return "\n".join(lines) + "\n"
