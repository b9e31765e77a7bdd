"""Moving the champion: the database and MLflow's `champion` alias change together or not at all.

Promotions are serialised. On PostgreSQL a transaction-level advisory lock queues them (and the rows are locked
for update); on SQLite the promotion takes the database's write lock before it reads anything, so a concurrent
one waits for the lock (up to the database timeout) instead of failing at once with "database is locked". One
that still cannot get the database is retried briefly, then refused with PromotionInProgress (409); nothing
was changed. Promoting the version that is already the champion is refused with AlreadyChampion (409).

The new champion's forecast of the next trading day commits with it, so no reader ever sees a champion without
one (`/api/forecasts/latest/` never goes dark): it is computed before the promotion takes any lock
(`champion_forecasts.prepare`: in-process without a broker or on a worker, else by a worker, waited for briefly)
and stored in the promotion's transaction (`champion_forecasts.store`). When it cannot be computed in time (no
worker), the promotion still happens, and once it commits `predict_next_day` is requested as a fallback
(`champion_forecasts.request`). `champion_forecasts` is what `settings.TRAINING_CHAMPION_FORECASTS` names
(forecasts.dispatch.ChampionForecasts) unless the caller passes one: training never imports forecasts.
"""

import logging
import time
from typing import Protocol

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils.module_loading import import_string

from goldsite.audit import audit_log
from training.exceptions import AlreadyChampion, PromotionInProgress, RegistryUnavailable
from training.models import ChampionChange, ModelVersion

logger = logging.getLogger(__name__)

CHAMPION_ALIAS = "champion"
PROMOTION_ATTEMPTS = 3
PROMOTION_RETRY_SECONDS = 0.25  # times the attempt number
# The key of PostgreSQL's advisory lock for promotions: a constant no other code of this database uses.
PROMOTION_LOCK_KEY = 4_711_520_251


class ChampionForecasts(Protocol):
    """The new champion's next-day forecast: computed before the promotion, stored with it, requested after it."""

    def prepare(self, *, model_version: ModelVersion) -> list[dict]: ...

    def store(self, *, values: list[dict]) -> None: ...

    def request(self) -> None: ...


def model_version_promote(
    *,
    model_version: ModelVersion,
    user=None,
    automatic: bool = False,
    reason: str = "",
    champion_forecasts: ChampionForecasts | None = None,
) -> ChampionChange:
    """Make `model_version` the champion, in the database and in the MLflow registry.

    The MLflow alias moves last, inside the database transaction: if MLflow fails, the transaction rolls
    back, so the database still names the previous champion and the error says why.
    """
    if champion_forecasts is None:
        champion_forecasts = import_string(settings.TRAINING_CHAMPION_FORECASTS)()
    forecasts = []
    if not ModelVersion.objects.filter(pk=model_version.pk, is_champion=True).exists():  # else AlreadyChampion
        forecasts = champion_forecasts.prepare(model_version=model_version)  # may take seconds: before any lock
    for attempt in range(1, PROMOTION_ATTEMPTS + 1):
        try:
            change, previous = _promote(
                model_version=model_version,
                user=user,
                automatic=automatic,
                reason=reason,
                forecasts=forecasts,
                champion_forecasts=champion_forecasts,
            )
            break
        except OperationalError as exc:
            if not _database_locked(exc):
                raise
            # Retrying inside a caller's transaction cannot help: it keeps the locks it already holds.
            if attempt == PROMOTION_ATTEMPTS or transaction.get_connection().in_atomic_block:
                raise _in_progress(model_version) from exc
            logger.info("Promoting %s: the database is locked (attempt %d); retrying", model_version, attempt)
            time.sleep(PROMOTION_RETRY_SECONDS * attempt)
    logger.info("Champion is now %s (was %s)", change.to_version, previous)
    audit_log(
        "model_version.promote",
        actor=change.actor,
        model_version=str(change.to_version),
        previous=str(previous),
        reason=reason,
    )
    model_version.refresh_from_db()
    return change


def _promote(
    *,
    model_version: ModelVersion,
    user,
    automatic: bool,
    reason: str,
    forecasts: list[dict],
    champion_forecasts: ChampionForecasts,
) -> tuple[ChampionChange, ModelVersion | None]:
    import training.ml.registry  # noqa: F401 - MLflow is imported only on this path, and before the lock

    moved = None  # (the new champion, the previous one) once MLflow's alias has moved
    try:
        with transaction.atomic():
            _promotions_lock()
            locked = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
            current = ModelVersion.objects.select_for_update().filter(is_champion=True).first()
            if current is not None and current.pk == locked.pk:
                raise AlreadyChampion(f"{locked} is already the champion.")
            ModelVersion.objects.filter(is_champion=True).update(is_champion=False)
            ModelVersion.objects.filter(pk=locked.pk).update(is_champion=True)
            change = ChampionChange.objects.create(
                from_version=current,
                to_version=locked,
                changed_by=user if user is not None and user.is_authenticated else None,
                automatic=automatic,
                reason=reason[:500],
            )
            champion_forecasts.store(values=forecasts)  # the new champion's next-day forecast commits with it
            try:
                _champion_alias_move(locked)
            except Exception as exc:  # MLflow raises many types (HTTP, connection, registry errors)
                raise RegistryUnavailable(
                    f"MLflow could not move the '{CHAMPION_ALIAS}' alias to {locked}: {exc}. "
                    "Nothing was changed; the champion is still "
                    f"{current if current is not None else 'unset'}."
                ) from exc
            moved = (locked, current)
            # Once committed: whatever forecast is still missing (none could be computed in time), and the cache.
            transaction.on_commit(champion_forecasts.request)
    except OperationalError:
        if moved is not None:  # the commit itself failed after MLflow moved: point the alias back
            _alias_restore(*moved)
        raise
    return change, current


def _promotions_lock() -> None:
    """Queue this promotion behind any other until the end of the transaction."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PROMOTION_LOCK_KEY])
    elif connection.vendor == "sqlite":
        # A write as the transaction's first statement takes the write lock now, waiting up to the database
        # timeout. A transaction that reads first cannot wait for it later: SQLite refuses at once.
        ModelVersion.objects.filter(is_champion=True).update(is_champion=True)


def _database_locked(exc: OperationalError) -> bool:
    message = str(exc)
    return "database is locked" in message or "database table is locked" in message


def _in_progress(model_version: ModelVersion) -> PromotionInProgress:
    return PromotionInProgress(
        f"Another promotion is in progress, so {model_version} was not promoted and nothing was changed; "
        "try again in a moment."
    )


def _champion_alias_move(version: ModelVersion) -> None:
    """Point MLflow's champion alias at `version`."""
    from training.ml.registry import set_alias

    set_alias(
        tracking_uri=settings.MLFLOW_TRACKING_URI,
        name=version.registered_name,
        alias=CHAMPION_ALIAS,
        version=version.version,
    )


def _alias_restore(promoted: ModelVersion, previous: ModelVersion | None) -> None:
    if previous is None:
        logger.error(
            "MLflow's '%s' alias names %s but the database names no champion (its commit failed); promote again",
            CHAMPION_ALIAS,
            promoted,
        )
        return
    try:
        _champion_alias_move(previous)
    except Exception:  # MLflow raises many types; the error log says what to repair
        logger.exception(
            "MLflow's '%s' alias names %s, the database %s (its commit failed, moving the alias back too)",
            CHAMPION_ALIAS,
            promoted,
            previous,
        )
