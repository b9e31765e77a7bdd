"""Thin Celery tasks for market data: plain arguments in, one service call, a small JSON-able summary out.

`fetch_market_data` is the first link of the daily chain `fetch_market_data → score_forecasts →
predict_next_day`, built from immutable signatures (`.si()`), so it takes keyword arguments only.
"""

import logging

from celery import chain, shared_task

from forecasts.exceptions import MarketDataUnavailable
from forecasts.services import prediction, scoring
from forecasts.services.prices import prices_fetch
from training.ml.results import as_date
from training.models import ModelVersion

logger = logging.getLogger(__name__)

# Seconds. Two small Yahoo requests take seconds; the soft limit leaves time to record the failure.
FETCH_SOFT_TIME_LIMIT = 240
FETCH_TIME_LIMIT = 300


@shared_task(
    bind=True,
    name="forecasts.fetch_market_data",
    autoretry_for=(MarketDataUnavailable,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=FETCH_SOFT_TIME_LIMIT,
    time_limit=FETCH_TIME_LIMIT,
)
def fetch_market_data(self, symbols: list[str] | None = None, since: str | None = None) -> dict[str, dict]:
    """Fetch new bars from Yahoo; `since` is an ISO date. Returns {"GC=F": {"inserted": 3, ...}, ...}.

    A rate limit or network failure (MarketDataUnavailable) is retried with exponential backoff, five times.
    """
    if self.request.retries:
        logger.info("fetch_market_data: retry %d of %d", self.request.retries, self.max_retries)
    loads = prices_fetch(symbols=symbols, since=as_date(since) if since else None)
    return {
        load.symbol: {
            "inserted": load.rows_inserted,
            "updated": load.rows_updated,
            "unchanged": load.rows_unchanged,
            "skipped": load.rows_skipped,
            "first_date": load.first_date.isoformat() if load.first_date else None,
            "last_date": load.last_date.isoformat() if load.last_date else None,
            "data_load_id": load.pk,
        }
        for load in loads
    }


# --- Scoring and forecasting, and the daily chain ---------------------------------------------------------


@shared_task(name="forecasts.score_forecasts", soft_time_limit=120, time_limit=180)
def score_forecasts() -> int:
    """Score every forecast whose target day now has a gold close. Idempotent; returns how many changed."""
    return scoring.forecasts_score()


@shared_task(name="forecasts.predict_next_day", soft_time_limit=300, time_limit=360)
def predict_next_day() -> list[int]:
    """Store the champion's and the naive forecast of the next trading day. Idempotent; returns their ids."""
    return [forecast.pk for forecast in prediction.forecast_next_day()]


@shared_task(name="forecasts.forecast_next_day_values", soft_time_limit=120, time_limit=180)
def forecast_next_day_values(model_version_id: int) -> list[dict]:
    """The next-day forecasts a promotion of the version needs, computed here (the worker has the models) and
    returned, not stored: the promotion stores them in the transaction that makes the version champion."""
    return prediction.forecast_next_day_values(model_version=ModelVersion.objects.get(pk=model_version_id))


@shared_task(name="forecasts.run_daily_pipeline", soft_time_limit=30, time_limit=60)
def run_daily_pipeline() -> str:
    """Beat's weekday job: dispatch fetch → score → predict as a chain (each link idempotent); returns its id."""
    result = chain(fetch_market_data.si(), score_forecasts.si(), predict_next_day.si()).apply_async()
    return result.id
