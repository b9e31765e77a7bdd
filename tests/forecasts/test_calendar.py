"""The trading calendar (NYSE): the next and previous trading day, and when a session counts as completed."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from forecasts.calendar import (
    is_trading_day,
    last_completed_trading_day,
    latest_closed_day,
    next_trading_day,
    previous_trading_day,
)

NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


def ny(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 9, 24), dt.date(2025, 9, 25)),  # Wednesday -> Thursday
        (dt.date(2025, 9, 26), dt.date(2025, 9, 29)),  # Friday -> Monday
        (dt.date(2025, 9, 27), dt.date(2025, 9, 29)),  # Saturday -> Monday
        (dt.date(2025, 7, 3), dt.date(2025, 7, 7)),  # Independence Day falls on the Friday
        (dt.date(2024, 12, 31), dt.date(2025, 1, 2)),  # New Year's Day
    ],
)
def test_next_trading_day(day, expected):
    assert next_trading_day(day) == expected


def test_previous_trading_day_skips_weekends_and_holidays():
    assert previous_trading_day(dt.date(2025, 7, 7)) == dt.date(2025, 7, 3)
    assert previous_trading_day(dt.date(2025, 9, 29)) == dt.date(2025, 9, 26)


def test_is_trading_day():
    assert is_trading_day(dt.date(2025, 9, 25))
    assert not is_trading_day(dt.date(2025, 9, 27))  # Saturday
    assert not is_trading_day(dt.date(2025, 7, 4))


class TestLastCompletedTradingDay:
    def test_before_1730_new_york_today_is_not_completed(self):
        assert last_completed_trading_day(ny(2025, 9, 25, 17, 29)) == dt.date(2025, 9, 24)

    def test_from_1730_new_york_today_is_completed(self):
        assert last_completed_trading_day(ny(2025, 9, 25, 17, 30)) == dt.date(2025, 9, 25)

    def test_any_timezone_is_read_as_new_york_time(self):
        # 21:29 UTC is 17:29 EDT; in January 22:30 UTC is 17:30 EST.
        assert last_completed_trading_day(dt.datetime(2025, 9, 25, 21, 29, tzinfo=UTC)) == dt.date(2025, 9, 24)
        assert last_completed_trading_day(dt.datetime(2025, 1, 8, 22, 30, tzinfo=UTC)) == dt.date(2025, 1, 8)

    def test_a_naive_time_is_utc(self):
        assert last_completed_trading_day(dt.datetime(2025, 9, 25, 21, 30)) == dt.date(2025, 9, 25)

    def test_weekend_and_monday_morning_give_friday(self):
        assert last_completed_trading_day(ny(2025, 9, 27, 12, 0)) == dt.date(2025, 9, 26)
        assert last_completed_trading_day(ny(2025, 9, 29, 9, 0)) == dt.date(2025, 9, 26)

    def test_holiday_gives_the_session_before(self):
        assert last_completed_trading_day(ny(2025, 7, 4, 20, 0)) == dt.date(2025, 7, 3)

    def test_defaults_to_now(self):
        assert last_completed_trading_day() <= dt.datetime.now(NEW_YORK).date()


def test_latest_closed_day_is_calendar_free():
    assert latest_closed_day(ny(2025, 7, 4, 20, 0)) == dt.date(2025, 7, 4)
    assert latest_closed_day(ny(2025, 7, 4, 9, 0)) == dt.date(2025, 7, 3)
