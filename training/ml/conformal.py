"""Split-conformal prediction intervals from validation residuals in return space."""

import math

import numpy as np

LEVELS = {"80": 0.80, "95": 0.95}


def conformal_quantile(residuals: np.ndarray, level: float) -> float:
    """The ceil((n+1)·level)/n empirical quantile of |residuals| (the k-th smallest, k = ceil((n+1)·level))."""
    scores = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    n = len(scores)
    # round() keeps e.g. (249 + 1) * 0.8 = 200.00000000000003 from becoming 201.
    k = math.ceil(round((n + 1) * level, 9))
    if k > n:
        raise ValueError(f"{n} validation residuals are too few for a {level:.0%} conformal interval")
    return float(scores[k - 1])


def conformal_quantiles(actual_return: np.ndarray, predicted_return: np.ndarray) -> dict[str, float]:
    """Return-space half-widths for the 80% and 95% bands: {"80": q80, "95": q95}."""
    residuals = np.asarray(actual_return, dtype=float) - np.asarray(predicted_return, dtype=float)
    return {key: conformal_quantile(residuals, level) for key, level in LEVELS.items()}


def band(last_close, predicted_return, quantile: float):
    """(lower, upper) prices: last_close · exp(predicted_return ∓ quantile)."""
    last_close = np.asarray(last_close, dtype=float)
    predicted_return = np.asarray(predicted_return, dtype=float)
    return last_close * np.exp(predicted_return - quantile), last_close * np.exp(predicted_return + quantile)
