"""Adaptive conformal inference and the choice of σ model and γ on CV."""

import numpy as np
import pytest

from training.ml.intervals import (
    Calibration,
    aci_alpha,
    aci_quantile,
    aci_replay,
    choose_interval_model,
    cross_conformal_sets,
)

SCORES = np.arange(1, 20, dtype=float)  # n = 19 sorted calibration scores


def test_the_quantile_is_the_ceil_n_plus_1_times_1_minus_alpha_order_statistic():
    assert aci_quantile(SCORES, 0.20) == 16.0  # ⌈20 × 0.8⌉ = 16
    assert aci_quantile(SCORES, 0.05) == 19.0
    assert aci_quantile(SCORES, 0.01) == 19.0  # past n: the largest score
    assert aci_quantile(SCORES, 1.0) == 0.0  # rank 0: a zero-width band


def test_a_known_miss_sequence_widens_the_next_band_by_the_rule():
    """α_{t+1} = α_t + γ(α − miss_t): three misses at γ = 0.05 take α from 0.20 to 0.05, rank 16 → 19."""
    gamma = 0.05
    misses_then_hit = np.array([100.0, 100.0, 100.0, 0.5])  # scores: three outside every band, then inside
    replay = aci_replay(misses_then_hit, SCORES, alpha=0.20, gamma=gamma)
    assert replay.misses.tolist() == [True, True, True, False]
    expected_alpha = [0.20, 0.20 - 0.8 * gamma, 0.20 - 1.6 * gamma, 0.20 - 2.4 * gamma]
    assert replay.quantiles.tolist() == [aci_quantile(SCORES, a) for a in expected_alpha]
    assert replay.quantiles[0] < replay.quantiles[1] < replay.quantiles[2] <= replay.quantiles[3]
    assert replay.alpha_end == pytest.approx(0.20 - 2.4 * gamma + 0.2 * gamma)
    # The live state is the same rule over stored misses: a pure function of the scored days.
    assert aci_alpha(0.20, alpha=0.20, gamma=gamma, misses=replay.misses) == pytest.approx(replay.alpha_end)


def test_a_calm_run_narrows_the_bands_and_gamma_zero_is_split_conformal():
    calm = np.full(30, 0.1)
    narrowing = aci_replay(calm, SCORES, alpha=0.20, gamma=0.02)
    assert narrowing.quantiles[-1] < narrowing.quantiles[0]
    fixed = aci_replay(np.r_[calm, np.full(5, 99.0)], SCORES, alpha=0.20, gamma=0.0)
    assert set(fixed.quantiles) == {16.0}


def test_a_calibration_serves_split_conformal_at_nominal_and_adapts_at_a_state():
    calibration = Calibration.from_scores(SCORES[::-1], gamma=0.01)
    assert calibration.quantiles == {"80": 16.0, "95": 19.0}
    assert calibration.multiplier("80") == 16.0 and calibration.multiplier("80", 0.10) == 18.0
    restored = Calibration.from_dict(calibration.to_dict())
    assert restored.quantiles == calibration.quantiles and restored.gamma == 0.01
    np.testing.assert_array_equal(restored.scores, SCORES)


def test_cross_conformal_sets_leave_each_days_own_fold_out():
    scores = np.array([1.0, 2.0, 3.0, 4.0])
    sets = cross_conformal_sets(scores, np.array([0, 0, 1, 1]))
    assert [s.tolist() for s in sets] == [[3.0, 4.0], [3.0, 4.0], [1.0, 2.0], [1.0, 2.0]]


def test_the_choice_prefers_the_volatility_model_that_tracks_the_regime():
    """Residuals whose scale doubles half-way: a σ that follows it beats a constant one on the interval score."""
    rng = np.random.default_rng(0)
    n = 400
    true_sigma = np.where(np.arange(n) < n // 2, 0.005, 0.015)
    actual = rng.normal(0, true_sigma)
    last = np.full(n, 2000.0)
    choice = choose_interval_model(
        actual_return=actual,
        predicted_return=np.zeros(n),
        last_close=last,
        actual_close=last * np.exp(actual),
        folds=np.repeat(np.arange(4), n // 4),
        sigmas={"flat": np.full(n, 0.01), "tracking": true_sigma},
        gammas=(0.0, 0.01),
    )
    assert choice.volatility == "tracking"
    assert len(choice.table) == 4 and {row["gamma"] for row in choice.table} == {0.0, 0.01}
    best = min(choice.table, key=lambda row: row["score"])
    assert (best["volatility"], best["gamma"]) == (choice.volatility, choice.gamma)
