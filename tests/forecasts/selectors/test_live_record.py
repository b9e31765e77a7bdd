"""The live record: the late rule, and the bars a live next-day forecast waits for."""

import datetime as dt

import pytest

from forecasts.selectors.live_record import (
    MissingBars,
    forecast_is_late,
    forecast_kind_on_storing,
    gold_close_stored_at,
    live_forecast_missing_bars,
)
from tests.factories import PriceBarFactory
from tests.forecasts.forecasters import store_closes, trading_days

NOON = dt.datetime(2025, 9, 24, 12, 0, tzinfo=dt.UTC)


class TestTheLateRule:
    def test_a_forecast_stored_before_its_target_close_is_live(self):
        assert forecast_is_late(forecast_stored_at=NOON, close_stored_at=NOON + dt.timedelta(seconds=1)) is False

    def test_a_forecast_stored_after_its_target_close_is_late(self):
        assert forecast_is_late(forecast_stored_at=NOON, close_stored_at=NOON - dt.timedelta(days=1)) is True

    def test_a_close_stored_at_the_same_instant_was_already_there(self):
        assert forecast_is_late(forecast_stored_at=NOON, close_stored_at=NOON) is True

    def test_without_a_stored_close_a_forecast_is_live(self):
        assert forecast_is_late(forecast_stored_at=NOON, close_stored_at=None) is False


@pytest.mark.django_db
class TestKindOnStoring:
    def test_a_forecast_of_a_day_whose_gold_close_is_stored_is_late(self):
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 25))

        assert forecast_kind_on_storing(target_date=dt.date(2025, 9, 25)) == "late"

    def test_only_the_gold_close_counts(self):
        PriceBarFactory(symbol="^GSPC", date=dt.date(2025, 9, 25), close=6600.0)

        assert forecast_kind_on_storing(target_date=dt.date(2025, 9, 25)) == "live"
        assert gold_close_stored_at(day=dt.date(2025, 9, 25)) is None

    def test_a_forecast_of_a_day_without_its_close_is_live(self):
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 24))

        assert forecast_kind_on_storing(target_date=dt.date(2025, 9, 25)) == "live"


@pytest.mark.django_db
class TestMissingBars:
    def test_gold_a_day_ahead_of_the_sp500_names_the_sp500_bar(self):
        store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
        store_closes([dt.date(2025, 9, 25)], spx=False)

        missing = live_forecast_missing_bars()

        assert missing == MissingBars(as_of_date=dt.date(2025, 9, 24), date=dt.date(2025, 9, 25), symbols=("^GSPC",))
        assert missing.message == "S&P 500 close for 2025-09-25 not stored yet"
        assert missing.to_dict() == {
            "as_of_date": "2025-09-24",
            "date": "2025-09-25",
            "symbols": ["^GSPC"],
            "message": "S&P 500 close for 2025-09-25 not stored yet",
        }

    def test_it_is_the_trading_day_after_the_last_common_day(self):
        store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 19)))  # through Friday
        store_closes([dt.date(2025, 9, 22), dt.date(2025, 9, 23)], spx=False)  # gold's Monday and Tuesday

        missing = live_forecast_missing_bars()

        assert (missing.as_of_date, missing.date) == (dt.date(2025, 9, 19), dt.date(2025, 9, 22))

    def test_nothing_is_missing_when_both_closes_are_in(self):
        store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))

        assert live_forecast_missing_bars() is None

    def test_the_sp500_a_day_ahead_leaves_a_live_forecast_possible(self):
        """The next-day step forecasts 2025-09-25, whose gold close is not in: that forecast is live."""
        store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
        store_closes([dt.date(2025, 9, 25)], gold=False)

        assert live_forecast_missing_bars() is None

    def test_without_a_common_day_there_is_nothing_to_say(self):
        store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)), spx=False)

        assert live_forecast_missing_bars() is None


def test_the_message_names_each_missing_bar():
    day, before = dt.date(2025, 9, 25), dt.date(2025, 9, 24)

    assert MissingBars(as_of_date=before, date=day, symbols=("GC=F",)).message == (
        "Gold close for 2025-09-25 not stored yet"
    )
    assert MissingBars(as_of_date=before, date=day, symbols=("GC=F", "^GSPC")).message == (
        "Gold and S&P 500 closes for 2025-09-25 not stored yet"
    )
