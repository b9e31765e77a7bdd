"""Reading bars and loads: what the model, the dashboard and the API get."""

import datetime as dt

import pandas as pd
import pytest
from django.utils import timezone

from forecasts.models import DataLoad
from forecasts.selectors.prices import (
    data_freshness,
    data_load_latest_successful,
    price_bars_list,
    price_closes_frame,
    price_latest_date,
)
from tests.factories import DataLoadFactory, PriceBarFactory

pytestmark = pytest.mark.django_db

NEW_YORK = dt.timezone(dt.timedelta(hours=-4))  # EDT, for readable "now" values in September


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def bars():
    """Gold trades on 22-25 Sep; the S&P 500 on 19, 22, 23 and 25 (not 24, for the test)."""
    for text, close in [("2025-09-22", 3775.1), ("2025-09-23", 3780.6), ("2025-09-24", 3732.1), ("2025-09-25", 3767.5)]:
        PriceBarFactory(symbol="GC=F", date=day(text), close=close)
    for text, close in [
        ("2025-09-19", 6664.36),
        ("2025-09-22", 6693.75),
        ("2025-09-23", 6656.92),
        ("2025-09-25", 6604.7),
    ]:
        PriceBarFactory(symbol="^GSPC", date=day(text), close=close)


class TestPriceBarsList:
    def test_filters_by_symbol_and_inclusive_range(self, bars):
        found = price_bars_list(symbol="GC=F", start=day("2025-09-23"), end=day("2025-09-24"))
        assert [(b.symbol, b.date) for b in found] == [("GC=F", day("2025-09-23")), ("GC=F", day("2025-09-24"))]

    def test_without_filters_orders_by_symbol_then_date(self, bars):
        found = list(price_bars_list().values_list("symbol", "date"))
        assert found == sorted(found)
        assert len(found) == 8


class TestPriceClosesFrame:
    def test_common_trading_days_only_as_float_columns(self, bars):
        frame = price_closes_frame()

        assert list(frame.columns) == ["gold", "spx"]
        assert isinstance(frame.index, pd.DatetimeIndex)
        assert frame.index.name == "date"
        assert list(frame.index.date) == [day("2025-09-22"), day("2025-09-23"), day("2025-09-25")]
        assert frame.index.is_monotonic_increasing
        assert frame.dtypes.tolist() == ["float64", "float64"]
        assert frame.loc["2025-09-25"].tolist() == [3767.5, 6604.7]

    def test_end_keeps_days_up_to_and_including_it(self, bars):
        frame = price_closes_frame(end=day("2025-09-23"))
        assert list(frame.index.date) == [day("2025-09-22"), day("2025-09-23")]

    def test_no_bars_is_an_empty_frame_with_the_same_columns(self):
        frame = price_closes_frame()
        assert frame.empty
        assert list(frame.columns) == ["gold", "spx"]
        assert isinstance(frame.index, pd.DatetimeIndex)

    def test_the_real_history_joins_on_about_1250_days(self, shared_data):
        from forecasts.services.prices import prices_import_csv

        prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")
        prices_import_csv(symbol="^GSPC", path=shared_data / "sp500.csv")

        frame = price_closes_frame()

        assert 1240 <= len(frame) <= 1257
        assert frame.index[0] == pd.Timestamp("2020-09-28")
        assert frame.index[-1] == pd.Timestamp("2025-09-24")
        assert not frame.isna().any().any()


class TestSingleValues:
    def test_latest_date(self, bars):
        assert price_latest_date(symbol="GC=F") == day("2025-09-25")
        assert price_latest_date(symbol="^GSPC") == day("2025-09-25")

    def test_latest_date_without_bars(self):
        assert price_latest_date(symbol="GC=F") is None


class TestLoadsAndFreshness:
    def test_latest_successful_load_ignores_failed_and_running_ones(self):
        now = timezone.now()
        older = DataLoadFactory(finished_at=now - dt.timedelta(days=1))
        newest = DataLoadFactory(kind=DataLoad.Kind.FETCH, symbol="^GSPC", finished_at=now)
        DataLoadFactory(status=DataLoad.Status.FAILED, finished_at=now + dt.timedelta(minutes=1))
        DataLoadFactory(status=DataLoad.Status.RUNNING)

        assert data_load_latest_successful() == newest
        assert older != newest

    def test_no_successful_load(self):
        DataLoadFactory(status=DataLoad.Status.FAILED)
        assert data_load_latest_successful() is None

    def test_fresh_when_gold_has_the_last_completed_session(self, bars):
        load = DataLoadFactory(finished_at=timezone.now())
        freshness = data_freshness(now=dt.datetime(2025, 9, 26, 9, 0, tzinfo=NEW_YORK))

        assert freshness.newest_gold_date == day("2025-09-25")
        assert freshness.expected_date == day("2025-09-25")
        assert (freshness.is_stale, freshness.staleness_days) == (False, 0)
        assert freshness.last_successful_load == load

    def test_stale_once_the_next_session_completes(self, bars):
        freshness = data_freshness(now=dt.datetime(2025, 9, 29, 18, 0, tzinfo=NEW_YORK))  # Monday evening

        assert freshness.expected_date == day("2025-09-29")
        assert (freshness.is_stale, freshness.staleness_days) == (True, 4)
        assert freshness.last_successful_load is None

    def test_stale_without_any_gold(self):
        freshness = data_freshness(now=dt.datetime(2025, 9, 26, 9, 0, tzinfo=NEW_YORK))
        assert (freshness.newest_gold_date, freshness.is_stale, freshness.staleness_days) == (None, True, None)
