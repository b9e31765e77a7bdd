"""`GET /health/`: is this process able to serve, and is the service fit (data, champion)?

Public (no sign-in), never throttled or cached: a plain Django view, not DRF. The answer keeps the old
service's keys (`status`, `model_loaded`, `scaler_loaded`, `feature_cols_loaded`) and adds the checks::

    {"status": "ok" | "degraded", "model_loaded": true, "scaler_loaded": true, "feature_cols_loaded": true,
     "database": "ok" | "error: ...", "broker": "ok" | "eager" | "error: ...",
     "newest_gold_date": "2025-09-25" | null, "stale": false, "staleness_days": 0 | null,
     "data_age_days": 0 | null, "champion": "gold-next-day v3 (mlp)" | null,
     "missing_bars": {"as_of_date": "2025-09-24", "date": "2025-09-25", "symbols": ["^GSPC"],
                      "message": "S&P 500 close for 2025-09-25 not stored yet"} | null}

`stale` is the API's rule for forecasts (forecasts.selectors.forecasts.data_age) applied to the newest gold bar:
more than FORECAST_STALE_AFTER_DAYS trading days behind the last completed session, or no bar at all.
`data_age_days` counts those trading days; `staleness_days` the calendar days. `missing_bars` names the bars a
live forecast of the next day waits for (forecasts.selectors.live_record.live_forecast_missing_bars, as on the
dashboard and in the API): while gold's close of the day after the last common day is stored and the S&P 500's
is not, a forecast made now would be late, so the service is degraded.

HTTP status: 503 only when something this process depends on is down (the database, or the broker when one
is configured), so an orchestrator restarts or routes around it. Missing or stale data and a missing champion
are the service's state, not the process's: they answer 200 with `status: "degraded"`, so a fresh install
(before the first fetch and training) is still healthy and reachable.

`model_loaded`, `scaler_loaded` and `feature_cols_loaded` are true when a champion row exists. The web process
never loads the model (the worker does, on its first forecast), and asking MLflow would import it here; the
forecaster bundle holds network, scaler and feature list together, so the three flags move together.
"""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    database = _database_check()
    broker = _broker_check()
    report = {
        "status": "ok",
        "model_loaded": False,
        "scaler_loaded": False,
        "feature_cols_loaded": False,
        "database": database,
        "broker": broker,
        "newest_gold_date": None,
        "stale": True,
        "staleness_days": None,
        "data_age_days": None,
        "champion": None,
        "missing_bars": None,
    }
    if database == "ok":
        try:
            report.update(_service_state())
        except Exception:  # report what is known rather than fail the health check itself
            logger.exception("Health: could not read the data and champion state")
    healthy = database == "ok" and broker in ("ok", "eager")
    fit = healthy and report["model_loaded"] and not report["stale"] and report["missing_bars"] is None
    report["status"] = "ok" if fit else "degraded"
    return JsonResponse(report, status=200 if healthy else 503)


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message says which
        logger.warning("Health: database check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _broker_check() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    from goldsite.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # kombu raises many transport-specific errors
        logger.warning("Health: broker check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _service_state() -> dict:
    from forecasts.selectors.forecasts import data_age
    from forecasts.selectors.live_record import live_forecast_missing_bars
    from forecasts.selectors.prices import data_freshness
    from training.selectors import model_version_champion

    champion = model_version_champion()
    freshness = data_freshness()
    age = data_age(as_of_date=freshness.newest_gold_date)
    missing = live_forecast_missing_bars()
    return {
        "model_loaded": champion is not None,
        "scaler_loaded": champion is not None,
        "feature_cols_loaded": champion is not None,
        "newest_gold_date": freshness.newest_gold_date.isoformat() if freshness.newest_gold_date else None,
        "stale": age.stale,
        "staleness_days": freshness.staleness_days,
        "data_age_days": age.days,
        "champion": str(champion) if champion is not None else None,
        "missing_bars": missing.to_dict() if missing is not None else None,
    }
