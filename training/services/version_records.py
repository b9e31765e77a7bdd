"""The ModelVersion rows that mirror registered MLflow versions (so pages never ask MLflow), and the signal that
hands a new version's walk-forward and CV forecasts to the forecasts app."""

from django.db import transaction

from training.models import ModelVersion, TrainingRun
from training.signals import model_version_registered


def training_candidate_record(*, result, run: TrainingRun | None) -> ModelVersion:
    """Mirror a registered candidate and announce it with its walk-forward and CV forecasts (the forecasts app
    stores them), in one transaction."""
    with transaction.atomic():
        version = model_version_record(result=result, run=run)
        model_version_registered.send(
            sender=ModelVersion, model_version=version, backtest=result.backtest, cv_forecasts=result.cv_forecasts
        )
    return version


def model_version_record(*, result, run: TrainingRun | None = None) -> ModelVersion:
    """Mirror one registered MLflow version (a `training.ml` CandidateResult) as a ModelVersion row, with the
    library versions and code commit its MLflow version tags carry (so pages never ask MLflow)."""
    from training.ml.tracking import code_commit, library_versions

    version, _ = ModelVersion.objects.update_or_create(
        registered_name=result.registered_name,
        version=result.version,
        defaults={
            "run_id": result.run_id,
            "architecture": result.kind,
            "hyperparameters": result.hyperparameters,
            "cv_metrics": result.cv_metrics,
            "test_metrics": result.test_metrics,
            "feature_config": result.feature_config,
            "protocol": result.protocol,
            "refit_epochs": result.refit_epochs,
            "intervals": result.intervals,
            "data_start": result.data_start,
            "data_end": result.data_end,
            "selection_start": result.selection_start,
            "test_start": result.test_start,
            "fitted_through": result.fitted_through,
            "provenance": {"library_versions": library_versions(), "code_commit": code_commit()},
            "training_run": run,
        },
    )
    return version
