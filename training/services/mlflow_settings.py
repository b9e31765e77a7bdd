"""The MLflow settings every training and serving code path passes to `training.ml`."""

from django.conf import settings


def mlflow_tracking_kwargs() -> dict:
    """Tracking URI, experiment and (for a local store only) the artifact folder, from settings."""
    uri = settings.MLFLOW_TRACKING_URI
    local = not uri.startswith(("http://", "https://", "databricks"))
    return {
        "tracking_uri": uri,
        "experiment": settings.MLFLOW_EXPERIMENT,
        "artifact_root": settings.MLFLOW_ARTIFACT_ROOT if local else None,
    }
