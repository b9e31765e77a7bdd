"""Moving the champion: the database and MLflow's `champion` alias change together or not at all."""

import logging

from django.conf import settings
from django.db import transaction

from goldsite.audit import audit_log
from training.exceptions import RegistryUnavailable, TrainingError
from training.models import ChampionChange, ModelVersion

logger = logging.getLogger(__name__)

CHAMPION_ALIAS = "champion"


def model_version_promote(
    *, model_version: ModelVersion, user=None, automatic: bool = False, reason: str = ""
) -> ChampionChange:
    """Make `model_version` the champion, in the database and in the MLflow registry.

    The MLflow alias moves last, inside the database transaction: if MLflow fails, the transaction rolls
    back, so the database still names the previous champion and the error says why.
    """
    from training.ml.registry import set_alias  # MLflow is imported only on this path

    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        current = ModelVersion.objects.select_for_update().filter(is_champion=True).first()
        if current is not None and current.pk == locked.pk:
            raise TrainingError(f"{locked} is already the champion.")
        ModelVersion.objects.filter(is_champion=True).update(is_champion=False)
        ModelVersion.objects.filter(pk=locked.pk).update(is_champion=True)
        change = ChampionChange.objects.create(
            from_version=current,
            to_version=locked,
            changed_by=user if user is not None and user.is_authenticated else None,
            automatic=automatic,
            reason=reason[:500],
        )
        try:
            set_alias(
                tracking_uri=settings.MLFLOW_TRACKING_URI,
                name=locked.registered_name,
                alias=CHAMPION_ALIAS,
                version=locked.version,
            )
        except Exception as exc:  # MLflow raises many types (HTTP, connection, registry errors)
            raise RegistryUnavailable(
                f"MLflow could not move the '{CHAMPION_ALIAS}' alias to {locked}: {exc}. "
                "Nothing was changed; the champion is still "
                f"{current if current is not None else 'unset'}."
            ) from exc
    logger.info("Champion is now %s (was %s)", locked, current)
    audit_log(
        "model_version.promote", actor=change.actor, model_version=str(locked), previous=str(current), reason=reason
    )
    model_version.refresh_from_db()
    return change
