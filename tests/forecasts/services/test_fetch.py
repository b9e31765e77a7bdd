"""Fetching from Yahoo: incremental with an overlap, every symbol in its own transaction, failures recorded.

Nothing here reaches the network. Most tests replace `yfinance.download` with frames built exactly as
yfinance 1.x returns them; `TestRealYfinanceDownload` runs the real `yf.download` with only the per-ticker
HTTP call (`Ticker.history`) replaced, to pin what download does with a failing ticker.
"""

import datetime as dt
import re

import curl_cffi.requests.exceptions
import pandas as pd
import pytest
import requests
import yfinance
from django.core.management import CommandError, call_command
from django.db import OperationalError
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError

from forecasts.calendar import NEW_YORK, new_york_today
from forecasts.exceptions import MarketDataError, MarketDataUnavailable
from forecasts.models import DataLoad, PriceBar
from forecasts.services.prices import prices_fetch
from tests.factories import PriceBarFactory
from tests.forecasts.market_data import bars_snapshot, download_frame, empty_download_frame

pytestmark = pytest.mark.django_db

GOLD_WEEK = {
    "2025-09-22": (3719.0, 3781.0, 3712.0, 3775.100098, 412.0),
    "2025-09-23": (3747.0, 3786.0, 3740.0, 3780.600098, 627.0),
    "2025-09-24": (3769.800049, 3772.5, 3732.100098, 3732.100098, 588.0),
    "2025-09-25": (3781.5, 3783.5, 3767.199951, 3767.5, 19797.0),
}
SPX_WEEK = {
    "2025-09-22": (6615.2, 6695.1, 6610.5, 6693.75, 5642620000.0),
    "2025-09-23": (6692.4, 6699.5, 6645.6, 6656.919922, 5633620000.0),
}


def stored(symbol: str) -> dict[dt.date, float]:
    return dict(PriceBar.objects.filter(symbol=symbol).values_list("date", "close"))


class TestFrames:
    def test_naive_daily_frame_is_stored_as_yahoo_bars(self, yahoo, settings):
        settings.FETCH_DEFAULT_START = "2025-09-01"
        yahoo.answer("GC=F", download_frame("GC=F", GOLD_WEEK))

        [load] = prices_fetch(symbols=["GC=F"])

        assert (load.kind, load.status, load.symbol) == (DataLoad.Kind.FETCH, DataLoad.Status.SUCCEEDED, "GC=F")
        assert (load.rows_inserted, load.rows_updated, load.rows_unchanged, load.rows_skipped) == (4, 0, 0, 0)
        assert (load.first_date, load.last_date) == (dt.date(2025, 9, 22), dt.date(2025, 9, 25))
        assert load.target == f"Yahoo 2025-09-01 … {new_york_today().isoformat()}"
        bar = PriceBar.objects.get(symbol="GC=F", date=dt.date(2025, 9, 24))
        assert (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.source) == (
            3769.800049,
            3772.5,
            3732.100098,
            3732.100098,
            588,
            PriceBar.Source.YAHOO,
        )

    def test_asks_yahoo_for_raw_daily_bars_through_today(self, yahoo, settings):
        settings.FETCH_DEFAULT_START = "2025-09-01"
        yahoo.answer("GC=F", empty_download_frame("GC=F"))

        prices_fetch(symbols=["GC=F"])

        [call] = yahoo.calls
        assert call["start"] == "2025-09-01"
        assert call["end"] == (new_york_today() + dt.timedelta(days=1)).isoformat()  # download's end is exclusive
        assert (call["interval"], call["auto_adjust"], call["progress"], call["threads"]) == ("1d", False, False, False)

    def test_timezone_aware_index_reads_the_exchange_day(self, yahoo):
        yahoo.answer("GC=F", download_frame("GC=F", GOLD_WEEK, tz="America/New_York"))

        prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))

        assert sorted(stored("GC=F")) == [dt.date(2025, 9, d) for d in (22, 23, 24, 25)]

    def test_empty_frame_is_a_success_with_no_rows(self, yahoo):
        yahoo.answer("GC=F", empty_download_frame("GC=F"))

        [load] = prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 27))  # a weekend

        assert load.status == DataLoad.Status.SUCCEEDED
        assert (load.rows_inserted, load.rows_skipped, load.first_date) == (0, 0, None)

    def test_nan_rows_are_skipped_and_counted(self, yahoo):
        yahoo.answer("GC=F", download_frame("GC=F", {**GOLD_WEEK, "2025-09-26": None}))

        [load] = prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))

        assert (load.rows_inserted, load.rows_skipped, load.last_date) == (4, 1, dt.date(2025, 9, 25))

    def test_a_bar_whose_session_has_not_closed_is_skipped(self, yahoo):
        yahoo.answer("GC=F", download_frame("GC=F", GOLD_WEEK))

        # Noon in New York on the 25th: the 25th's session closes at 17:30, so the last closed day is the 24th.
        noon = dt.datetime(2025, 9, 25, 12, 0, tzinfo=NEW_YORK)
        [load] = prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22), now=noon)

        assert (load.rows_inserted, load.rows_skipped, load.last_date) == (3, 1, dt.date(2025, 9, 24))

    def test_both_symbols_by_default_each_with_its_own_load(self, yahoo):
        yahoo.answer("GC=F", download_frame("GC=F", GOLD_WEEK))
        yahoo.answer("^GSPC", download_frame("^GSPC", SPX_WEEK))

        loads = prices_fetch(since=dt.date(2025, 9, 22))

        assert [(load.symbol, load.rows_inserted) for load in loads] == [("GC=F", 4), ("^GSPC", 2)]
        assert stored("^GSPC")[dt.date(2025, 9, 23)] == 6656.919922


class TestIncremental:
    def test_starts_from_the_last_stored_day_minus_the_overlap(self, yahoo, settings):
        settings.FETCH_OVERLAP_DAYS = 5
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 23), close=3780.600098)
        yahoo.answer("GC=F", empty_download_frame("GC=F"))

        prices_fetch(symbols=["GC=F"])

        assert yahoo.starts("GC=F") == [dt.date(2025, 9, 18)]

    def test_a_symbol_without_bars_starts_at_the_default_start(self, yahoo, settings):
        settings.FETCH_DEFAULT_START = "2020-01-01"
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 23))
        yahoo.answer("^GSPC", empty_download_frame("^GSPC"))

        prices_fetch(symbols=["^GSPC"])

        assert yahoo.starts("^GSPC") == [dt.date(2020, 1, 1)]

    def test_since_overrides_the_incremental_start(self, yahoo):
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 23))
        yahoo.answer("GC=F", empty_download_frame("GC=F"))

        prices_fetch(symbols=["GC=F"], since=dt.date(2024, 1, 2))

        assert yahoo.starts("GC=F") == [dt.date(2024, 1, 2)]

    def test_overlap_updates_a_revised_close_and_inserts_the_new_day(self, yahoo):
        for day, (open_, high, low, close, volume) in list(GOLD_WEEK.items())[:3]:
            PriceBarFactory(
                symbol="GC=F",
                date=dt.date.fromisoformat(day),
                open=open_,
                high=high,
                low=low,
                close=close,
                volume=volume,
            )
        revised = {**GOLD_WEEK, "2025-09-24": (3769.800049, 3772.5, 3732.100098, 3735.0, 588.0)}
        yahoo.answer("GC=F", download_frame("GC=F", revised))

        [load] = prices_fetch(symbols=["GC=F"])

        assert (load.rows_inserted, load.rows_updated, load.rows_unchanged) == (1, 1, 2)
        assert stored("GC=F")[dt.date(2025, 9, 24)] == 3735.0
        revised_bar = PriceBar.objects.get(symbol="GC=F", date=dt.date(2025, 9, 24))
        assert revised_bar.source == PriceBar.Source.YAHOO
        assert revised_bar.updated_at > revised_bar.created_at

    def test_fetching_again_changes_nothing(self, yahoo):
        yahoo.answer("GC=F", download_frame("GC=F", GOLD_WEEK))
        prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))
        before = bars_snapshot()

        [again] = prices_fetch(symbols=["GC=F"])

        assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 4)
        assert bars_snapshot() == before


class TestFailures:
    @pytest.fixture
    def seeded(self):
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 22), close=3775.100098)
        PriceBarFactory(symbol="^GSPC", date=dt.date(2025, 9, 22), close=6693.75)
        return bars_snapshot()

    @pytest.mark.parametrize(
        "error",
        [
            YFRateLimitError(),
            requests.exceptions.ConnectionError("Connection refused"),
            curl_cffi.requests.exceptions.Timeout("Operation timed out after 10000 milliseconds"),
            TimeoutError("timed out"),
        ],
        ids=["rate-limit", "requests", "curl_cffi", "timeout"],
    )
    def test_transient_errors_raise_unavailable_and_are_recorded(self, yahoo, seeded, error):
        yahoo.answer("GC=F", error)

        with pytest.raises(MarketDataUnavailable, match="Yahoo Finance is unavailable for GC=F"):
            prices_fetch(symbols=["GC=F"])

        load = DataLoad.objects.get()
        assert (load.kind, load.status) == (DataLoad.Kind.FETCH, DataLoad.Status.FAILED)
        assert "Yahoo Finance is unavailable for GC=F" in load.error
        assert bars_snapshot() == seeded

    def test_a_bad_bar_fails_the_whole_batch(self, yahoo, seeded):
        bad = {**GOLD_WEEK, "2025-09-24": (3769.8, 3700.0, 3732.1, 3732.1, 588.0)}  # high below low
        yahoo.answer("GC=F", download_frame("GC=F", bad))

        with pytest.raises(MarketDataError, match=r"Yahoo GC=F, bar 2025-09-24: high 3700\.0 is below low 3732\.1"):
            prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))

        assert bars_snapshot() == seeded
        assert DataLoad.objects.get().status == DataLoad.Status.FAILED

    @pytest.mark.parametrize(
        ("values", "reason"),
        [
            ((3769.8, 3772.5, 3732.1, 1e308, 588.0), "close 1e+308 is outside the plausible range for GC=F"),
            ((3769.8, 3772.5, 3732.1, 3732.1, 1e308), "volume 1e+308 is too large"),
            ((3769.8, 3772.5, 3732.1, 3790.0, 588.0), "close 3790.0 is above high 3772.5"),
            ((3700.0, 3772.5, 3732.1, 3740.0, 588.0), "open 3700.0 is below low 3732.1"),
        ],
        ids=["absurd close", "absurd volume", "close above high", "open below low"],
    )
    def test_an_implausible_bar_fails_the_whole_batch_naming_it(self, yahoo, seeded, values, reason):
        yahoo.answer("GC=F", download_frame("GC=F", {**GOLD_WEEK, "2025-09-24": values}))

        with pytest.raises(MarketDataError, match=rf"Yahoo GC=F, bar 2025-09-24: {re.escape(reason)}"):
            prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))

        assert bars_snapshot() == seeded
        assert DataLoad.objects.get().status == DataLoad.Status.FAILED

    def test_a_database_held_by_an_import_is_retryable_and_changes_nothing(self, yahoo, seeded, monkeypatch):
        def locked(*args, **kwargs):
            raise OperationalError("database is locked")

        monkeypatch.setattr(PriceBar.objects, "bulk_create", locked)
        yahoo.answer("GC=F", download_frame("GC=F", GOLD_WEEK))

        with pytest.raises(MarketDataUnavailable, match="Yahoo GC=F: another import or write holds the database"):
            prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))

        assert bars_snapshot() == seeded
        assert DataLoad.objects.get().status == DataLoad.Status.FAILED

    def test_one_failing_symbol_does_not_stop_the_other(self, yahoo, seeded):
        yahoo.answer("GC=F", YFRateLimitError())
        yahoo.answer("^GSPC", download_frame("^GSPC", SPX_WEEK))

        with pytest.raises(MarketDataUnavailable, match="GC=F"):
            prices_fetch(since=dt.date(2025, 9, 22))

        assert stored("GC=F") == {dt.date(2025, 9, 22): 3775.100098}
        assert stored("^GSPC")[dt.date(2025, 9, 23)] == 6656.919922
        statuses = dict(DataLoad.objects.values_list("symbol", "status"))
        assert statuses == {"GC=F": DataLoad.Status.FAILED, "^GSPC": DataLoad.Status.SUCCEEDED}

    def test_a_frame_for_another_ticker_is_refused(self, yahoo):
        yahoo.answer("GC=F", download_frame("SI=F", GOLD_WEEK))

        with pytest.raises(MarketDataError, match="no columns for GC=F"):
            prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))

    def test_unknown_symbol_and_future_since_are_refused_before_any_load(self, yahoo):
        with pytest.raises(MarketDataError, match="Unknown symbol 'SI=F'"):
            prices_fetch(symbols=["SI=F"])
        with pytest.raises(MarketDataError, match="after today"):
            prices_fetch(since=new_york_today() + dt.timedelta(days=1))
        assert not DataLoad.objects.exists()
        assert yahoo.calls == []


class TestRealYfinanceDownload:
    """The real `yf.download` (1.7), with only the per-ticker HTTP call replaced: no network."""

    @pytest.fixture
    def history(self, monkeypatch):
        answers = {}

        def fake_history(ticker, *args, **kwargs):
            answer = answers["answer"]
            if isinstance(answer, BaseException):
                raise answer
            return answer.copy()

        monkeypatch.setattr(yfinance.Ticker, "history", fake_history)
        return answers

    def test_rows_come_through_download_unchanged(self, history):
        index = pd.DatetimeIndex(["2025-09-24", "2025-09-25"], name="Date").tz_localize("America/New_York")
        history["answer"] = pd.DataFrame(
            {
                "Open": [3769.800049, 3781.5],
                "High": [3772.5, 3783.5],
                "Low": [3732.100098, 3767.199951],
                "Close": [3732.100098, 3767.5],
                "Adj Close": [3732.100098, 3767.5],
                "Volume": [588, 19797],
            },
            index=index,
        )

        [load] = prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 24))

        assert load.rows_inserted == 2
        assert stored("GC=F") == {dt.date(2025, 9, 24): 3732.100098, dt.date(2025, 9, 25): 3767.5}

    def test_a_rate_limit_swallowed_by_download_is_still_detected(self, history):
        # download catches the exception, logs "['GC=F']: YFRateLimitError(...)" and returns an empty frame.
        history["answer"] = YFRateLimitError()

        with pytest.raises(MarketDataUnavailable, match="YFRateLimitError"):
            prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 24))
        assert DataLoad.objects.get().status == DataLoad.Status.FAILED

    def test_a_network_error_swallowed_by_download_is_still_detected(self, history):
        history["answer"] = curl_cffi.requests.exceptions.DNSError("Could not resolve host: query2.finance.yahoo.com")

        with pytest.raises(MarketDataUnavailable, match="Could not resolve host"):
            prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 24))

    def test_no_prices_in_the_range_is_an_empty_success(self, history):
        history["answer"] = YFPricesMissingError("GC=F", "(1d 2025-09-27 -> 2025-09-29)")

        [load] = prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 27))

        assert (load.status, load.rows_inserted) == (DataLoad.Status.SUCCEEDED, 0)


class TestFetchPricesCommand:
    def test_prints_one_summary_line_per_symbol(self, yahoo, capsys):
        yahoo.answer("GC=F", download_frame("GC=F", GOLD_WEEK))
        yahoo.answer("^GSPC", download_frame("^GSPC", SPX_WEEK))

        call_command("fetch_prices", "--since", "2025-09-22")

        assert capsys.readouterr().out.splitlines() == [
            "GC=F: 4 inserted, 0 updated, 0 unchanged, 0 skipped (2025-09-22 … 2025-09-25)",
            "^GSPC: 2 inserted, 0 updated, 0 unchanged, 0 skipped (2025-09-22 … 2025-09-23)",
        ]

    def test_one_symbol(self, yahoo, capsys):
        yahoo.answer("^GSPC", download_frame("^GSPC", SPX_WEEK))

        call_command("fetch_prices", "--symbol", "^GSPC", "--since", "2025-09-22")

        assert [call["symbol"] for call in yahoo.calls] == ["^GSPC"]

    def test_a_failure_is_a_command_error(self, yahoo):
        yahoo.answer("GC=F", YFRateLimitError())
        with pytest.raises(CommandError, match="Rate limited"):
            call_command("fetch_prices", "--symbol", "GC=F")

    def test_a_malformed_since_is_refused(self):
        with pytest.raises(CommandError, match="not a date"):
            call_command("fetch_prices", "--since", "22/09/2025")
