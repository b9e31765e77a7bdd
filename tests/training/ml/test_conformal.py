import numpy as np
import pandas as pd
import pytest

from tests.training.ml.series import random_walk_closes
from training.ml.calibration import fit_bands
from training.ml.conformal import (
    MIN_SCALE,
    band,
    conformal_quantile,
    conformal_quantiles,
    scale_feature,
    volatility_scale,
)
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.evaluation import rolling_origin
from training.ml.features import FeatureConfig, build_features, build_target
from training.ml.kinds.baselines import Drift

NO_BAND = {"80": 0.0, "95": 0.0}


def test_quantile_is_the_ceil_n_plus_1_alpha_order_statistic():
    residuals = np.array([-5.0, 1.0, -2.0, 3.0, 4.0, -6.0, 7.0, 8.0, 9.0])  # |r| = 1..9
    assert conformal_quantile(residuals, 0.8) == 8.0  # ceil(10 * 0.8) = 8th smallest
    assert conformal_quantile(residuals, 0.5) == 5.0


def test_quantile_is_not_fooled_by_float_rounding():
    residuals = np.arange(1, 250, dtype=float)  # n = 249: (n + 1) * 0.8 is 200.00000000000003 in floats
    assert conformal_quantile(residuals, 0.8) == 200.0
    assert conformal_quantile(residuals, 0.95) == 238.0


def test_too_few_residuals_for_the_level_is_an_error():
    with pytest.raises(ValueError):
        conformal_quantile(np.arange(1, 10, dtype=float), 0.95)


def test_coverage_on_exchangeable_residuals():
    """Split-conformal bands from calibration residuals cover fresh draws at about the nominal rate."""
    rng = np.random.default_rng(7)
    calibration_actual = rng.standard_t(4, size=2000) * 0.01
    calibration_predicted = rng.normal(0, 0.002, size=2000)
    quantiles = conformal_quantiles(calibration_actual, calibration_predicted)
    actual = rng.standard_t(4, size=50_000) * 0.01
    predicted = rng.normal(0, 0.002, size=50_000)
    for key, level in (("80", 0.80), ("95", 0.95)):
        lower, upper = band(1000.0, predicted, quantiles[key])
        price = 1000.0 * np.exp(actual)
        coverage = np.mean((price >= lower) & (price <= upper))
        assert coverage == pytest.approx(level, abs=0.02)


def test_bands_are_nested_around_the_point_forecast():
    quantiles = conformal_quantiles(np.linspace(-0.03, 0.03, 101), np.zeros(101))
    assert 0 < quantiles["80"] <= quantiles["95"]
    lower_80, upper_80 = band(2000.0, 0.001, quantiles["80"])
    lower_95, upper_95 = band(2000.0, 0.001, quantiles["95"])
    point = 2000.0 * np.exp(0.001)
    assert lower_95 <= lower_80 <= point <= upper_80 <= upper_95
    assert lower_80 == pytest.approx(2000.0 * np.exp(0.001 - quantiles["80"]))


def test_normalized_quantile_is_the_order_statistic_of_residual_over_sigma():
    rng = np.random.default_rng(4)
    scores = rng.permutation(np.arange(1, 20, dtype=float))  # n = 19: k = 16 for 80%, 19 for 95%
    sigma = rng.choice([0.002, 0.01, 0.02], size=19)
    residuals = scores * sigma * rng.choice([-1.0, 1.0], size=19)
    quantiles = conformal_quantiles(residuals, np.zeros(19), sigma)
    assert quantiles == {"80": pytest.approx(16.0), "95": pytest.approx(19.0)}
    absolute = conformal_quantiles(residuals, np.zeros(19))
    assert absolute["80"] == pytest.approx(np.sort(np.abs(residuals))[15])


@pytest.mark.parametrize("sigma", [np.zeros(9), np.full(9, np.nan), -np.ones(9), np.ones(8)])
def test_normalized_scores_need_one_finite_positive_sigma_per_residual(sigma):
    with pytest.raises(ValueError, match="scale"):
        conformal_quantiles(np.linspace(-1, 1, 9), np.zeros(9), sigma)


def test_sigma_is_the_unscaled_20_day_volatility_floored():
    assert scale_feature(FeatureConfig()) == "gold_vol_20"
    assert scale_feature(FeatureConfig(vol_windows=(5, 10))) == "gold_vol_10"
    index = pd.bdate_range("2024-01-01", periods=60)
    flat = pd.DataFrame({"gold": np.full(60, 2000.0), "spx": np.linspace(4000, 4100, 60)}, index=index)
    sigma = volatility_scale(build_features(flat), "gold_vol_20")
    assert (sigma == MIN_SCALE).all()  # zero volatility is floored, never a division by zero
    closes = random_walk_closes()
    features = build_features(closes)
    np.testing.assert_array_equal(volatility_scale(features, "gold_vol_20"), features["gold_vol_20"].to_numpy())


def regime_shift_closes(calibration_days: int, test_days: int, *, low: float, high: float, seed: int):
    """Gold with daily volatility `low`, then `high` from the as-of day of the first test sample on."""
    rng = np.random.default_rng(seed)
    warmup = FeatureConfig().warmup
    days = warmup + calibration_days + test_days + 1
    sigma = np.where(np.arange(days) < warmup + calibration_days + 1, low, high)
    gold = rng.standard_t(5, size=days) * np.sqrt(3 / 5) * sigma  # unit-variance t(5) innovations
    spx = rng.normal(0, 0.01, size=days)
    index = pd.bdate_range("1990-01-01", periods=days, name="date")
    prices = np.exp(np.cumsum(np.column_stack([gold, spx]), axis=0)) * np.array([1800.0, 3200.0])
    return pd.DataFrame({"gold": prices[:, 0], "spx": prices[:, 1]}, index=index)


def test_normalized_bands_keep_coverage_through_a_volatility_regime_shift():
    """Calibrated in a calm regime, tested in one 2.5x as volatile: absolute bands under-cover, normalized do not.

    σ_t is the model's own σ: the 20-day realised volatility known at the close of day t (so the first 20 test
    days, whose windows still reach into the calm regime, are included as they would be in real life).
    """
    calibration_days, test_days = 1000, 20_000
    closes = regime_shift_closes(calibration_days, test_days, low=0.006, high=0.015, seed=11)
    features = build_features(closes)
    target = build_target(closes).loc[features.index].to_numpy()
    sigma = volatility_scale(features, "gold_vol_20")
    last_close = closes["gold"].loc[features.index].to_numpy()
    predicted = np.random.default_rng(3).normal(0, 0.0005, size=len(features))  # a weak model's point forecasts
    cal, test = slice(0, calibration_days), slice(calibration_days, calibration_days + test_days)

    absolute = conformal_quantiles(target[cal], predicted[cal])
    normalized = conformal_quantiles(target[cal], predicted[cal], sigma[cal])
    price = last_close[test] * np.exp(target[test])
    for key, level in (("80", 0.80), ("95", 0.95)):
        covered = {}
        for name, q, scale in (("absolute", absolute[key], 1.0), ("normalized", normalized[key], sigma[test])):
            lower, upper = band(last_close[test], predicted[test], q, scale)
            covered[name] = np.mean((price >= lower) & (price <= upper))
        assert covered["absolute"] < level - 0.15
        assert covered["normalized"] == pytest.approx(level, abs=0.025)


def test_normalized_bands_cover_exchangeable_data_too():
    """No regime shift: the normalized bands are as calibrated as the absolute ones."""
    closes = regime_shift_closes(2000, 20_000, low=0.01, high=0.01, seed=5)
    features = build_features(closes)
    target = build_target(closes).loc[features.index].to_numpy()
    sigma = volatility_scale(features, "gold_vol_20")
    cal, test = slice(0, 2000), slice(2000, 22_000)
    quantiles = conformal_quantiles(target[cal], np.zeros(2000), sigma[cal])
    for key, level in (("80", 0.80), ("95", 0.95)):
        coverage = np.mean(np.abs(target[test]) <= quantiles[key] * sigma[test])
        assert coverage == pytest.approx(level, abs=0.02)


def test_the_bands_come_from_cv_residuals_and_never_see_the_test_window(closes):
    """σ model, γ, calibration scores and their CV bands use closes up to each CV target date only."""
    protocol = Protocol(test_days=100, selection_days=120, folds=4, retrain_every=30, lookback=10)
    changed = closes.copy()
    changed.iloc[-100:] *= np.random.default_rng(1).uniform(0.8, 1.2, size=(100, 2))
    computed = []
    for prices in (closes, changed):
        samples = Samples.from_closes(prices)
        windows = Windows.for_samples(samples, protocol)
        cv = rolling_origin(lambda: Drift({"window": 60}), samples, windows.folds, seed=0)
        walk = rolling_origin(lambda: Drift({"window": 60}), samples, windows.walk_forward, seed=0)
        bands = fit_bands(samples, cv=cv, cv_folds=windows.folds, walk=walk, walk_folds=windows.walk_forward)
        computed.append(bands)
    first, second = computed
    assert first.choice == second.choice
    assert first.calibration.quantiles == second.calibration.quantiles
    np.testing.assert_array_equal(first.calibration.scores, second.calibration.scores)
    np.testing.assert_array_equal(first.cv.sigma, second.cv.sigma)
    for key in ("80", "95"):
        np.testing.assert_array_equal(first.cv.multipliers[key], second.cv.multipliers[key])
    assert not np.array_equal(first.walk_forward.sigma, second.walk_forward.sigma)  # the test window's own σ moves


def test_normalized_bands_are_nested_around_the_point_forecast():
    rng = np.random.default_rng(2)
    sigma = rng.uniform(0.004, 0.02, size=300)
    quantiles = conformal_quantiles(rng.standard_t(4, size=300) * sigma, np.zeros(300), sigma)
    assert 0 < quantiles["80"] <= quantiles["95"]
    last, predicted = np.full(300, 2000.0), rng.normal(0, 0.001, size=300)
    lower_80, upper_80 = band(last, predicted, quantiles["80"], sigma)
    lower_95, upper_95 = band(last, predicted, quantiles["95"], sigma)
    point = last * np.exp(predicted)
    assert (lower_95 <= lower_80).all() and (lower_80 <= point).all()
    assert (point <= upper_80).all() and (upper_80 <= upper_95).all()
    np.testing.assert_allclose(upper_80, last * np.exp(predicted + quantiles["80"] * sigma))
