"""MLflow model registry: log and register a Forecaster, move aliases, load a version back.

MLflow (and, for a network, TensorFlow) is imported only inside these functions.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

from training.ml.tracking import client, pip_requirements, use_tracking_uri

MODEL_ARTIFACT_NAME = "model"
ENTRY_POINT = Path(__file__).resolve().parent / "pyfunc_entry.py"


def _quiet_artifact_downloads() -> None:
    """No tqdm bars in worker logs (an explicit MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR wins)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _signature():
    """Input: closes with a DatetimeIndex or a `date` column; output: one row of PointForecast fields."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    from training.ml.forecaster import PointForecast

    inputs = Schema([ColSpec("datetime", "date", required=False), ColSpec("double", "gold"), ColSpec("double", "spx")])
    outputs = Schema(
        [ColSpec("datetime" if name == "as_of_date" else "double", name) for name in PointForecast.__dataclass_fields__]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_forecaster(
    forecaster,
    *,
    input_example=None,
    tracking_uri: str,
    run_id: str,
    registered_name: str,
    version_tags: dict[str, Any],
) -> tuple[int, str]:
    """Log `forecaster` as the pyfunc model of run `run_id`, register it; returns (version, model URI)."""
    import mlflow

    from training.ml.bundle import FORECASTER_ARTIFACT

    _quiet_artifact_downloads()
    mlflow_client = client(tracking_uri)
    use_tracking_uri(tracking_uri)  # the fluent start_run / log_model below
    with tempfile.TemporaryDirectory(prefix="goldsite-model-") as tmp:
        bundle_dir = forecaster.save(Path(tmp) / FORECASTER_ARTIFACT)
        # Resume the candidate's run just for log_model (the fluent API needs an active run); the block ends it.
        with mlflow.start_run(run_id=run_id, nested=True):
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT_NAME,
                python_model=str(ENTRY_POINT),
                artifacts={FORECASTER_ARTIFACT: str(bundle_dir)},
                registered_model_name=registered_name,
                signature=_signature(),
                input_example=input_example,
                pip_requirements=pip_requirements(),
            )
    version = int(info.registered_model_version)
    for key, value in version_tags.items():
        mlflow_client.set_model_version_tag(registered_name, str(version), key, str(value))
    return version, f"models:/{registered_name}/{version}"


def set_alias(name: str, alias: str, version: int, *, tracking_uri: str | None = None) -> None:
    """Point `alias` (e.g. "champion") of registered model `name` at `version`."""
    client(tracking_uri).set_registered_model_alias(name, alias, str(version))


def load_forecaster(model_uri: str, *, tracking_uri: str | None = None):
    """The Forecaster of a registered version, e.g. `models:/gold-next-day@champion` or `models:/gold-next-day/3`."""
    import mlflow.pyfunc

    _quiet_artifact_downloads()
    use_tracking_uri(tracking_uri)  # the fluent load_model reads it
    return mlflow.pyfunc.load_model(model_uri).unwrap_python_model().forecaster
