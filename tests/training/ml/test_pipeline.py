"""The whole protocol into a throw-away MLflow store: independence of the test window for every candidate kind,
the reuse path and the champion rule; the served refit; the registry round trip."""

import numpy as np
import pandas as pd
import pytest

from tests.training.ml.series import random_walk_closes
from training.ml.dataset import Protocol
from training.ml.kinds import KINDS
from training.ml.pipeline import CandidateResult, ensemble_candidate, evaluate_candidate, steps_for
from training.ml.selection import select_champion

SMALL = Protocol(test_days=60, selection_days=100, folds=4, retrain_every=30, lookback=5)
NETWORK_LIMITS = {"max_epochs": 3, "patience": 2}
TEST_DAYS = SMALL.test_days


def evaluate_all(closes, store, name, *, reuse=None, trials=2):
    """Every candidate kind (the ensemble of the three networks included) and the champion decision."""
    results = []
    for kind in ("naive", "drift", "mlp", "cnn", "lstm"):
        results.append(
            evaluate_candidate(
                closes,
                kind=kind,
                trials=trials,
                hyperparameters=None if reuse is None else reuse[kind],
                protocol=SMALL,
                registered_name=name,
                **NETWORK_LIMITS,
                **store,
            )
        )
    results.append(ensemble_candidate(closes, members=results[2:], registered_name=name, **store))
    return results, select_champion(results, max_p=0.5)


def decisions(result: CandidateResult) -> dict:
    """Everything a selection decision, a hyperparameter or a band may depend on."""
    return {
        "kind": result.kind,
        "hyperparameters": result.hyperparameters,
        "cv_metrics": {key: value for key, value in result.cv_metrics.items() if key != "fit_seconds"},
        "cv": result.cv,
        "refit_epochs": result.refit_epochs,
        "bands": {key: value for key, value in result.intervals.items() if key != "alpha0"},
        "windows": (result.selection_start, result.test_start),
    }


@pytest.mark.slow
def test_changing_every_test_window_price_moves_no_decision_of_any_kind(mlflow_store):
    closes = random_walk_closes(420, seed=3)
    changed = closes.copy()
    changed.iloc[-TEST_DAYS:] *= np.random.default_rng(9).uniform(0.9, 1.1, size=(TEST_DAYS, 2))

    tuned, decision = evaluate_all(closes, mlflow_store, "independence")
    tuned_changed, decision_changed = evaluate_all(changed, mlflow_store, "independence")
    reuse = {r.kind: r.hyperparameters for r in tuned}
    refit, refit_decision = evaluate_all(closes, mlflow_store, "independence", reuse=reuse)
    refit_changed, refit_decision_changed = evaluate_all(changed, mlflow_store, "independence", reuse=reuse)

    assert [r.kind for r in tuned] == list(KINDS)
    for a, b in zip(tuned + refit, tuned_changed + refit_changed, strict=True):
        assert decisions(a) == decisions(b), a.kind
        assert a.test_metrics["mae"] != b.test_metrics["mae"]  # the walk-forward did read the test window
        assert a.fitted_through == b.fitted_through == closes.index[-1].date()
    for a, b in ((decision, decision_changed), (refit_decision, refit_decision_changed)):
        assert (a.champion.kind, a.best.kind, a.reason) == (b.champion.kind, b.best.kind, b.reason)
    # The reuse path kept the tuned hyperparameters and searched nothing.
    assert [r.hyperparameters for r in refit] == [r.hyperparameters for r in tuned]
    assert all(r.trials == 0 for r in refit)


@pytest.mark.slow
def test_the_served_refit_learns_from_the_last_day_and_the_walk_forward_refits_at_the_cadence(mlflow_store):
    from mlflow.tracking import MlflowClient

    closes = random_walk_closes(420, seed=4)
    result = evaluate_candidate(
        closes, kind="mlp", trials=2, protocol=SMALL, registered_name="served", **NETWORK_LIMITS, **mlflow_store
    )
    assert result.fitted_through == closes.index[-1].date()
    assert result.refit_epochs == round(np.median(result.cv_metrics["best_epochs"]))
    assert len(result.cv_metrics["folds"]) == 4 and result.cv_metrics["n"] == 100
    assert result.test_metrics["refits"] == 2 and result.test_metrics["n"] == TEST_DAYS
    assert [row["target_date"] for row in result.backtest] == [d.date().isoformat() for d in closes.index[-TEST_DAYS:]]
    assert set(result.stage_seconds) == {"cv", "refit", "walk_forward", "bands", "mlflow"}

    client = MlflowClient(mlflow_store["tracking_uri"])
    tags = client.get_model_version("served", str(result.version)).tags
    assert tags["fitted_through"] == closes.index[-1].date().isoformat()
    assert tags["protocol_retrain_every"] == "30"
    run = client.get_run(result.run_id)
    assert run.data.metrics["cv_rmae"] == pytest.approx(result.cv_metrics["rmae"])
    assert run.data.metrics["cv_p_value"] == pytest.approx(result.cv_metrics["p_value"])
    assert run.data.metrics["test_rmae"] == pytest.approx(result.test_metrics["rmae"])
    trials = client.search_runs([run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'")
    assert len(trials) == 2
    assert all({"cv_mae", "cv_fold1_mae", "cv_fold4_rmae"} <= set(t.data.metrics) for t in trials)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["naive", "drift", "lstm"])
def test_registry_round_trip(mlflow_store, kind):
    from mlflow.tracking import MlflowClient

    from tests.training.registry import alias_version
    from training.ml.registry import load_forecaster, set_alias
    from training.ml.tracking import finish_run, start_parent_run

    name = f"round-trip-{kind}"
    uri = mlflow_store["tracking_uri"]
    closes = random_walk_closes(420, seed=5)
    parent = start_parent_run(**mlflow_store, name="tune-run-1", tags={"goldsite.kind": "tune"})
    steps = []
    result = evaluate_candidate(
        closes,
        kind=kind,
        trials=1,
        protocol=SMALL,
        registered_name=name,
        parent_run_id=parent,
        on_step=steps.append,
        **NETWORK_LIMITS,
        **mlflow_store,
    )
    finish_run(parent, "FINISHED", tracking_uri=uri)
    assert len(steps) == steps_for(kind, 1)
    assert result.model_uri == f"models:/{name}/{result.version}"
    assert CandidateResult.from_dict(result.to_dict()) == result

    assert alias_version(name, "champion", tracking_uri=uri) is None
    set_alias(name, "champion", result.version, tracking_uri=uri)
    forecaster = load_forecaster(f"models:/{name}@champion", tracking_uri=uri)
    assert forecaster.kind == kind
    assert forecaster.volatility.kind == result.intervals["volatility"]
    assert forecaster.quantiles == result.intervals["quantiles"]
    assert forecaster.calibration.alpha0 == result.intervals["alpha0"]
    # The served model forecasts tomorrow from today's close; the walk-forward rows came from earlier refits.
    forecast = forecaster.forecast(closes)
    assert forecast.as_of_date == closes.index[-1].date()
    assert forecast.lower_95 <= forecast.lower_80 <= forecast.predicted_close <= forecast.upper_80 <= forecast.upper_95

    import mlflow.pyfunc

    predicted = mlflow.pyfunc.load_model(result.model_uri).predict(closes.reset_index())
    assert isinstance(predicted, pd.DataFrame) and len(predicted) == 1
    assert predicted.loc[0, "predicted_close"] == pytest.approx(forecast.predicted_close, rel=1e-7)

    client = MlflowClient(uri)
    tags = client.get_model_version(name, str(result.version)).tags
    assert (tags["kind"], tags["test_start"]) == (kind, result.test_start.isoformat())
    assert {"tensorflow", "keras", "mlflow", "numpy", "pandas", "scikit-learn", "code_commit"} <= set(tags)
    run = client.get_run(result.run_id)
    assert run.data.tags["mlflow.parentRunId"] == parent and run.info.status == "FINISHED"


def test_not_enough_history_fails_before_anything_is_logged(tmp_path):
    with pytest.raises(ValueError, match="Not enough history"):
        evaluate_candidate(
            random_walk_closes(200),
            kind="mlp",
            trials=1,
            tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
            experiment="x",
        )
    assert not (tmp_path / "mlflow.db").exists()


def test_unknown_kinds_are_rejected_and_the_ensemble_is_built_from_members():
    with pytest.raises(ValueError, match="unknown forecasting method"):
        evaluate_candidate(random_walk_closes(600), kind="gru", trials=1, tracking_uri="sqlite://", experiment="x")
    with pytest.raises(ValueError, match="ensemble_candidate"):
        evaluate_candidate(random_walk_closes(600), kind="ensemble", tracking_uri="sqlite://", experiment="x")
