"""Forecast metrics for one window (validation or test), JSON-serializable (floats or None)."""

import numpy as np

from training.ml.conformal import band

METRIC_NAMES = (
    "mae",
    "rmse",
    "mape",
    "r2",
    "r2_return",
    "directional_accuracy",
    "naive_mae",
    "rmae",
    "coverage_80",
    "coverage_95",
    "width_80",
    "width_95",
    "n",
)


def _r2(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    total = float(np.sum((actual - np.mean(actual)) ** 2))
    if total == 0.0:
        return None
    return 1.0 - float(np.sum((actual - predicted) ** 2)) / total


def directional_accuracy(actual_return: np.ndarray, predicted_return: np.ndarray) -> float | None:
    """Share of days with sign(predicted) == sign(actual); None when every prediction is exactly 0 (naive)."""
    if not np.any(predicted_return != 0):
        return None
    return float(np.mean(np.sign(predicted_return) == np.sign(actual_return)))


def window_metrics(
    *,
    last_close: np.ndarray,
    actual_close: np.ndarray,
    predicted_return: np.ndarray,
    quantiles: dict[str, float],
    scale: np.ndarray | float = 1.0,
) -> dict[str, float | int | None]:
    """Price-space errors, return-space R², direction, error relative to naive, and conformal band quality.

    The bands are last_close · exp(predicted_return ± quantile · scale): `scale` is σ_t of each sample for the
    normalized conformal method, 1 for the absolute one.
    """
    last_close = np.asarray(last_close, dtype=float)
    actual_close = np.asarray(actual_close, dtype=float)
    predicted_return = np.asarray(predicted_return, dtype=float)
    if len(last_close) == 0:
        raise ValueError("cannot score an empty window")
    predicted_close = last_close * np.exp(predicted_return)
    actual_return = np.log(actual_close / last_close)
    errors = actual_close - predicted_close
    mae = float(np.mean(np.abs(errors)))
    naive_mae = float(np.mean(np.abs(actual_close - last_close)))
    metrics: dict[str, float | int | None] = {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mape": float(np.mean(np.abs(errors) / actual_close) * 100.0),
        "r2": _r2(actual_close, predicted_close),
        "r2_return": _r2(actual_return, predicted_return),
        "directional_accuracy": directional_accuracy(actual_return, predicted_return),
        "naive_mae": naive_mae,
        "rmae": mae / naive_mae if naive_mae > 0 else None,
    }
    for key in ("80", "95"):
        lower, upper = band(last_close, predicted_return, quantiles[key], scale)
        metrics[f"coverage_{key}"] = float(np.mean((actual_close >= lower) & (actual_close <= upper)))
        metrics[f"width_{key}"] = float(np.mean(upper - lower))
    metrics["n"] = len(last_close)
    return {name: metrics[name] for name in METRIC_NAMES}
