"""The Diebold–Mariano test against naive: one-sided, Newey–West variance, HLN-corrected."""

import math

import numpy as np
import pytest
from scipy import stats

from training.ml.evidence import diebold_mariano, long_run_variance, newey_west_lag


def test_the_lag_follows_the_newey_west_rule():
    assert newey_west_lag(500) == 5
    assert newey_west_lag(250) == 4
    assert newey_west_lag(100) == 4


def test_long_run_variance_by_hand():
    d = np.array([1.0, -1.0, 2.0, 0.0])
    c = d - d.mean()  # [0.5, -1.5, 1.5, -0.5]
    gamma0 = (c @ c) / 4
    gamma1 = (c[1:] @ c[:-1]) / 4
    assert long_run_variance(d, 0) == pytest.approx(gamma0)
    assert long_run_variance(d, 1) == pytest.approx(gamma0 + 2 * 0.5 * gamma1)


def test_statistic_and_p_value_by_hand():
    rng = np.random.default_rng(0)
    naive = np.abs(rng.normal(size=300))
    model = naive * 0.97 + np.abs(rng.normal(scale=0.05, size=300))
    result = diebold_mariano(model, naive, lag=3)
    d = naive - model
    raw = d.mean() / math.sqrt(long_run_variance(d, 3) / 300)
    corrected = raw * math.sqrt((300 + 1 - 2) / 300)
    assert result.statistic == pytest.approx(corrected)
    assert result.p_value == pytest.approx(stats.t.sf(corrected, df=299))
    assert (result.lag, result.n) == (3, 300)


def test_a_clearly_better_model_has_a_small_p_and_a_worse_one_a_large_p():
    rng = np.random.default_rng(1)
    naive = np.abs(rng.normal(size=500))
    assert diebold_mariano(naive * 0.8, naive).p_value < 0.001
    assert diebold_mariano(naive * 1.2, naive).p_value > 0.999


def test_equal_errors_are_no_evidence():
    errors = np.abs(np.random.default_rng(2).normal(size=100))
    result = diebold_mariano(errors, errors)
    assert (result.statistic, result.p_value) == (0.0, 1.0)


def test_series_must_match():
    with pytest.raises(ValueError, match="same days"):
        diebold_mariano(np.ones(5), np.ones(6))
    with pytest.raises(ValueError, match="at least 3"):
        diebold_mariano(np.ones(2), np.ones(2))
