import numpy as np
import pytest

from training.ml.conformal import band, conformal_quantile, conformal_quantiles


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
