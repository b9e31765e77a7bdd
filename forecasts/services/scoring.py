"""Scoring forecasts against actual gold closes, and storing a model version's backtest."""

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from forecasts.models import Forecast, PriceBar

logger = logging.getLogger(__name__)

SCORE_FIELDS = ["actual_close", "error", "abs_pct_error", "direction_hit", "inside_80", "inside_95", "scored_at"]


def forecast_apply_actual(*, forecast: Forecast, actual_close: float) -> Forecast:
    """Fill a forecast's score fields from the actual close (in memory; the caller saves)."""
    forecast.actual_close = actual_close
    forecast.error = forecast.predicted_close - actual_close
    forecast.abs_pct_error = abs(forecast.error) / actual_close * 100.0
    predicted_move = forecast.predicted_close - forecast.last_close
    actual_move = actual_close - forecast.last_close
    # A forecast of "no change" (the naive one) makes no directional call.
    forecast.direction_hit = None if predicted_move == 0 else (predicted_move > 0) == (actual_move > 0)
    forecast.inside_80 = forecast.lower_80 <= actual_close <= forecast.upper_80
    forecast.inside_95 = forecast.lower_95 <= actual_close <= forecast.upper_95
    forecast.scored_at = timezone.now()
    return forecast


def forecasts_score() -> int:
    """Score every forecast whose target day now has a gold close (or whose close was revised). Idempotent."""
    closes = dict(
        PriceBar.objects.filter(
            symbol=settings.GOLD_SYMBOL,
            date__in=Forecast.objects.values("target_date"),
        ).values_list("date", "close")
    )
    pending = [
        forecast
        for forecast in Forecast.objects.filter(target_date__in=list(closes))
        if forecast.actual_close != closes[forecast.target_date]
    ]
    for forecast in pending:
        forecast_apply_actual(forecast=forecast, actual_close=closes[forecast.target_date])
    with transaction.atomic():
        Forecast.objects.bulk_update(pending, SCORE_FIELDS, batch_size=500)
    if pending:
        logger.info("Scored %d forecasts", len(pending))
    return len(pending)


def forecast_backtest_store(*, model_version, rows: Iterable[dict]) -> int:
    """Store a model version's test-window predictions as scored `backtest` forecasts. Idempotent."""
    existing = set(
        Forecast.objects.filter(model_version=model_version, kind=Forecast.Kind.BACKTEST).values_list(
            "target_date", flat=True
        )
    )
    new = []
    for row in rows:
        target_date = _as_date(row["target_date"])
        if target_date in existing:
            continue
        forecast = Forecast(
            model_version=model_version,
            kind=Forecast.Kind.BACKTEST,
            target_date=target_date,
            as_of_date=_as_date(row["as_of_date"]),
            last_close=row["last_close"],
            predicted_return=row["predicted_return"],
            predicted_close=row["predicted_close"],
            lower_80=row["lower_80"],
            upper_80=row["upper_80"],
            lower_95=row["lower_95"],
            upper_95=row["upper_95"],
        )
        if row.get("actual_close") is not None:
            forecast_apply_actual(forecast=forecast, actual_close=row["actual_close"])
        new.append(forecast)
    with transaction.atomic():
        Forecast.objects.bulk_create(new, batch_size=500)
    return len(new)


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
