import json
import math

import numpy as np
import pytest

from training.ml.metrics import METRIC_NAMES, direction_hit, directional_accuracy, window_metrics

LAST = np.array([100.0, 101.0, 102.0, 103.0])
ACTUAL = np.array([101.0, 100.0, 104.0, 103.0])
NO_BAND = {"80": 0.0, "95": 0.0}


def test_naive_scores_rmae_one_and_has_no_direction():
    metrics = window_metrics(last_close=LAST, actual_close=ACTUAL, predicted_return=np.zeros(4), quantiles=NO_BAND)
    assert metrics["naive_mae"] == pytest.approx((1 + 1 + 2 + 0) / 4)
    assert metrics["mae"] == metrics["naive_mae"]
    assert metrics["rmae"] == 1.0
    assert metrics["directional_accuracy"] is None
    assert metrics["rmse"] == pytest.approx(math.sqrt((1 + 1 + 4 + 0) / 4))
    assert metrics["mape"] == pytest.approx(100 * np.mean([1 / 101, 1 / 100, 2 / 104, 0]))
    assert metrics["n"] == 4


def test_hand_computed_model():
    predicted_close = np.array([100.5, 100.0, 103.0, 104.0])
    predicted_return = np.log(predicted_close / LAST)
    metrics = window_metrics(last_close=LAST, actual_close=ACTUAL, predicted_return=predicted_return, quantiles=NO_BAND)
    errors = ACTUAL - predicted_close  # 0.5, 0, 1, -1
    assert metrics["mae"] == pytest.approx(2.5 / 4)
    assert metrics["rmse"] == pytest.approx(math.sqrt(2.25 / 4))
    assert metrics["rmae"] == pytest.approx((2.5 / 4) / 1.0)
    ss_tot = np.sum((ACTUAL - ACTUAL.mean()) ** 2)
    assert metrics["r2"] == pytest.approx(1 - np.sum(errors**2) / ss_tot)
    actual_return = np.log(ACTUAL / LAST)
    expected_r2_return = 1 - np.sum((actual_return - predicted_return) ** 2) / np.sum(
        (actual_return - actual_return.mean()) ** 2
    )
    assert metrics["r2_return"] == pytest.approx(expected_r2_return)
    # signs: predicted +,-,+,+ vs actual +,-,+,0
    assert metrics["directional_accuracy"] == pytest.approx(3 / 4)


def test_directional_accuracy():
    # A zero prediction makes no call (the scoring of stored forecasts uses the same direction_hit rule).
    assert directional_accuracy(np.array([0.01, -0.02, 0.03]), np.array([0.001, 0.002, 0.0])) == pytest.approx(1 / 2)
    assert directional_accuracy(np.array([0.01, -0.02]), np.zeros(2)) is None
    assert [direction_hit(p, a) for p, a in [(0.0, 1.0), (1.0, 2.0), (1.0, -2.0), (-1.0, 0.0)]] == [
        None,
        True,
        False,
        False,
    ]


def test_coverage_and_width_of_the_bands():
    quantiles = {"80": 0.005, "95": 0.015}
    metrics = window_metrics(last_close=LAST, actual_close=ACTUAL, predicted_return=np.zeros(4), quantiles=quantiles)
    # |log(actual / last)| = 0.00995, 0.00995, 0.0194, 0: inside 0.5% once, inside 1.5% three times
    assert metrics["coverage_80"] == 0.25
    assert metrics["coverage_95"] == 0.75
    assert metrics["width_80"] == pytest.approx(np.mean(LAST * (np.exp(0.005) - np.exp(-0.005))))
    assert metrics["width_95"] > metrics["width_80"]


def test_metrics_are_json_serializable_and_complete():
    metrics = window_metrics(
        last_close=LAST, actual_close=ACTUAL, predicted_return=np.full(4, 0.001), quantiles=NO_BAND
    )
    assert tuple(metrics) == METRIC_NAMES
    assert all(value is None or type(value) in (float, int, dict) for value in metrics.values())
    json.dumps(metrics, allow_nan=False)


def test_normalized_bands_multiply_sigma():
    quantiles = {"80": 1.0, "95": 2.0}
    sigma = np.array([0.005, 0.01, 0.01, 0.001])
    metrics = window_metrics(
        last_close=LAST, actual_close=ACTUAL, predicted_return=np.zeros(4), quantiles=quantiles, scale=sigma
    )
    # |log(actual / last)| = 0.00995, 0.00995, 0.0194, 0 against half-widths 0.005, 0.01, 0.01, 0.001 (80%)
    # and 0.01, 0.02, 0.02, 0.002 (95%)
    assert metrics["coverage_80"] == 0.5
    assert metrics["coverage_95"] == 1.0
    assert metrics["width_80"] == pytest.approx(np.mean(LAST * (np.exp(sigma) - np.exp(-sigma))))
    assert tuple(metrics) == METRIC_NAMES


def test_interval_scores_by_hand():
    """Winkler = width + 2/α × the distance outside; pinball and CRPS at the five band quantiles."""
    quantiles = {"80": 0.005, "95": 0.015}
    metrics = window_metrics(last_close=LAST, actual_close=ACTUAL, predicted_return=np.zeros(4), quantiles=quantiles)
    lower, upper = LAST * np.exp(-0.005), LAST * np.exp(0.005)
    below, above = np.maximum(lower - ACTUAL, 0), np.maximum(ACTUAL - upper, 0)
    assert metrics["winkler_80"] == pytest.approx(np.mean(upper - lower + 2 / 0.2 * (below + above)))
    q = np.column_stack([LAST * np.exp(-0.015), lower, LAST, upper, LAST * np.exp(0.015)])
    levels = np.array([0.025, 0.1, 0.5, 0.9, 0.975])
    pinball = np.maximum(levels * (ACTUAL[:, None] - q), (levels - 1) * (ACTUAL[:, None] - q))
    assert metrics["pinball"] == pytest.approx(pinball.mean())
    assert metrics["crps"] == pytest.approx(2 * pinball.mean())


def test_coverage_is_reported_per_volatility_tercile():
    rng = np.random.default_rng(0)
    sigma = np.repeat([0.004, 0.01, 0.02], 100)
    last = np.full(300, 100.0)
    # The calm third moves three times its σ (always outside a 1σ band); the others stay inside.
    moves = np.where(sigma == 0.004, 3 * sigma, 0.5 * sigma) * rng.choice([-1, 1], size=300)
    metrics = window_metrics(
        last_close=last,
        actual_close=last * np.exp(moves),
        predicted_return=np.zeros(300),
        quantiles={"80": 1.0, "95": 2.0},
        scale=sigma,
    )
    regimes = metrics["coverage_by_regime"]
    assert set(regimes) == {"calm", "normal", "volatile"}
    assert (regimes["calm"]["n"], regimes["calm"]["coverage_80"]) == (100, 0.0)
    assert regimes["volatile"]["coverage_80"] == regimes["normal"]["coverage_95"] == 1.0
    assert metrics["coverage_80"] == pytest.approx(2 / 3)


def test_a_band_per_day_is_accepted():
    multipliers = {"80": np.array([0.0, 0.0, 0.02, 0.0]), "95": np.array([0.02, 0.02, 0.02, 0.02])}
    metrics = window_metrics(last_close=LAST, actual_close=ACTUAL, predicted_return=np.zeros(4), quantiles=multipliers)
    assert metrics["coverage_80"] == 0.5  # day 3 inside its 2% band, day 4 exactly on the point
