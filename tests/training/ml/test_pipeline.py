"""The whole pipeline into a throw-away MLflow store: honesty of the test window, and the registry round trip."""

import numpy as np
import pandas as pd
import pytest

from tests.training.ml.series import random_walk_closes
from training.ml.pipeline import CandidateResult, select_champion, steps_for, train_candidate

SMALL = {"test_days": 80, "val_days": 60, "lookback": 10, "max_epochs": 3, "patience": 2}


def run_candidates(closes, store, name):
    results = [
        train_candidate(closes, architecture="naive", trials=0, registered_name=name, **SMALL, **store),
        train_candidate(closes, architecture="mlp", trials=2, registered_name=name, **SMALL, **store),
    ]
    return results


@pytest.mark.slow
def test_changing_the_test_window_changes_no_selection_decision(mlflow_store):
    closes = random_walk_closes(500, seed=3)
    changed = closes.copy()
    changed.iloc[-SMALL["test_days"] :] *= np.random.default_rng(9).uniform(0.9, 1.1, size=(SMALL["test_days"], 2))

    first = run_candidates(closes, mlflow_store, "independence")
    second = run_candidates(changed, mlflow_store, "independence")

    for a, b in zip(first, second, strict=True):
        assert a.hyperparameters == b.hyperparameters
        assert a.validation_metrics == b.validation_metrics
        assert a.conformal_quantiles == b.conformal_quantiles
        assert a.conformal_method == b.conformal_method == "normalized"
        assert (a.validation_start, a.test_start) == (b.validation_start, b.test_start)
        assert a.test_metrics["mae"] != b.test_metrics["mae"]
    assert select_champion(first).architecture == select_champion(second).architecture
    assert first[1].hyperparameters  # the search did choose something

    from mlflow.tracking import MlflowClient

    client = MlflowClient(mlflow_store["tracking_uri"])
    trial_runs = client.search_runs(
        [client.get_run(first[1].run_id).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{first[1].run_id}'",
    )
    assert len(trial_runs) == 2
    assert all("val_mae" in run.data.metrics for run in trial_runs)


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["naive", "lstm"])
def test_registry_round_trip(mlflow_store, architecture):
    from mlflow.tracking import MlflowClient

    from training.ml.registry import get_alias_version, load_forecaster, set_alias
    from training.ml.tracking import finish_run, start_parent_run

    name = f"round-trip-{architecture}"
    uri = mlflow_store["tracking_uri"]
    closes = random_walk_closes(450, seed=5)
    parent = start_parent_run(**mlflow_store, name="tune-run-1", tags={"goldsite.kind": "tune"})
    steps = []
    result = train_candidate(
        closes,
        architecture=architecture,
        trials=0,
        registered_name=name,
        parent_run_id=parent,
        on_step=steps.append,
        **SMALL,
        **mlflow_store,
    )
    finish_run(parent, "FINISHED", tracking_uri=uri)
    assert len(steps) == steps_for(architecture, 0)
    assert result.model_uri == f"models:/{name}/{result.version}"
    assert len(result.backtest) == SMALL["test_days"]
    assert result.backtest[-1]["target_date"] == closes.index[-1].date().isoformat()
    assert CandidateResult.from_dict(result.to_dict()) == result

    assert get_alias_version(name, "champion", tracking_uri=uri) is None
    set_alias(name, "champion", result.version, tracking_uri=uri)
    assert get_alias_version(name, "champion", tracking_uri=uri) == result.version

    forecaster = load_forecaster(f"models:/{name}@champion", tracking_uri=uri)
    assert forecaster.architecture == architecture
    assert (forecaster.conformal_method, forecaster.quantiles) == ("normalized", result.conformal_quantiles)
    for row in result.backtest[::20]:
        forecast = forecaster.forecast(closes.loc[: row["as_of_date"]])
        assert forecast.as_of_date.isoformat() == row["as_of_date"]
        assert forecast.predicted_return == pytest.approx(
            row["predicted_return"], abs=1e-8
        )  # float32 network: batch and single-row calls may differ in the last bits
        for field in ("predicted_close", "lower_80", "upper_80", "lower_95", "upper_95"):
            assert getattr(forecast, field) == pytest.approx(row[field], rel=1e-7)

    import mlflow.pyfunc

    predicted = mlflow.pyfunc.load_model(result.model_uri).predict(closes.reset_index())
    assert isinstance(predicted, pd.DataFrame) and len(predicted) == 1
    assert predicted.loc[0, "as_of_date"] == closes.index[-1].date()
    assert predicted.loc[0, "lower_95"] <= predicted.loc[0, "predicted_close"] <= predicted.loc[0, "upper_95"]

    client = MlflowClient(uri)
    tags = client.get_model_version(name, str(result.version)).tags
    assert tags["architecture"] == architecture
    assert tags["test_start"] == result.test_start.isoformat()
    assert tags["features"].split(",")[0] == "gold_ret_1"
    assert {"tensorflow", "keras", "mlflow", "numpy", "pandas", "scikit-learn", "code_commit"} <= set(tags)
    run = client.get_run(result.run_id)
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert run.info.status == "FINISHED"
    assert run.data.metrics["val_mae"] == pytest.approx(result.validation_metrics["mae"])
    assert run.data.metrics["test_rmae"] == pytest.approx(result.test_metrics["rmae"])
    assert run.data.params["conformal_method"] == "normalized"
    assert run.data.params["conformal_scale"] == "gold_vol_20"


def test_not_enough_history_fails_before_anything_is_logged(tmp_path):
    with pytest.raises(ValueError, match="Not enough history"):
        train_candidate(
            random_walk_closes(200),
            architecture="mlp",
            trials=1,
            tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
            experiment="x",
        )
    assert not (tmp_path / "mlflow.db").exists()


def test_unknown_architecture_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown architecture"):
        train_candidate(random_walk_closes(600), architecture="gru", trials=1, tracking_uri="sqlite://", experiment="x")
