"""A candidate's bands from its out-of-sample forecasts: chosen on CV, replayed over the walk-forward test."""

import numpy as np
import pytest

from training.ml.calibration import fit_bands, fold_sigma
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.evaluation import rolling_origin
from training.ml.intervals import LEVELS, aci_replay
from training.ml.kinds.baselines import Drift

PROTOCOL = Protocol(test_days=100, selection_days=120, folds=4, retrain_every=30, lookback=10)


@pytest.fixture
def fitted(closes):
    samples = Samples.from_closes(closes)
    windows = Windows.for_samples(samples, PROTOCOL)
    cv = rolling_origin(lambda: Drift({"window": 60}), samples, windows.folds, seed=0)
    walk = rolling_origin(lambda: Drift({"window": 60}), samples, windows.walk_forward, seed=0)
    bands = fit_bands(samples, cv=cv, cv_folds=windows.folds, walk=walk, walk_folds=windows.walk_forward)
    return samples, windows, cv, walk, bands


def test_the_calibration_scores_are_the_pooled_cv_residuals_over_the_chosen_sigma(fitted):
    samples, windows, cv, _, bands = fitted
    sigma = fold_sigma(samples, cv, windows.folds, bands.choice["volatility"])
    np.testing.assert_array_equal(bands.cv.sigma, sigma)
    expected = np.sort(np.abs(samples.returns[cv.rows] - cv.predicted) / sigma)
    np.testing.assert_array_equal(bands.calibration.scores, expected)
    assert bands.calibration.gamma == bands.choice["gamma"]
    assert len(bands.choice["table"]) == 3 * 5  # every σ model × every γ of the grid was scored


def test_the_walk_forward_replays_the_adaptive_rule_from_the_nominal_level_and_hands_on_its_state(fitted):
    samples, windows, _, walk, bands = fitted
    scores = np.abs(samples.returns[walk.rows] - walk.predicted) / bands.walk_forward.sigma
    for key, alpha in LEVELS.items():
        replay = aci_replay(scores, bands.calibration.scores, alpha=alpha, gamma=bands.calibration.gamma)
        np.testing.assert_array_equal(bands.walk_forward.multipliers[key], replay.quantiles)
        assert bands.calibration.alpha0[key] == replay.alpha_end


def test_the_served_sigma_model_learnt_from_every_return(fitted, closes):
    samples, *_, bands = fitted
    assert bands.volatility.kind == bands.choice["volatility"]
    last = np.array([len(closes) - 1])
    assert bands.volatility.sigma(samples.gold_returns, last)[0] > 0


def test_a_fixed_gamma_is_the_only_one_the_bands_try(closes):
    samples = Samples.from_closes(closes)
    windows = Windows.for_samples(samples, PROTOCOL)
    cv = rolling_origin(lambda: Drift({"window": 60}), samples, windows.folds, seed=0)
    walk = rolling_origin(lambda: Drift({"window": 60}), samples, windows.walk_forward, seed=0)
    bands = fit_bands(samples, cv=cv, cv_folds=windows.folds, walk=walk, walk_folds=windows.walk_forward, gammas=[0.02])
    assert bands.calibration.gamma == 0.02 and {row["gamma"] for row in bands.choice["table"]} == {0.02}
