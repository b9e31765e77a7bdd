"""Trading days, from the exchange calendar in settings.TRADING_CALENDAR (NYSE, "XNYS").

exchange_calendars is imported on first use and the calendar object is built once per process.
A session counts as completed at 17:30 New York time on its day: when the daily fetch runs.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

NEW_YORK = ZoneInfo("America/New_York")
SESSION_COMPLETED_AT = dt.time(17, 30)
# The calendar answers for days from here to about a year ahead of today.
CALENDAR_START = "2000-01-01"


def trading_calendar() -> ExchangeCalendar:
    return _calendar(settings.TRADING_CALENDAR)


@functools.cache
def _calendar(name: str) -> ExchangeCalendar:
    import exchange_calendars

    with warnings.catch_warnings():
        # exchange_calendars 4.13 reads Series.values of tz-aware data, deprecated in pandas 3.1: its concern.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
        return exchange_calendars.get_calendar(name, start=CALENDAR_START)


def is_trading_day(day: dt.date) -> bool:
    return bool(trading_calendar().is_session(day.isoformat()))


def next_trading_day(day: dt.date) -> dt.date:
    """The first trading day after `day` (Friday -> Monday; 2025-07-03 -> 2025-07-07)."""
    return trading_calendar().date_to_session((day + dt.timedelta(days=1)).isoformat(), direction="next").date()


def previous_trading_day(day: dt.date) -> dt.date:
    """The last trading day before `day`."""
    return trading_calendar().date_to_session((day - dt.timedelta(days=1)).isoformat(), direction="previous").date()


def new_york_today(now: dt.datetime | None = None) -> dt.date:
    return _in_new_york(now).date()


def latest_closed_day(now: dt.datetime | None = None) -> dt.date:
    """The newest calendar day whose session, if it had one, has completed by `now` (17:30 New York)."""
    local = _in_new_york(now)
    if local.time() >= SESSION_COMPLETED_AT:
        return local.date()
    return local.date() - dt.timedelta(days=1)


def last_completed_trading_day(now: dt.datetime | None = None) -> dt.date:
    """The newest trading day whose session has completed by `now` (default: the current time)."""
    return trading_calendar().date_to_session(latest_closed_day(now).isoformat(), direction="previous").date()


def _in_new_york(now: dt.datetime | None) -> dt.datetime:
    now = timezone.now() if now is None else now
    if timezone.is_naive(now):
        now = timezone.make_aware(now)  # in settings.TIME_ZONE (UTC)
    return now.astimezone(NEW_YORK)
