"""Mirroring a registered MLflow version as a ModelVersion row keeps what made it (its MLflow version tags): the
library versions and the code commit, so the version page never has to ask MLflow."""

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.factories import TrainingRunFactory, rolling_origin_cv, walk_forward_test
from training.ml.tracking import library_versions
from training.services.runs import model_version_record

pytestmark = pytest.mark.django_db


def candidate_result(**overrides) -> SimpleNamespace:
    """The fields of a training.ml CandidateResult that model_version_record reads."""
    return SimpleNamespace(
        **{
            "registered_name": "gold-next-day",
            "version": 7,
            "run_id": "f" * 32,
            "kind": "lstm",
            "hyperparameters": {"units": 32},
            "cv_metrics": rolling_origin_cv(rmaes=[0.99] * 5, p_value=0.2),
            "test_metrics": walk_forward_test(rmae=1.0),
            "feature_config": {"lags": 5, "ma_window": 5, "vol_windows": [5, 20]},
            "protocol": {"test_days": 250, "selection_days": 500, "folds": 5, "retrain_every": 21, "lookback": 20},
            "refit_epochs": 12,
            "data_start": dt.date(2020, 10, 1),
            "data_end": dt.date(2025, 9, 24),
            "selection_start": dt.date(2022, 9, 1),
            "test_start": dt.date(2024, 9, 25),
            "fitted_through": dt.date(2025, 9, 24),
            "intervals": {"volatility": "ewma", "volatility_label": "EWMA", "gamma": 0.005},
            **overrides,
        }
    )


def test_the_row_records_library_versions_and_the_code_commit(monkeypatch):
    monkeypatch.setenv("GOLDSITE_COMMIT", "abc1234")
    run = TrainingRunFactory()

    version = model_version_record(result=candidate_result(), run=run)

    version.refresh_from_db()
    assert version.provenance == {"library_versions": library_versions(), "code_commit": "abc1234"}
    assert set(version.provenance["library_versions"]) >= {"tensorflow", "keras", "mlflow", "numpy", "pandas"}
    assert version.training_run == run and version.architecture == "lstm"
