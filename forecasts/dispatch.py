"""The one module that hands forecasts' work to Celery: services call these functions, never `forecasts.tasks`.

With a broker the work goes to a worker (which keeps the models loaded); without one (the embedded default,
CELERY_TASK_ALWAYS_EAGER) it runs here, in this process.

A promotion asks twice: `forecast_next_day_prepare` before it (the new champion's forecast, computed, stored by
the promotion's own transaction) and `forecast_next_day_request` once it committed (whatever is still missing).
It reaches them through `ChampionForecasts` (settings.TRAINING_CHAMPION_FORECASTS), so training never imports this
app.
"""

import logging

from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.result import AsyncResult
from django.conf import settings
from django.db import transaction

from forecasts import tasks
from forecasts.selectors.forecasts import forecast_latest_cache_clear
from goldsite.errors import GoldsiteError

logger = logging.getLogger(__name__)

# How long a promotion waits for a worker to compute the new champion's forecast (seconds). A free worker needs
# 1-3 s (a model's first load); a promotion is usually a web request, and the first one in a gunicorn worker also
# imports MLflow (up to ~10 s on a loaded machine), all well inside gunicorn's 30 s worker timeout.
PROMOTION_FORECAST_WAIT_SECONDS = 10


def forecast_next_day_prepare(*, model_version) -> list[dict]:
    """The next-day forecasts `model_version` needs before it becomes the champion (its own, its naive baseline's,
    leaving out any already stored), computed but not stored: the promotion stores them in the transaction that
    makes the version champion, so no reader ever sees a champion without its forecast.

    Computed here without a broker, or on a worker already (a training run's automatic promotion runs there);
    otherwise by the `forecast_next_day_values` task on a worker (which has the models loaded), waiting up to
    PROMOTION_FORECAST_WAIT_SECONDS. When they cannot be made (no worker in time, no prices, a model that does not
    load) the reason is logged and [] returned: the promotion goes ahead, and `forecast_next_day_request` after its
    commit asks again.
    """
    from forecasts.services.prediction import forecast_next_day_missing, forecast_next_day_values

    try:
        if settings.CELERY_TASK_ALWAYS_EAGER or _on_worker():
            return forecast_next_day_values(model_version=model_version)
        if not forecast_next_day_missing(model_version=model_version):
            return []  # stored already (it was the champion before): no worker needed
        result = forecast_next_day_values_send(model_version_id=model_version.pk)
        return result.get(timeout=PROMOTION_FORECAST_WAIT_SECONDS)
    except CeleryTimeoutError:
        logger.warning(
            "No worker computed the forecast of %s within %g s; promoting it without one: it follows once a worker "
            "takes the predict_next_day task",
            model_version,
            PROMOTION_FORECAST_WAIT_SECONDS,
        )
    except GoldsiteError as exc:
        logger.warning("No next-day forecast for %s before its promotion: %s", model_version, exc)
    except Exception:  # a model that does not load must not turn the promotion that asked into an error
        logger.exception("The next-day forecast for %s failed before its promotion", model_version)
    return []


def forecast_next_day_request() -> None:
    """The champion changed: have its (and the naive) forecast of the next trading day made now.

    With a broker, `predict_next_day` is sent once the current transaction commits (so the worker sees the new
    champion); without one the forecasts are made here. A forecast that cannot be made (no prices yet, a model
    that does not load) is logged: the change that asked for it stands. The cached latest-forecast answer is
    dropped either way, so the API does not serve the previous champion's forecast for its remaining seconds.
    """
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            _forecast_next_day_here()
        else:
            transaction.on_commit(lambda: forecast_next_day_send())  # what delay_on_commit does, through the sender
    finally:
        forecast_latest_cache_clear()


# The senders: the only calls of the tasks' `delay`, so a test without a broker replaces these functions.
def forecast_next_day_send() -> AsyncResult:
    """Send `predict_next_day` to a worker now; the caller may wait on the result."""
    return tasks.predict_next_day.delay()


def forecast_next_day_values_send(*, model_version_id: int) -> AsyncResult:
    """Send `forecast_next_day_values` for the version to a worker now; the result is the values it computed."""
    return tasks.forecast_next_day_values.delay(model_version_id)


class ChampionForecasts:
    """What a promotion (training.services.promotion) needs of this app: the new champion's next-day forecast.

    `prepare` computes it before the promotion takes any lock, `store` writes it inside the promotion's transaction,
    `request` (run once that transaction commits) has whatever is still missing made and drops the cached answer.
    """

    def prepare(self, *, model_version) -> list[dict]:
        return forecast_next_day_prepare(model_version=model_version)

    def store(self, *, values: list[dict]) -> None:
        from forecasts.services.prediction import forecast_values_store

        forecast_values_store(values=values)

    def request(self) -> None:
        forecast_next_day_request()


def _forecast_next_day_here() -> None:
    from forecasts.services.prediction import forecast_next_day

    try:
        forecast_next_day()
    except GoldsiteError as exc:
        logger.warning("No next-day forecast for the new champion yet: %s", exc)
    except Exception:  # a model that does not load must not turn the promotion that asked into an error
        logger.exception("The next-day forecast for the new champion failed")


def _on_worker() -> bool:
    """Is this code running inside a task on a Celery worker (not eagerly)?"""
    from celery import current_task

    request = current_task.request if current_task else None
    return request is not None and not request.is_eager and not request.called_directly
