"""Template filters that format numbers, dates and flags for people reading the dashboard.

`{% load goldsite_format %}`, then:

    {{ forecast.predicted_close|money }}        4012.3 -> "$4,012.30"     (money:0 -> "$4,012")
    {{ model.test_metrics.mape|pct }}           0.84   -> "0.84%"         values are already in percent
    {{ change_pct|signed_pct }}                1.2 -> "+1.20%", -0.5 -> "−0.50%" (signed_pct:1 -> "+1.2%")
    {{ model.test_metrics.rmae|ratio }}         0.9731 -> "0.973"         (ratio:2 -> "0.97")
    {{ forecast.target_date|isodate }}          date(2025, 9, 25) -> "2025-09-25"
    {{ version.is_champion|yesno_mark }}        ✓ / ✗ with "Yes" / "No" for screen readers
    {{ run.duration|duration }}                 timedelta(minutes=75) -> "1 h 15 min"

Negative numbers use a real minus sign (U+2212). A missing or unusable value (None, "", NaN, text that is
not a number) prints an em dash, so a table never shows "None" or "nan".
"""

import datetime as dt
import math
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

MISSING = "—"  # em dash
MINUS = "−"  # U+2212 MINUS SIGN, the same width as "+" in tabular figures


def _number(value) -> float | None:
    """`value` as a finite float, or None when it is missing or not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(Decimal(value) if isinstance(value, str) else value)
    except (TypeError, ValueError, InvalidOperation):
        return None
    return number if math.isfinite(number) else None


def _decimals(arg, default: int) -> int:
    try:
        decimals = int(arg)
    except (TypeError, ValueError):
        return default
    return max(decimals, 0)


def _split_sign(number: float, decimals: int, *, plus: bool = False) -> tuple[str, str]:
    """(sign, absolute value with thousands separators); a value that rounds to zero never gets a sign."""
    text = f"{abs(number):,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return "", text
    if number < 0:
        return MINUS, text
    return ("+" if plus else ""), text


@register.filter
def money(value, decimals=2):
    """US dollars with thousands separators: 4012.3 -> "$4,012.30", -12.5 -> "−$12.50"."""
    number = _number(value)
    if number is None:
        return MISSING
    sign, text = _split_sign(number, _decimals(decimals, 2))
    return f"{sign}${text}"


@register.filter
def pct(value, decimals=2):
    """A value already in percent units: 0.84 -> "0.84%", -0.5 -> "−0.50%"."""
    number = _number(value)
    if number is None:
        return MISSING
    sign, text = _split_sign(number, _decimals(decimals, 2))
    return f"{sign}{text}%"


@register.filter
def signed_pct(value, decimals=2):
    """A change in percent units, always signed: 1.2 -> "+1.20%", -0.5 -> "−0.50%", 0 -> "0.00%"."""
    number = _number(value)
    if number is None:
        return MISSING
    sign, text = _split_sign(number, _decimals(decimals, 2), plus=True)
    return f"{sign}{text}%"


@register.filter
def ratio(value, decimals=3):
    """A unitless ratio such as relative MAE: 0.9731 -> "0.973"."""
    number = _number(value)
    if number is None:
        return MISSING
    sign, text = _split_sign(number, _decimals(decimals, 3))
    return f"{sign}{text}"


@register.filter
def isodate(value):
    """A date as YYYY-MM-DD; an aware datetime is converted to the current time zone first."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return MISSING
    return MISSING


@register.filter
def yesno_mark(value, labels="Yes,No"):
    """✓ or ✗ for sighted readers plus the word for screen readers; None shows "—" ("Unknown").

    `labels` names the states: `{{ version.is_champion|yesno_mark:"Champion,Challenger" }}`.
    """
    yes, _, no = str(labels).partition(",")
    if value is None:
        return format_html(
            '<span class="mark mark--unknown"><span aria-hidden="true">{}</span>'
            '<span class="visually-hidden">Unknown</span></span>',
            MISSING,
        )
    if value:
        return format_html(
            '<span class="mark mark--yes"><span aria-hidden="true">✓</span>'
            '<span class="visually-hidden">{}</span></span>',
            yes or "Yes",
        )
    return format_html(
        '<span class="mark mark--no"><span aria-hidden="true">✗</span><span class="visually-hidden">{}</span></span>',
        no or "No",
    )


@register.filter
def duration(value):
    """A timedelta (or a number of seconds) in words: "45 s", "3 min 20 s", "1 h 15 min", "2 d 4 h"."""
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    else:
        seconds = _number(value)
        if seconds is None:
            return MISSING
    seconds = round(seconds)
    if seconds < 0:
        return MISSING
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        parts = [(days, "d"), (hours, "h")]
    elif hours:
        parts = [(hours, "h"), (minutes, "min")]
    elif minutes:
        parts = [(minutes, "min"), (secs, "s")]
    else:
        parts = [(secs, "s")]
    return " ".join(f"{amount} {unit}" for amount, unit in parts if amount) or "0 s"
