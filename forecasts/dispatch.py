"""The one module that hands forecasts' work to Celery: services call these functions, never `forecasts.tasks`.

With a broker the work goes to a worker (which keeps the models loaded); without one (the embedded default,
CELERY_TASK_ALWAYS_EAGER) it runs here, in this process.
"""

import logging

from celery.result import AsyncResult
from django.conf import settings
from django.core.cache import cache

from forecasts import tasks
from goldsite.errors import GoldsiteError

logger = logging.getLogger(__name__)


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
            tasks.predict_next_day.delay_on_commit()
    finally:
        _forecast_latest_cache_clear()


def forecast_next_day_send() -> AsyncResult:
    """Send `predict_next_day` to a worker now; the caller may wait on the result."""
    return tasks.predict_next_day.delay()


def _forecast_next_day_here() -> None:
    from forecasts.services.prediction import forecast_next_day

    try:
        forecast_next_day()
    except GoldsiteError as exc:
        logger.warning("No next-day forecast for the new champion yet: %s", exc)
    except Exception:  # a model that does not load must not turn the promotion that asked into an error
        logger.exception("The next-day forecast for the new champion failed")


def _forecast_latest_cache_clear() -> None:
    from forecasts.apis import LATEST_CACHE_KEY  # the API caches its latest-forecast answer under this key

    cache.delete(LATEST_CACHE_KEY)
