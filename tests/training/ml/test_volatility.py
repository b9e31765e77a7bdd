"""σ_t models: known at the close of t, from a bounded tail, the same numbers in training and serving."""

import numpy as np
import pytest

from training.ml.volatility import EWMA, GARCH, MIN_SIGMA, VOLATILITY_MODELS, Realised, gold_log_returns


@pytest.fixture
def returns():
    rng = np.random.default_rng(1)
    gold = 2000 * np.exp(np.cumsum(rng.standard_t(5, size=600) * 0.008))
    return gold_log_returns(gold)


def test_the_candidates_are_realised_ewma_and_garch():
    assert list(VOLATILITY_MODELS) == ["realised", "ewma", "garch"]


def test_realised_is_the_sample_std_of_the_last_20_returns(returns):
    assert Realised().sigma(returns, np.array([300]))[0] == pytest.approx(np.std(returns[281:301], ddof=1))


def test_ewma_weights_recent_returns_by_powers_of_lambda(returns):
    trailing = returns[181:301]
    weights = 0.94 ** np.arange(119, -1, -1)
    expected = np.sqrt(np.sum(weights * trailing**2) / np.sum(weights))
    assert EWMA().sigma(returns, np.array([300]))[0] == pytest.approx(expected)


def test_garch_filters_its_fitted_recursion_over_the_last_250_returns(returns):
    model = GARCH().fit(returns, 400)
    assert model.omega > 0 and 0 <= model.alpha < 1 and 0 <= model.beta < 1
    variance = model.omega / (1 - model.alpha - model.beta)
    for value in returns[251:501]:
        variance = model.omega + model.alpha * value**2 + model.beta * variance
    assert model.sigma(returns, np.array([500]))[0] == pytest.approx(np.sqrt(variance))
    assert GARCH.load(model.state()).state() == model.state()


@pytest.mark.parametrize("kind", list(VOLATILITY_MODELS))
def test_sigma_never_reads_a_return_after_its_as_of_day(returns, kind):
    model = VOLATILITY_MODELS[kind]().fit(returns, 300)
    changed = returns.copy()
    changed[401:] *= 5
    assert model.sigma(returns, np.arange(300, 401)).tolist() == model.sigma(changed, np.arange(300, 401)).tolist()


def test_a_flat_market_is_floored_not_a_division_by_zero():
    flat = gold_log_returns(np.full(100, 2000.0))
    assert Realised().sigma(flat, np.array([50]))[0] == MIN_SIGMA
    assert EWMA().sigma(flat, np.array([50]))[0] == MIN_SIGMA
