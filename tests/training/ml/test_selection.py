import json
from datetime import date

import pytest

from training.ml.pipeline import CandidateResult, select_champion, steps_for


def candidate(architecture: str, val_mae: float, test_mae: float = 30.0) -> CandidateResult:
    return CandidateResult(
        architecture=architecture,
        hyperparameters={} if architecture == "naive" else {"units": 16},
        validation_metrics={"mae": val_mae, "directional_accuracy": None},
        test_metrics={"mae": test_mae},
        registered_name="gold-next-day",
        version=3,
        run_id="abc",
        model_uri="models:/gold-next-day/3",
        feature_config={"lags": 5, "ma_window": 5, "vol_windows": [5, 20]},
        lookback=20,
        data_start=date(2020, 9, 28),
        data_end=date(2025, 9, 24),
        validation_start=date(2024, 9, 25),
        test_start=date(2024, 9, 26),
        trials=10,
        conformal_quantiles={"80": 0.01, "95": 0.02},
        backtest=[{"as_of_date": "2025-09-23", "target_date": "2025-09-24", "actual_close": 3700.0}],
    )


def test_lowest_validation_mae_wins_whatever_the_test_says():
    results = [candidate("naive", 15.5, 20.0), candidate("mlp", 15.2, 40.0), candidate("lstm", 15.3, 10.0)]
    assert select_champion(results).architecture == "mlp"


def test_ties_go_to_the_simpler_model():
    assert select_champion([candidate("lstm", 15.0), candidate("cnn", 15.0)]).architecture == "cnn"
    assert select_champion([candidate("mlp", 15.0), candidate("naive", 15.0)]).architecture == "naive"


def test_naive_can_win():
    assert select_champion([candidate("naive", 15.0), candidate("mlp", 15.1)]).architecture == "naive"


def test_no_candidates_is_an_error():
    with pytest.raises(ValueError):
        select_champion([])


def test_candidate_result_round_trips_through_json():
    result = candidate("cnn", 15.0)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["test_start"] == "2024-09-26"
    assert CandidateResult.from_dict(data) == result
    assert CandidateResult.from_dict({**data, "model_version_id": 7}) == result  # extra keys are ignored


def test_the_conformal_method_round_trips_and_old_results_were_absolute():
    result = candidate("mlp", 15.0)
    result.conformal_method = "normalized"
    data = json.loads(json.dumps(result.to_dict()))
    assert CandidateResult.from_dict(data).conformal_method == "normalized"
    del data["conformal_method"]  # recorded before the normalized bands
    assert CandidateResult.from_dict(data).conformal_method == "absolute"


def test_steps_for():
    assert steps_for("naive", 10) == 1
    assert steps_for("mlp", 10) == 11
    assert steps_for("lstm", 0) == 2
