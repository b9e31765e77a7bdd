"""The naive forecasts a champion's forecasts are compared with, day by day (live accuracy and the live bands)."""

from __future__ import annotations

import datetime as dt

from forecasts.models import Forecast
from training.models import ModelVersion
from training.selectors import model_version_naive_baseline


def naive_forecasts_by_day(*, champion: ModelVersion, kind: str, days) -> dict[dt.date, Forecast]:
    """The scored naive forecast of `kind` of each of `days` (dates or a query of them) to compare `champion` with:
    the champion's run's naive version's where it has one that day, else the newest naive one. A backtest belongs
    to its run's test window, so backtests compare with the same run's naive version only."""
    baseline = model_version_naive_baseline(champion=champion)
    naive_rows = Forecast.objects.scored().filter(
        kind=kind, model_version__architecture=ModelVersion.Architecture.NAIVE, target_date__in=days
    )
    if kind == Forecast.Kind.BACKTEST:
        if baseline is None:
            return {}
        naive_rows = naive_rows.filter(model_version=baseline)
    naive_by_day: dict[dt.date, Forecast] = {}
    for row in naive_rows.select_related("model_version").order_by("-created_at"):
        current = naive_by_day.get(row.target_date)
        if current is None or (baseline is not None and row.model_version_id == baseline.pk):
            naive_by_day[row.target_date] = row
    return naive_by_day
