"""The one definition of how numbers are written for people: money, percent, ratios, p-values, metrics.

Pages, the admin, `manage.py train` and the evidence sentences all print through these functions, so a value
reads the same everywhere. Where two surfaces spell a value differently on purpose, each spelling is its own
named function here:

- `money`, `pct`, `signed_pct`, `ratio`: the pages' spelling. A real minus sign (U+2212), thousands separators,
  and an em dash for a missing or unusable value (None, "", NaN, text that is not a number).
- `metric`, `column`: Python's format spec (ASCII minus, `.1%` for fractions), for the admin's list
  columns and the CLI's fixed-width tables.
- `p_cell`, `p_text`, `p_short`: a p as a table cell ("0.031"), in a sentence with two significant digits
  ("p = 0.031"), and in the live record's note with two decimals ("p = 0.03").
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation

from django.utils import timezone

MISSING = "—"  # em dash
MINUS = "−"  # U+2212 MINUS SIGN, the same width as "+" in tabular figures


def finite_number(value) -> float | None:
    """`value` as a finite float, or None when it is missing or not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(Decimal(value) if isinstance(value, str) else value)
    except (TypeError, ValueError, InvalidOperation):
        return None
    return number if math.isfinite(number) else None


def percent_units(fraction: float | None) -> float | None:
    """A 0-1 fraction (0.84) in percent units (84.0), for `pct`; None stays None."""
    return None if fraction is None else fraction * 100.0


def _decimals(arg, default: int) -> int:
    try:
        decimals = int(arg)
    except (TypeError, ValueError):
        return default
    return max(decimals, 0)


def _signed(value, decimals, default: int, *, unit: str = "", suffix: str = "", plus: bool = False) -> str:
    """sign + unit + the absolute value with thousands separators + suffix; a value that rounds to zero never
    gets a sign, a missing one is an em dash."""
    number = finite_number(value)
    if number is None:
        return MISSING
    text = f"{abs(number):,.{_decimals(decimals, default)}f}"
    sign = ""
    if float(text.replace(",", "")) != 0:
        sign = MINUS if number < 0 else ("+" if plus else "")
    return f"{sign}{unit}{text}{suffix}"


def money(value, decimals=2) -> str:
    """US dollars with thousands separators: 4012.3 -> "$4,012.30", -12.5 -> "−$12.50"."""
    return _signed(value, decimals, 2, unit="$")


def pct(value, decimals=2) -> str:
    """A value already in percent units: 0.84 -> "0.84%", -0.5 -> "−0.50%"."""
    return _signed(value, decimals, 2, suffix="%")


def signed_pct(value, decimals=2) -> str:
    """A change in percent units, always signed: 1.2 -> "+1.20%", -0.5 -> "−0.50%", 0 -> "0.00%"."""
    return _signed(value, decimals, 2, suffix="%", plus=True)


def ratio(value, decimals=3) -> str:
    """A unitless ratio such as relative MAE: 0.9731 -> "0.973"."""
    return _signed(value, decimals, 3)


def count(value: int | None) -> str:
    """A number of days or rows with thousands separators: 1250 -> "1,250"."""
    return MISSING if value is None else f"{value:,}"


def metric(value, spec: str) -> str:
    """A metric in Python's format spec (".2f", ".3f", ".1%" for a fraction); an em dash when missing."""
    return MISSING if value is None else format(value, spec)


def column(value, spec: str) -> str:
    """`metric` for a fixed-width column ("8.3f"): a missing value is an em dash padded to the spec's width."""
    width = int("".join(c for c in spec.split(".")[0] if c.isdigit()) or 0)
    return MISSING.rjust(width) if value is None else format(value, spec)


def p_cell(p: float | None) -> str:
    """A p as a table cell: three decimals (0.0312 -> "0.031"); an em dash when there is none."""
    return metric(p, ".3f")


def p_text(p: float) -> str:
    """ "p = 0.41": two significant digits, at least two decimals (0.031 -> "p = 0.031", 0.03 -> "p = 0.03")."""
    if not math.isfinite(p):
        return "p unknown"
    if p < 0.001:
        return "p < 0.001"
    decimals = max(2, 1 - math.floor(math.log10(p)))
    whole, _, fraction = f"{p:.{decimals}f}".partition(".")
    return f"p = {whole}.{fraction.rstrip('0').ljust(2, '0')}"


def p_short(p: float) -> str:
    """ "p = 0.03", or "p < 0.01" when two decimals would print 0.00 (the live record's note)."""
    return "p < 0.01" if p < 0.005 else f"p = {p:.2f}"


def isodate(value) -> str:
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


def duration(value) -> str:
    """A timedelta (or a number of seconds) in words: "45 s", "3 min 20 s", "1 h 15 min", "2 d 4 h"."""
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    else:
        seconds = finite_number(value)
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
