"""The goldsite_format template filters: how numbers, dates and flags read on the dashboard."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from goldsite.templatetags.goldsite_format import duration, isodate, money, pct, ratio, signed_pct, yesno_mark

MINUS = "\u2212"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4012.3, "$4,012.30"),
        (0, "$0.00"),
        (1234567.891, "$1,234,567.89"),
        (-12.5, f"{MINUS}$12.50"),
        (-0.001, "$0.00"),
        (Decimal("99.999"), "$100.00"),
        ("3700", "$3,700.00"),
        (None, "—"),
        ("", "—"),
        ("n/a", "—"),
        (float("nan"), "—"),
        (float("inf"), "—"),
        (True, "—"),
    ],
)
def test_money(value, expected):
    assert money(value) == expected


def test_money_takes_decimals():
    assert money(4012.3, 0) == "$4,012"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.84, "0.84%"), (12, "12.00%"), (-0.5, f"{MINUS}0.50%"), (0.001, "0.00%"), (None, "—")],
)
def test_pct_takes_values_already_in_percent(value, expected):
    assert pct(value) == expected


def test_pct_takes_decimals():
    assert pct(0.84, 1) == "0.8%"
    assert pct(0.84, "0") == "1%"
    assert pct(0.84, "junk") == "0.84%"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1.2, 1, "+1.2%"),
        (-0.5, 1, f"{MINUS}0.5%"),
        (1.2, 2, "+1.20%"),
        (0, 2, "0.00%"),
        (-0.001, 2, "0.00%"),
        (1234.5, 1, "+1,234.5%"),
    ],
)
def test_signed_pct_always_shows_the_direction(value, decimals, expected):
    assert signed_pct(value, decimals) == expected


def test_signed_pct_defaults_to_two_decimals():
    assert signed_pct(0.35) == "+0.35%"
    assert signed_pct(None) == "—"


def test_ratio():
    assert ratio(0.9731) == "0.973"
    assert ratio(1.01849, 2) == "1.02"
    assert ratio(None) == "—"


def test_isodate():
    assert isodate(dt.date(2025, 9, 25)) == "2025-09-25"
    assert isodate("2025-09-25") == "2025-09-25"
    assert isodate(None) == "—"
    assert isodate("yesterday") == "—"


def test_isodate_of_an_aware_datetime_uses_the_current_time_zone():
    moment = dt.datetime(2025, 9, 25, 23, 30, tzinfo=dt.UTC)

    with timezone.override("Asia/Tokyo"):
        assert isodate(moment) == "2025-09-26"
    with timezone.override("UTC"):
        assert isodate(moment) == "2025-09-25"


def test_yesno_mark_gives_screen_readers_a_word():
    assert yesno_mark(True) == (
        '<span class="mark mark--yes"><span aria-hidden="true">✓</span><span class="visually-hidden">Yes</span></span>'
    )
    assert '<span class="visually-hidden">No</span>' in yesno_mark(False)
    assert '<span class="visually-hidden">Unknown</span>' in yesno_mark(None)


def test_yesno_mark_takes_labels_and_escapes_them():
    assert '<span class="visually-hidden">Champion</span>' in yesno_mark(True, "Champion,Challenger")
    assert '<span class="visually-hidden">Challenger</span>' in yesno_mark(False, "Champion,Challenger")
    assert "&lt;b&gt;" in yesno_mark(True, "<b>,no")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.timedelta(seconds=45), "45 s"),
        (dt.timedelta(minutes=3, seconds=20), "3 min 20 s"),
        (dt.timedelta(minutes=15), "15 min"),
        (dt.timedelta(hours=1, minutes=15), "1 h 15 min"),
        (dt.timedelta(days=2, hours=4, minutes=9), "2 d 4 h"),
        (dt.timedelta(0), "0 s"),
        (90, "1 min 30 s"),
        (None, "—"),
        (dt.timedelta(seconds=-5), "—"),
    ],
)
def test_duration(value, expected):
    assert duration(value) == expected


def test_filters_work_in_templates():
    template = Template(
        "{% load goldsite_format %}{{ close|money }} {{ change|signed_pct:1 }} {{ mape|pct }} {{ hit|yesno_mark }}"
    )

    rendered = template.render(Context({"close": 4012.3, "change": -0.5, "mape": 0.84, "hit": True}))

    assert rendered.startswith(f'$4,012.30 {MINUS}0.5% 0.84% <span class="mark mark--yes">')
