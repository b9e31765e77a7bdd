"""Live forecasts stored after their target day's gold close was stored become late (issue 12).

Before this, the next-day step stored every forecast as `live`, so with gold a day ahead of the S&P 500 it
stored "live" forecasts of closes it could already read, and live accuracy counted them. This applies the
live record's rule, `forecasts.selectors.live_record.forecast_is_late`, to the rows stored before it.

Timestamps: a forecast is late when the gold bar of its target day has `PriceBar.created_at` no later than
the forecast's `Forecast.created_at`. Both fields exist since 0001 and both are set on insert (auto_now_add,
also under bulk_create) by the process that wrote the row; with web and workers on several machines their
clocks have to agree to better than the gap between a close's arrival and a forecast, which in the daily
pipeline (fetch, then score, then predict) is the run of a task. `created_at` and not `updated_at` is the right
one: `updated_at` moves when a later load revises the close (Yahoo's small revisions), which says nothing
about when the close first became readable; a forecast made before the first close and scored against a
revised one is still live. Forecasts whose target day has no gold bar yet stay live. Bars are never deleted
and re-inserted by the loads, so `created_at` is when the close first arrived (a bar deleted by hand in the
admin and loaded again would look newer: such a forecast stays live).

No late row exists before this migration (the kind was only reserved in 0002), so turning a live row late
cannot collide with the unique (model_version, target_date, kind) constraint.

Reversing does nothing: once late rows are stored by the service, the ones this migration changed can no
longer be told apart, and making all of them live again would count forecasts that were never live.
"""

from django.conf import settings
from django.db import migrations

from forecasts.selectors.live_record import forecast_is_late  # a pure function: no model, no query

BATCH = 500


def live_forecasts_made_after_their_close_become_late(apps, schema_editor):
    Forecast = apps.get_model("forecasts", "Forecast")
    PriceBar = apps.get_model("forecasts", "PriceBar")
    live = Forecast.objects.filter(kind="live")
    close_stored_at = dict(
        PriceBar.objects.filter(symbol=settings.GOLD_SYMBOL, date__in=live.values("target_date")).values_list(
            "date", "created_at"
        )
    )
    late_ids = [
        pk
        for pk, target_date, created_at in live.values_list("pk", "target_date", "created_at").iterator()
        if forecast_is_late(forecast_stored_at=created_at, close_stored_at=close_stored_at.get(target_date))
    ]
    for start in range(0, len(late_ids), BATCH):
        Forecast.objects.filter(pk__in=late_ids[start : start + BATCH]).update(kind="late")


class Migration(migrations.Migration):
    dependencies = [
        ("forecasts", "0002_forecast_kinds_cv_late"),
    ]

    operations = [
        migrations.RunPython(live_forecasts_made_after_their_close_become_late, migrations.RunPython.noop),
    ]
