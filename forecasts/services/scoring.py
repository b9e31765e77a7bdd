"""Scoring forecasts against actual gold closes, and storing a model version's backtest."""

import logging
import math
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from forecasts.exceptions import ForecastUnusable
from forecasts.models import Forecast, PriceBar
from forecasts.services.bands import band_states_refresh
from forecasts.services.forecast_checks import actual_close_problem, forecast_values_problem
from training.ml.metrics import direction_hit
from training.ml.results import as_date
from training.models import ModelVersion

logger = logging.getLogger(__name__)

SCORE_FIELDS = ["actual_close", "error", "abs_pct_error", "direction_hit", "inside_80", "inside_95", "scored_at"]


def forecast_apply_actual(*, forecast: Forecast, actual_close: float) -> Forecast:
    """Fill a forecast's score fields from the actual close (in memory; the caller saves).

    Raises ForecastUnusable, leaving the forecast untouched, when the close or a score would not be finite.
    """
    problem = actual_close_problem(actual_close)
    if problem is None:
        error = forecast.predicted_close - actual_close
        abs_pct_error = abs(error) / actual_close * 100.0
        scores = {"error": error, "abs_pct_error": abs_pct_error}
        problem = next((f"{name} {value}" for name, value in scores.items() if not math.isfinite(value)), None)
    if problem is not None:
        raise ForecastUnusable(f"Cannot score {forecast}: {problem}; the score was not stored.")
    forecast.actual_close = actual_close
    forecast.error = error
    forecast.abs_pct_error = abs_pct_error
    forecast.direction_hit = direction_hit(
        forecast.predicted_close - forecast.last_close, actual_close - forecast.last_close
    )
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
    pending = []
    for forecast in Forecast.objects.filter(target_date__in=list(closes)):
        if forecast.actual_close == closes[forecast.target_date]:
            continue
        try:
            forecast_apply_actual(forecast=forecast, actual_close=closes[forecast.target_date])
        except ForecastUnusable as exc:
            # One corrupt row (a bad close or forecast from before the checks) must not stop the others' scores.
            logger.error("%s", exc)
            continue
        pending.append(forecast)
    with transaction.atomic():
        Forecast.objects.bulk_update(pending, SCORE_FIELDS, batch_size=500)
    if pending:
        logger.info("Scored %d forecasts", len(pending))
    live_versions = {f.model_version_id for f in pending if f.kind == Forecast.Kind.LIVE}
    band_states_refresh(versions=ModelVersion.objects.filter(pk__in=live_versions))
    return len(pending)


def forecast_backtest_store(*, model_version, rows: Iterable[dict], kind: str = Forecast.Kind.BACKTEST) -> int:
    """Store a model version's out-of-sample predictions as scored forecasts of `kind`: its walk-forward test
    window (`backtest`) or its CV folds (`cv`). Idempotent.

    All or nothing: a row with a non-finite value (or a price not above zero, or bands out of order) raises
    ForecastUnusable naming its day, and no row is stored.
    """
    existing = set(
        Forecast.objects.filter(model_version=model_version, kind=kind).values_list("target_date", flat=True)
    )
    new = []
    for row in rows:
        target_date = as_date(row["target_date"])
        if target_date in existing:
            continue
        problem = forecast_values_problem(row)
        if problem is None and row.get("actual_close") is not None:
            problem = actual_close_problem(row["actual_close"])
        if problem is not None:
            raise ForecastUnusable(
                f"{model_version}: {kind} forecast of {target_date.isoformat()}: {problem}; nothing was stored."
            )
        forecast = Forecast(
            model_version=model_version,
            kind=kind,
            target_date=target_date,
            as_of_date=as_date(row["as_of_date"]),
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
