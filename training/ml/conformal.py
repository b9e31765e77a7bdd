"""Split-conformal prediction intervals from validation residuals in return space.

Two methods, both calibrated on the validation window only:

- "normalized" (locally adaptive, the default for new models): the score of a validation sample is
  s_i = |r_i - r̂_i| / σ_i, where σ_i is the realised volatility known at the close of its as-of day (the unscaled
  `gold_vol_20` feature of `build_features`, floored at MIN_SCALE). q = the ⌈(n+1)·level⌉/n empirical quantile
  of s, and the band of day t is close_t · exp(r̂_t ± q·σ_t): wider when recent volatility is higher.
- "absolute" (models registered before the normalized method): s_i = |r_i - r̂_i|, band close_t · exp(r̂_t ± q),
  i.e. the normalized method with σ ≡ 1.

`quantiles` are q for each level: return-space half-widths for "absolute", multipliers of σ_t for "normalized".
"""

import math

import numpy as np
import pandas as pd

from training.ml.features import FeatureConfig

LEVELS = {"80": 0.80, "95": 0.95}
ABSOLUTE = "absolute"
NORMALIZED = "normalized"
METHODS = (ABSOLUTE, NORMALIZED)
SCALE_WINDOW = 20  # days of the realised volatility that scales the normalized scores
MIN_SCALE = 1e-4  # floor of σ (a daily log-return std); gold's 20-day volatility is ~0.004-0.02


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown conformal method {method!r}; expected one of {METHODS}")
    return method


def scale_feature(feature_config: FeatureConfig) -> str:
    """The feature column that is σ: gold_vol_20, or the longest volatility window when 20 is not configured."""
    windows = feature_config.vol_windows
    return f"gold_vol_{SCALE_WINDOW if SCALE_WINDOW in windows else max(windows)}"


def volatility_scale(features: pd.DataFrame, column: str) -> np.ndarray:
    """σ of every row of `build_features` output: the unscaled volatility column, floored at MIN_SCALE."""
    return floored_scale(features[column].to_numpy(dtype=float), column)


def floored_scale(values: np.ndarray, column: str) -> np.ndarray:
    """`volatility_scale` of the values of the volatility column (an array): floored at MIN_SCALE."""
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{column} must be finite to scale conformal bands")
    return np.maximum(values, MIN_SCALE)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ceil((n+1)·level)/n empirical quantile of |scores| (the k-th smallest, k = ceil((n+1)·level))."""
    scores = np.sort(np.abs(np.asarray(scores, dtype=float)))
    n = len(scores)
    # round() keeps e.g. (249 + 1) * 0.8 = 200.00000000000003 from becoming 201.
    k = math.ceil(round((n + 1) * level, 9))
    if k > n:
        raise ValueError(f"{n} validation residuals are too few for a {level:.0%} conformal interval")
    return float(scores[k - 1])


def conformal_quantiles(
    actual_return: np.ndarray, predicted_return: np.ndarray, scale: np.ndarray | None = None
) -> dict[str, float]:
    """{"80": q80, "95": q95} from calibration samples.

    Without `scale` (absolute method) q is a return-space half-width; with `scale` = σ_i of each sample
    (normalized method) the scores are |residual| / σ_i and q multiplies σ_t at prediction time.
    """
    residuals = np.asarray(actual_return, dtype=float) - np.asarray(predicted_return, dtype=float)
    if scale is not None:
        scale = np.asarray(scale, dtype=float)
        if scale.shape != residuals.shape or not np.all(np.isfinite(scale) & (scale > 0)):
            raise ValueError("scale must hold one finite positive σ per residual")
        residuals = residuals / scale
    return {key: conformal_quantile(residuals, level) for key, level in LEVELS.items()}


def band(last_close, predicted_return, quantile: float, scale=1.0):
    """(lower, upper) prices: last_close · exp(predicted_return ∓ quantile · scale); scale = σ_t or 1."""
    last_close = np.asarray(last_close, dtype=float)
    predicted_return = np.asarray(predicted_return, dtype=float)
    half_width = quantile * np.asarray(scale, dtype=float)
    return last_close * np.exp(predicted_return - half_width), last_close * np.exp(predicted_return + half_width)
