"""MLflow tracking: experiments, parent and child runs, their params, metrics and tags.

Everything takes the tracking URI (and names) as arguments; MLflow is imported inside the functions, so
importing this module is cheap. Runs are created and closed through MlflowClient by id, never left active,
so these functions are safe to call repeatedly from one long-lived worker process.
"""

import logging
import math
import os
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PARENT_RUN_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
# Tag name -> distributions that may provide it (the first one installed wins).
LIBRARIES = {
    "tensorflow": ("tensorflow-cpu", "tensorflow"),
    "keras": ("keras",),
    "mlflow": ("mlflow", "mlflow-skinny"),
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "scikit-learn": ("scikit-learn",),
}


def _installed(distributions: tuple[str, ...]) -> tuple[str, str] | None:
    for distribution in distributions:
        try:
            return distribution, metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model version depends on, without importing them."""
    versions = {}
    for tag, distributions in LIBRARIES.items():
        found = _installed(distributions)
        versions[tag] = found[1] if found else "unknown"
    return versions


def pip_requirements() -> list[str]:
    """Pinned requirements for the logged model (given explicitly, so MLflow does not infer them slowly)."""
    return [f"{name}=={version}" for name, version in filter(None, map(_installed, LIBRARIES.values()))]


def code_commit() -> str:
    """GOLDSITE_COMMIT, else `git rev-parse HEAD` of this checkout when it works, else "unknown"."""
    commit = os.environ.get("GOLDSITE_COMMIT", "").strip()
    if commit:
        return commit
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return completed.stdout.strip() or "unknown"


def client(tracking_uri: str | None = None):
    """An MlflowClient for `tracking_uri` (the process's tracking URI when None); no global state changes."""
    import mlflow
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri or mlflow.get_tracking_uri())


def use_tracking_uri(tracking_uri: str | None) -> None:
    """Make `tracking_uri` the process's tracking URI: only MLflow's fluent calls (`mlflow.start_run`,
    `mlflow.pyfunc.load_model`) read it, so only their callers call this."""
    import mlflow

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)


def configure_tracking(tracking_uri: str, experiment: str, artifact_root: str | None = None) -> str:
    """Point MLflow at `tracking_uri` and return the id of `experiment`, creating it when missing.

    `artifact_root` is the artifact location of a new experiment (local SQLite store); None for a tracking
    server, which decides it.
    """
    from mlflow.exceptions import MlflowException

    mlflow_client = client(tracking_uri)
    found = mlflow_client.get_experiment_by_name(experiment)
    if found is None:
        try:
            return mlflow_client.create_experiment(experiment, artifact_location=artifact_root)
        except MlflowException:
            # Another worker created it in the meantime.
            found = mlflow_client.get_experiment_by_name(experiment)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        mlflow_client.restore_experiment(found.experiment_id)
    return found.experiment_id


def create_run(
    *,
    tracking_uri: str,
    experiment_id: str,
    run_name: str,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
) -> str:
    """A new RUNNING run (a child of `parent_run_id` when given); returns its id."""
    run_tags = {key: str(value) for key, value in (tags or {}).items()}
    if parent_run_id:
        run_tags[PARENT_RUN_TAG] = parent_run_id
    run = client(tracking_uri).create_run(experiment_id, tags=run_tags, run_name=run_name)
    return run.info.run_id


def start_parent_run(
    *,
    tracking_uri: str,
    experiment: str,
    artifact_root: str | None = None,
    name: str | None = None,
    tags: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    """One top-level run for a whole training run; pass its id to `train_candidate(parent_run_id=...)`."""
    experiment_id = configure_tracking(tracking_uri, experiment, artifact_root)
    run_id = create_run(tracking_uri=tracking_uri, experiment_id=experiment_id, run_name=name or "training", tags=tags)
    if params:
        log_run_data(run_id, tracking_uri=tracking_uri, params=params)
    return run_id


def log_run_data(
    run_id: str,
    *,
    tracking_uri: str | None = None,
    params: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
) -> None:
    """Params, metrics (None and non-finite values skipped) and tags in one batch."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.time import get_current_time_millis

    now = get_current_time_millis()
    client(tracking_uri).log_batch(
        run_id,
        params=[Param(key, str(value)) for key, value in (params or {}).items()],
        metrics=[
            Metric(key, float(value), now, 0)
            for key, value in (metrics or {}).items()
            if value is not None and math.isfinite(value)
        ],
        tags=[RunTag(key, str(value)) for key, value in (tags or {}).items()],
    )


def finish_run(run_id: str, status: str = "FINISHED", *, tracking_uri: str | None = None) -> None:
    """Close a run: status FINISHED, FAILED or KILLED."""
    client(tracking_uri).set_terminated(run_id, status=status)
