"""Forecast metrics for one window (CV days or the walk-forward test), JSON-serializable (floats or None).

Point errors in price space; the bands as a probabilistic forecast: coverage (overall and per volatility
regime: terciles of σ_t over the window), mean width, the interval (Winkler) score at 80% and 95%, the pinball
loss at the band quantiles and the CRPS of the predictive distribution the band quantiles define: the five
quantiles 2.5%, 10%, 50% (the point forecast), 90%, 97.5% in price space, approximated as twice the mean
pinball loss over them (the quantile decomposition of the CRPS). The scores come from Nixtla's
`utilsforecast.losses` (`winkler_score`, `quantile_loss`, `mqloss`), not written again here.
"""

import numpy as np

from training.ml.conformal import band

# The bands' keys of a window's metrics (what the evidence pages and the API's `naive_intervals` read).
INTERVAL_METRIC_NAMES = (
    "coverage_80",
    "coverage_95",
    "width_80",
    "width_95",
    "winkler_80",
    "winkler_95",
    "pinball",
    "crps",
    "coverage_by_regime",
)
METRIC_NAMES = (
    "mae",
    "rmse",
    "mape",
    "r2",
    "r2_return",
    "directional_accuracy",
    "naive_mae",
    "rmae",
    *INTERVAL_METRIC_NAMES,
    "n",
)
QUANTILE_LEVELS = (0.025, 0.10, 0.50, 0.90, 0.975)
REGIMES = ("calm", "normal", "volatile")


def _r2(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    total = float(np.sum((actual - np.mean(actual)) ** 2))
    if total == 0.0:
        return None
    return 1.0 - float(np.sum((actual - predicted) ** 2)) / total


def direction_hit(predicted_move: float, actual_move: float) -> bool | None:
    """The one rule for a directional call: a forecast of no change makes none (None); otherwise it is right
    when the actual move has the same sign (an unchanged close is a miss of any call)."""
    if predicted_move == 0:
        return None
    return bool(np.sign(predicted_move) == np.sign(actual_move))


def directional_accuracy(actual_return: np.ndarray, predicted_return: np.ndarray) -> float | None:
    """Share of right calls among the days with a call (`direction_hit`); None when no day has one (naive)."""
    calls = np.asarray(predicted_return) != 0
    if not np.any(calls):
        return None
    return float(np.mean(np.sign(predicted_return[calls]) == np.sign(actual_return[calls])))


def window_metrics(
    *,
    last_close: np.ndarray,
    actual_close: np.ndarray,
    predicted_return: np.ndarray,
    quantiles: dict[str, float | np.ndarray],
    scale: np.ndarray | float = 1.0,
    regime: np.ndarray | None = None,
) -> dict[str, float | int | None]:
    """Price-space errors, return-space R², direction, error relative to naive, and conformal band quality.

    The bands are last_close · exp(predicted_return ± quantile · scale): `scale` is σ_t of each sample (1 for
    the absolute bands of old versions); a quantile may be one value or one per day (adaptive bands). The
    volatility regimes are terciles of `regime` (default: `scale`) over the window.
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
    bands = {key: band(last_close, predicted_return, quantiles[key], scale) for key in ("80", "95")}
    inside = {key: (actual_close >= lower) & (actual_close <= upper) for key, (lower, upper) in bands.items()}
    for key, (lower, upper) in bands.items():
        metrics[f"coverage_{key}"] = float(np.mean(inside[key]))
        metrics[f"width_{key}"] = float(np.mean(upper - lower))
    metrics.update(probabilistic_scores(actual_close, predicted_close, bands))
    regime = np.broadcast_to(np.asarray(scale if regime is None else regime, dtype=float), last_close.shape)
    metrics["coverage_by_regime"] = coverage_by_regime(regime, inside, bands)
    metrics["n"] = len(last_close)
    return {name: metrics[name] for name in METRIC_NAMES}


def _frame(actual_close, columns: dict[str, np.ndarray]):
    """One series in utilsforecast's long format: unique_id, y and the forecast columns."""
    import pandas as pd

    return pd.DataFrame({"unique_id": 0, "y": np.asarray(actual_close, dtype=float), **columns})


def winkler(actual_close, lower, upper, level: int) -> float:
    """Mean interval (Winkler) score of a `level`% band, in price units (utilsforecast)."""
    from utilsforecast.losses import winkler_score

    frame = _frame(actual_close, {f"band-lo-{level}": lower, f"band-hi-{level}": upper})
    return float(winkler_score(frame, models=["band"], level=level)["band"].iloc[0])


def probabilistic_scores(actual_close, predicted_close, bands) -> dict[str, float]:
    """Winkler 80/95, mean pinball loss at the band quantiles and the quantile CRPS (utilsforecast)."""
    from utilsforecast.losses import mqloss

    (lower_80, upper_80), (lower_95, upper_95) = bands["80"], bands["95"]
    columns = [lower_95, lower_80, predicted_close, upper_80, upper_95]
    names = [f"q{level}" for level in QUANTILE_LEVELS]
    frame = _frame(actual_close, dict(zip(names, columns, strict=True)))
    pinball = float(mqloss(frame, models={"band": names}, quantiles=np.array(QUANTILE_LEVELS))["band"].iloc[0])
    return {
        "winkler_80": winkler(actual_close, lower_80, upper_80, 80),
        "winkler_95": winkler(actual_close, lower_95, upper_95, 95),
        "pinball": pinball,
        "crps": 2.0 * pinball,
    }


def coverage_by_regime(sigma: np.ndarray, inside: dict, bands: dict) -> dict[str, dict]:
    """Coverage and width of each band on the calm, normal and volatile third of the days (terciles of σ_t)."""
    if len(np.unique(sigma)) < 3:
        return {}
    low, high = np.quantile(sigma, [1 / 3, 2 / 3])
    masks = {"calm": sigma <= low, "normal": (sigma > low) & (sigma <= high), "volatile": sigma > high}
    out = {}
    for name, mask in masks.items():
        if not mask.any():
            continue
        out[name] = {"n": int(mask.sum()), "sigma_max": float(sigma[mask].max())}
        for key, (lower, upper) in bands.items():
            out[name][f"coverage_{key}"] = float(np.mean(inside[key][mask]))
            out[name][f"width_{key}"] = float(np.mean((upper - lower)[mask]))
    return out
