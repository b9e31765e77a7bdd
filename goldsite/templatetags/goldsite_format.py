"""Template filters that format numbers, dates and flags for people reading the pages.

`{% load goldsite_format %}`, then:

    {{ forecast.predicted_close|money }}        4012.3 -> "$4,012.30"
    {{ forecast.upper_80|money:0 }}             4163.8 -> "$4,164"
    {{ version.test_metrics.mape|pct }}         0.84 -> "0.84%"           values are already in percent
    {{ row.coverage_80_pct|pct:1 }}             81.2 -> "81.2%"
    {{ change_pct|signed_pct }}                 1.2 -> "+1.20%", -0.5 -> "−0.50%"
    {{ version.test_metrics.rmae|ratio }}       0.9731 -> "0.973"
    {{ forecast.target_date|isodate }}          date(2025, 9, 25) -> "2025-09-25"
    {{ forecast.inside_80|yesno_mark:"Inside,Outside" }}   ✓ / ✗ with the word for screen readers
    {{ run.duration|duration }}                 timedelta(minutes=75) -> "1 h 15 min"

Negative numbers use a real minus sign (U+2212). A missing or unusable value (None, "", NaN, text that is
not a number) prints an em dash, so a table never shows "None" or "nan". The numbers are written by
`goldsite.presentation.formatting`, the same functions the Python of both apps uses.
"""

from django import template
from django.utils.html import format_html

from goldsite.presentation.formatting import MISSING, duration, isodate, money, pct, ratio, signed_pct

register = template.Library()

register.filter("money", money)
register.filter("pct", pct)
register.filter("signed_pct", signed_pct)
register.filter("ratio", ratio)
register.filter("isodate", isodate)
register.filter("duration", duration)


@register.filter
def yesno_mark(value, labels="Yes,No"):
    """✓ or ✗ for sighted readers plus the word for screen readers; None shows "—" ("Unknown").

    `labels` names the states: `{{ forecast.inside_80|yesno_mark:"Inside,Outside" }}`.
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
