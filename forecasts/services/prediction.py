"""Next-day forecasts: the champion's and the naive baseline's forecast of the next trading day's gold close.

Each is stored as `live`, or as `late` when the target day's gold close is already stored (the rule is
`forecasts.selectors.live_record.forecast_is_late`): with gold a day ahead of the S&P 500, the step forecasts
a day whose close it could already read, and such a forecast is kept and charted but never counted as live.

The forecasters are loaded once per process, by the function settings.FORECASTS_FORECASTER_LOADER names
(`forecaster_registry_load`: from the MLflow registry), and kept by (registered name, version): the champion and
its naive baseline stay cached; a version that is neither any more (the champion changed) is dropped.
`training.ml.registry` (and with it MLflow and TensorFlow) is imported only when a forecaster is loaded, so the
web process never imports them unless it has to compute a forecast inline (no broker).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

from forecasts.calendar import next_trading_day
from forecasts.exceptions import NO_CHAMPION, ForecastError, ForecastNotReady, ForecastUnusable
from forecasts.models import Forecast
from forecasts.selectors.live_record import forecast_kind_on_storing
from forecasts.selectors.prices import price_closes_frame
from forecasts.services.bands import band_alpha
from forecasts.services.forecast_checks import FORECAST_VALUE_FIELDS, forecast_values_problem
from training.ml.results import as_date
from training.models import ModelVersion
from training.selectors import model_version_champion, model_version_naive_baseline

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

# How long POST /api/predict/ waits for a worker to compute a missing forecast (seconds); a
# PREDICT_WAIT_SECONDS setting overrides it.
PREDICT_WAIT_SECONDS = 30

_forecasters: dict[tuple[str, int], object] = {}
_forecasters_lock = threading.Lock()


def forecaster_registry_load(model_uri: str):
    """The default FORECASTS_FORECASTER_LOADER: the MLflow registry (the app's one import of training.ml.registry)."""
    from training.ml.registry import load_forecaster

    return load_forecaster(model_uri, tracking_uri=settings.MLFLOW_TRACKING_URI)


def forecaster_get(*, model_version: ModelVersion, keep: set[tuple[str, int]] | None = None):
    """The model version's forecaster, loaded on first use and cached for the life of the process.

    `keep` names the versions worth caching (default: just this one); any other cached version is dropped.
    """
    key = (model_version.registered_name, model_version.version)
    keep = {key} if keep is None else keep | {key}
    with _forecasters_lock:
        for stale in set(_forecasters) - keep:
            logger.info("Dropping forecaster %s v%s from the cache", *stale)
            del _forecasters[stale]
        forecaster = _forecasters.get(key)
        if forecaster is None:
            logger.info("Loading forecaster %s", model_version.model_uri)
            forecaster = import_string(settings.FORECASTS_FORECASTER_LOADER)(model_version.model_uri)
            _forecasters[key] = forecaster
    return forecaster


def forecaster_cache_keys() -> set[tuple[str, int]]:
    """The (registered name, version) of every forecaster cached in this process."""
    with _forecasters_lock:
        return set(_forecasters)


def forecasters_clear() -> None:
    """Forget every cached forecaster (tests; a worker otherwise keeps them until the champion changes)."""
    with _forecasters_lock:
        _forecasters.clear()


def forecast_versions(*, champion: ModelVersion | None = None) -> list[ModelVersion]:
    """The versions a prediction run forecasts with: the champion (or `champion`, a version about to become it),
    then its naive baseline (once, if different).

    Raises ForecastNotReady when there is no champion.
    """
    champion = champion or model_version_champion()
    if champion is None:
        raise ForecastNotReady(NO_CHAMPION)
    if champion.architecture == ModelVersion.Architecture.NAIVE:
        return [champion]
    naive = model_version_naive_baseline(champion=champion)
    if naive is None:
        logger.warning("No naive model version exists; storing the champion's forecast alone.")
        return [champion]
    return [champion, naive]


def forecast_target(*, closes: pd.DataFrame) -> tuple[dt.date, dt.date]:
    """(as-of date, target date): the last day with both closes, and the trading day after it."""
    if closes.empty:
        raise ForecastNotReady("There are no days with both a gold and an S&P 500 close; import or fetch prices first.")
    as_of = closes.index[-1].date()
    return as_of, next_trading_day(as_of)


def _stored_next_day(*, model_version: ModelVersion, target: dt.date) -> Forecast | None:
    """The version's next-day forecast of `target` (live or late) if one is stored."""
    return (
        Forecast.objects.next_day()
        .filter(model_version=model_version, target_date=target)
        .select_related("model_version")
        .order_by("created_at")
        .first()
    )


def forecast_next_day() -> list[Forecast]:
    """Store the forecasts of the next trading day's gold close: the champion's, then the naive one's.

    The target day is the trading day after the last day both closes are stored (a Friday forecasts Monday;
    market holidays are skipped). A forecast is stored `live`, or `late` when the target day's gold close is
    already stored. Idempotent: a forecast already stored for a version and day (live or late) is returned as
    it is, not recomputed. Raises ForecastNotReady, saying what to do, when there is no champion, no prices
    or too short a history for a model.
    """
    versions = forecast_versions()
    closes = price_closes_frame()
    as_of, target = forecast_target(closes=closes)
    keep = {(v.registered_name, v.version) for v in versions}
    forecasts = []
    for version in versions:
        existing = _stored_next_day(model_version=version, target=target)
        if existing is not None:
            forecasts.append(existing)
            continue
        forecasts.append(_forecast_store(version=version, closes=closes, target=target, keep=keep))
    logger.info(
        "Forecasts for %s (as of %s): %s",
        target,
        as_of,
        ", ".join(f"{f.model_version} {f.predicted_close:.2f} ({f.kind})" for f in forecasts),
    )
    return forecasts


def forecast_next_day_missing(*, model_version: ModelVersion) -> list[ModelVersion]:
    """`model_version` and its naive baseline, those of them without a live forecast of the next trading day.

    Raises ForecastNotReady when there are no prices to forecast from.
    """
    versions = forecast_versions(champion=model_version)
    _, target = forecast_target(closes=price_closes_frame())
    stored = set(
        Forecast.objects.live()
        .filter(target_date=target, model_version__in=versions)
        .values_list("model_version_id", flat=True)
    )
    return [version for version in versions if version.pk not in stored]


def forecast_next_day_values(*, model_version: ModelVersion) -> list[dict]:
    """The live forecasts of the next trading day that promoting `model_version` calls for, computed, not stored:
    its own and its naive baseline's, leaving out any already stored. Plain JSON values (a worker returns them),
    for `forecast_values_store`, which the promotion calls in the transaction that makes the version champion.

    Raises ForecastError (ForecastNotReady, ForecastUnusable) when they cannot be made.
    """
    versions = forecast_versions(champion=model_version)
    closes = price_closes_frame()
    _, target = forecast_target(closes=closes)
    keep = {(v.registered_name, v.version) for v in versions}
    values = []
    for version in forecast_next_day_missing(model_version=model_version):
        point = _forecast_point(version=version, closes=closes, target=target, keep=keep)
        values.append(
            {
                **_point(point),
                "model_version": version.pk,
                "target_date": target.isoformat(),
                "as_of_date": point.as_of_date.isoformat(),
            }
        )
    return values


def forecast_values_store(*, values: list[dict]) -> list[Forecast]:
    """Store live forecasts computed by `forecast_next_day_values` (checked again: they may come from a worker); one
    already stored for its version and day is kept as it is. Raises ForecastUnusable before writing anything when
    a value cannot be stored."""
    rows = []
    for row in values:
        version = ModelVersion.objects.get(pk=row["model_version"])
        target = as_date(row["target_date"])
        problem = forecast_values_problem(row)
        if problem is not None:
            raise ForecastUnusable(f"{version} forecast {problem} for {target.isoformat()}; nothing was stored.")
        point = {field: float(row[field]) for field in FORECAST_VALUE_FIELDS}
        rows.append((version, target, {**point, "as_of_date": as_date(row["as_of_date"])}))
    return [_live_store(version=version, target=target, point=point) for version, target, point in rows]


def _forecast_store(
    *, version: ModelVersion, closes: pd.DataFrame, target: dt.date, keep: set[tuple[str, int]]
) -> Forecast:
    point = _forecast_point(version=version, closes=closes, target=target, keep=keep)
    return _live_store(version=version, target=target, point=_point(point))


def _forecast_point(*, version: ModelVersion, closes: pd.DataFrame, target: dt.date, keep: set[tuple[str, int]]):
    """The version's forecast from `closes`, checked storable; raises ForecastError when there is none."""
    forecaster = forecaster_get(model_version=version, keep=keep)
    if len(closes) < forecaster.min_history:
        raise ForecastNotReady(
            f"{version} needs {forecaster.min_history} days with both a gold and an S&P 500 close; "
            f"the database has {len(closes)}. Import more history first."
        )
    point = forecaster.forecast(closes, alpha=band_alpha(model_version=version))
    _check_usable(point, version=version, target=target)
    return point


def _point(point) -> dict:
    return {"as_of_date": point.as_of_date, **{field: float(getattr(point, field)) for field in FORECAST_VALUE_FIELDS}}


def _live_store(*, version: ModelVersion, target: dt.date, point: dict) -> Forecast:
    """Store a next-day forecast, live, or late when its target day's gold close is already stored."""
    kind = forecast_kind_on_storing(target_date=target)  # decided as late as possible, just before the insert
    # Race-safe: the unique (model_version, target_date, kind) constraint makes a concurrent second insert
    # fail, and get_or_create (which inserts inside a savepoint) then returns the row the other worker stored.
    # (Only a gold close stored between two workers' checks could give them different kinds; the first row
    # stored is the one `_stored_next_day` returns from then on.)
    forecast, created = Forecast.objects.get_or_create(
        model_version=version, target_date=target, kind=kind, defaults=point
    )
    if created and kind == Forecast.Kind.LATE:
        logger.warning(
            "Stored %s as late: the gold close of %s was already stored, so it does not count as live",
            forecast,
            target.isoformat(),
        )
    elif created:
        logger.info("Stored %s", forecast)
    return forecast


def _check_usable(point, *, version: ModelVersion, target: dt.date) -> None:
    """Raise ForecastUnusable unless the forecast can be stored (finite, prices above zero, bands nested)."""
    problem = forecast_values_problem({field: getattr(point, field) for field in FORECAST_VALUE_FIELDS})
    if problem is not None:
        raise ForecastUnusable(
            f"{version} forecast {problem} for {target.isoformat()}; nothing was stored. It read a last gold close "
            f"of {point.last_close!r} on {point.as_of_date.isoformat()}: check the stored prices, or promote "
            "another model."
        )


def forecast_next_day_ensure(*, wait_seconds: float | None = None) -> Forecast:
    """The champion's forecast for the next trading day (live or late): the stored one, or a new one made now.

    Without a broker the forecasts are made here; with one, the `predict_next_day` task makes them on a
    worker (which has the models loaded) and this waits up to `wait_seconds`. Raises ForecastNotReady when
    the worker does not answer in time or fails.
    """
    champion = forecast_versions()[0]
    as_of, target = forecast_target(closes=price_closes_frame())
    stored = _stored_next_day(model_version=champion, target=target)
    if stored is not None:
        return stored
    if settings.CELERY_TASK_ALWAYS_EAGER:
        forecast_next_day()
    else:
        if wait_seconds is None:
            wait_seconds = getattr(settings, "PREDICT_WAIT_SECONDS", PREDICT_WAIT_SECONDS)
        _predict_on_worker(wait_seconds=wait_seconds)
    stored = _stored_next_day(model_version=champion, target=target)
    if stored is None:  # the champion or the data changed meanwhile
        raise ForecastNotReady("The forecast was not stored (the champion or the data just changed); try again.")
    return stored


def _predict_on_worker(*, wait_seconds: float) -> None:
    from celery.exceptions import TimeoutError as CeleryTimeoutError

    from forecasts.dispatch import forecast_next_day_send

    result = forecast_next_day_send()
    try:
        result.get(timeout=wait_seconds, propagate=True, disable_sync_subtasks=False)
    except CeleryTimeoutError as exc:
        raise ForecastNotReady(
            f"No worker made the forecast within {wait_seconds:g} s; is a Celery worker running? Try again shortly."
        ) from exc
    except ForecastError:
        raise
    except Exception as exc:  # the worker's exception, rebuilt by Celery from its result
        raise ForecastNotReady(f"The worker could not make the forecast: {exc}") from exc
