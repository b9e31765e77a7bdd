"""A candidate's MLflow side: its run (a child of the training run's), a nested run per trial, its registered
version and the tags that describe it. MLflow is imported inside the calls, so importing this is cheap."""

import logging
import time
from collections.abc import Callable
from typing import Any, NotRequired, TypedDict

from training.ml.dataset import Protocol, Samples, Windows
from training.ml.features import feature_names

logger = logging.getLogger("training.ml.pipeline")  # progress lines keep the name the train command listens to


class MlflowStore(TypedDict):
    """Where a candidate's runs and registered versions go: the keywords every candidate step takes (what
    `training.services.mlflow_settings.mlflow_tracking_kwargs` gives)."""

    tracking_uri: str
    experiment: str
    artifact_root: NotRequired[str | None]  # a local store's artifact folder


def stepper(on_step: Callable[[str], None] | None) -> Callable[[str], None]:
    """A progress callback that logs each step and passes it on."""

    def step(message: str) -> None:
        logger.info(message)
        if on_step is not None:
            on_step(message)

    return step


class CandidateTracker:
    """The MLflow side of one candidate: its run, its trial runs, its registered version; timed.

    Opened once (`run_id=None`: a new candidate run), then resumed by id by whichever worker records a round or
    completes the candidate."""

    def __init__(
        self, *, tracking_uri, experiment, artifact_root=None, parent_run_id=None, run_name="", tags, run_id=None
    ):
        from training.ml import tracking

        self.tracking = tracking
        self.tracking_uri = tracking_uri
        self.seconds = 0.0
        started = time.perf_counter()
        self.experiment_id = tracking.configure_tracking(tracking_uri, experiment, artifact_root)
        self.tags = tags
        self.run_id = run_id or tracking.create_run(
            tracking_uri=tracking_uri,
            experiment_id=self.experiment_id,
            run_name=run_name,
            parent_run_id=parent_run_id,
            tags=tags,
        )
        self.seconds += time.perf_counter() - started

    def log_trial(self, kind: str, number: int, hyperparameters: dict[str, Any], metrics: dict[str, Any]) -> None:
        started = time.perf_counter()
        trial_run = self.tracking.create_run(
            tracking_uri=self.tracking_uri,
            experiment_id=self.experiment_id,
            run_name=f"{kind}-trial-{number:02d}",
            parent_run_id=self.run_id,
            tags={"kind": kind, "trial": number},
        )
        self.tracking.log_run_data(
            trial_run,
            tracking_uri=self.tracking_uri,
            params=hyperparameters,
            metrics={
                "cv_mae": metrics["mae"],
                "cv_rmae": metrics["rmae"],
                **{f"cv_fold{f['fold']}_mae": f["mae"] for f in metrics["folds"]},
                **{f"cv_fold{f['fold']}_rmae": f["rmae"] for f in metrics["folds"]},
                **{f"cv_fold{f['fold']}_best_epoch": f["best_epoch"] for f in metrics["folds"]},
            },
        )
        self.tracking.finish_run(trial_run, tracking_uri=self.tracking_uri)
        self.seconds += time.perf_counter() - started

    def register(self, forecaster, *, params, metrics, registered_name, input_example) -> tuple[int, str]:
        from training.ml import registry

        started = time.perf_counter()
        self.tracking.log_run_data(self.run_id, tracking_uri=self.tracking_uri, params=params, metrics=metrics)
        version, uri = registry.log_forecaster(
            forecaster,
            tracking_uri=self.tracking_uri,
            run_id=self.run_id,
            registered_name=registered_name,
            version_tags=self.tags,
            input_example=input_example,
        )
        self.tracking.finish_run(self.run_id, tracking_uri=self.tracking_uri)
        self.seconds += time.perf_counter() - started
        return version, uri

    def fail(self) -> None:
        self.tracking.finish_run(self.run_id, "FAILED", tracking_uri=self.tracking_uri)


def description_tags(samples: Samples, windows: Windows, kind: str, protocol: Protocol) -> dict[str, Any]:
    from training.ml import tracking

    return {
        "kind": kind,
        "architecture": kind,
        "data_start": samples.data_start.isoformat(),
        "data_end": samples.data_end.isoformat(),
        "fitted_through": samples.target_date(samples.n_targets - 1).isoformat(),
        "selection_start": samples.target_date(windows.selection_start).isoformat(),
        "test_start": samples.target_date(windows.test_start).isoformat(),
        "features": ",".join(feature_names(samples.feature_config)),
        **{f"protocol_{key}": value for key, value in protocol.to_dict().items()},
        **tracking.library_versions(),
        "code_commit": tracking.code_commit(),
    }


def flat_metrics(prefix: str, metrics: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{key}": value for key, value in metrics.items() if isinstance(value, int | float)}
