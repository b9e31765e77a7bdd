"""The champion rule: lowest pooled CV MAE, and only with Diebold–Mariano evidence against naive."""

import json
from datetime import date

import pytest

from training.ml.pipeline import CandidateResult, steps_for
from training.ml.selection import select_champion


def candidate(kind: str, cv_mae: float, p: float | None = None, test_mae: float = 30.0) -> CandidateResult:
    return CandidateResult(
        kind=kind,
        hyperparameters={} if kind == "naive" else {"units": 16},
        cv_metrics={"mae": cv_mae, "rmae": cv_mae / 15.5, "p_value": 1.0 if p is None else p},
        test_metrics={"mae": test_mae},
        registered_name="gold-next-day",
        version=3,
        run_id="abc",
        model_uri="models:/gold-next-day/3",
        feature_config={"lags": 5, "ma_window": 5, "vol_windows": [5, 20]},
        protocol={"test_days": 250, "selection_days": 500, "folds": 5, "retrain_every": 21, "lookback": 20},
        data_start=date(2020, 9, 28),
        data_end=date(2025, 9, 24),
        selection_start=date(2022, 9, 27),
        test_start=date(2024, 9, 26),
        fitted_through=date(2025, 9, 24),
        trials=10,
        intervals={"volatility": "ewma", "gamma": 0.005, "quantiles": {"80": 1.3, "95": 2.0}},
        backtest=[{"as_of_date": "2025-09-23", "target_date": "2025-09-24", "actual_close": 3700.0}],
    )


def test_the_lowest_cv_mae_wins_when_it_beats_naive_with_evidence():
    results = [candidate("naive", 15.5), candidate("mlp", 15.2, p=0.04), candidate("lstm", 15.3, p=0.01)]
    decision = select_champion(results, max_p=0.10)
    assert decision.champion.kind == "mlp" and decision.with_evidence
    assert "15.20" in decision.reason and "15.50" in decision.reason and "p = 0.040" in decision.reason


def test_without_evidence_naive_is_champion_and_the_reason_says_why():
    results = [candidate("naive", 15.5), candidate("lstm", 15.2, p=0.31), candidate("drift", 15.4, p=0.01)]
    decision = select_champion(results, max_p=0.10)
    assert decision.champion.kind == "naive" and decision.best.kind == "lstm"
    assert "no evidence" in decision.reason and "p = 0.310" in decision.reason


def test_the_threshold_is_strict():
    results = [candidate("naive", 15.5), candidate("mlp", 15.0, p=0.10)]
    assert select_champion(results, max_p=0.10).champion.kind == "naive"
    assert select_champion(results, max_p=0.11).champion.kind == "mlp"


def test_test_metrics_play_no_part():
    results = [candidate("naive", 15.5, test_mae=1.0), candidate("cnn", 15.0, p=0.01, test_mae=99.0)]
    assert select_champion(results).champion.kind == "cnn"


def test_ties_go_to_the_simpler_kind_and_naive_can_win_outright():
    assert select_champion([candidate("naive", 15.0), candidate("lstm", 15.0, p=0.0)]).champion.kind == "naive"
    tie = [candidate("naive", 16.0), candidate("lstm", 15.0, p=0.0), candidate("cnn", 15.0, p=0.0)]
    assert select_champion(tie).champion.kind == "cnn"
    decision = select_champion([candidate("naive", 15.0), candidate("mlp", 15.1, p=0.9)])
    assert decision.champion.kind == "naive" and "No candidate had a lower pooled CV MAE" in decision.reason


def test_naive_must_be_among_the_candidates():
    with pytest.raises(ValueError, match="naive"):
        select_champion([candidate("mlp", 15.0)])


def test_candidate_result_round_trips_through_json():
    result = candidate("cnn", 15.0)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["test_start"] == "2024-09-26" and data["fitted_through"] == "2025-09-24"
    assert CandidateResult.from_dict(data) == result
    assert CandidateResult.from_dict({**data, "model_version_id": 7}) == result  # extra keys are ignored


def test_steps_count_every_trial_the_refit_the_walk_forward_and_the_registration():
    assert steps_for("naive", 10) == 4
    assert steps_for("drift", 10) == 6 + 3  # every window of its grid
    assert steps_for("mlp", 10) == 13
    assert steps_for("lstm", 10, reuse=True) == 4
    assert steps_for("ensemble", 10) == 1
