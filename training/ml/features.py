"""The one feature pipeline, shared by training and serving.

Every feature at day t is computed from closes up to and including day t only, and is scale-free (log
returns and ratios), so a forecast never depends on the price level nor on anything after its as-of day.
Windows are computed exactly (one window at a time, no running sums), so the features of a day are the same
bits whether they are computed from the whole history or from just the tail a forecast needs.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

CLOSE_COLUMNS = ("gold", "spx")


@dataclass(frozen=True)
class FeatureConfig:
    """How many return lags, the moving-average window and the realised-volatility windows."""

    lags: int = 5
    ma_window: int = 5
    vol_windows: tuple[int, ...] = field(default=(5, 20))

    def __post_init__(self) -> None:
        object.__setattr__(self, "vol_windows", tuple(int(w) for w in self.vol_windows))
        if self.lags < 1:
            raise ValueError(f"lags must be at least 1, got {self.lags}")
        if self.ma_window < 2:
            raise ValueError(f"ma_window must be at least 2, got {self.ma_window}")
        if not self.vol_windows or min(self.vol_windows) < 2:
            raise ValueError(f"vol_windows must be non-empty windows of at least 2 days, got {self.vol_windows}")

    @property
    def warmup(self) -> int:
        """Leading rows of closes that cannot have complete features."""
        return max(self.lags, self.ma_window - 1, max(self.vol_windows))

    def to_dict(self) -> dict[str, Any]:
        return {"lags": self.lags, "ma_window": self.ma_window, "vol_windows": list(self.vol_windows)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FeatureConfig":
        return cls(lags=int(data["lags"]), ma_window=int(data["ma_window"]), vol_windows=tuple(data["vol_windows"]))


def feature_names(config: FeatureConfig) -> list[str]:
    """Column names of `build_features`, in order."""
    return [
        *(f"gold_ret_{k}" for k in range(1, config.lags + 1)),
        *(f"spx_ret_{k}" for k in range(1, config.lags + 1)),
        f"gold_ma{config.ma_window}_gap",
        f"spx_ma{config.ma_window}_gap",
        *(f"gold_vol_{w}" for w in config.vol_windows),
    ]


def join_closes(gold: pd.Series, spx: pd.Series) -> pd.DataFrame:
    """Gold and S&P 500 closes on their common trading days: inner join on date, sorted, NaN rows dropped."""
    columns = {}
    for name, series in (("gold", gold), ("spx", spx)):
        series = pd.Series(series, dtype=float)
        index = pd.DatetimeIndex(series.index)
        series.index = (index.tz_localize(None) if index.tz is not None else index).normalize()
        columns[name] = series[~series.index.duplicated(keep="last")]
    closes = pd.concat(columns, axis=1, join="inner").dropna().sort_index()
    closes.index.name = "date"
    return closes


def as_closes(frame: pd.DataFrame) -> pd.DataFrame:
    """A closes frame from a DatetimeIndex or a `date` column with `gold` and `spx` columns."""
    if "date" in frame.columns:
        frame = frame.set_index("date")
    missing = [c for c in CLOSE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"closes need columns {list(CLOSE_COLUMNS)}; missing {missing}")
    closes = frame.loc[:, list(CLOSE_COLUMNS)].astype(float)
    closes.index = pd.DatetimeIndex(closes.index)
    closes.index.name = "date"
    return closes.sort_index()


def _checked_closes(closes: pd.DataFrame) -> np.ndarray:
    """The gold and spx closes as an (n, 2) float array, after checking the frame is a valid closes frame."""
    columns = closes.columns
    missing = [c for c in CLOSE_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"closes need columns {list(CLOSE_COLUMNS)}; missing {missing}")
    index = closes.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError("closes need a DatetimeIndex")
    if not (index.is_monotonic_increasing and index.is_unique):
        raise ValueError("closes must be sorted by date with unique dates")
    if list(columns) == list(CLOSE_COLUMNS):  # the usual frame: one conversion instead of a Series per column
        values = closes.to_numpy(dtype=float)
    else:
        values = np.column_stack([closes[c].to_numpy(dtype=float) for c in CLOSE_COLUMNS])
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError("closes must be finite and positive")
    return values


def _log_returns(prices: np.ndarray) -> np.ndarray:
    returns = np.full(prices.shape, np.nan)
    returns[1:] = np.log(prices[1:] / prices[:-1])
    return returns


def _window_stat(values: np.ndarray, window: int, stat) -> np.ndarray:
    """stat over values[t - window + 1 .. t] at t, each window on its own (NaN where incomplete)."""
    out = np.full(values.shape, np.nan)
    if len(values) >= window:
        out[window - 1 :] = stat(sliding_window_view(values, window), axis=-1)
    return out


@lru_cache(maxsize=16)
def _feature_columns(config: FeatureConfig) -> pd.Index:
    """`feature_names(config)` as a column Index, built once per config (building one costs ~30 µs)."""
    return pd.Index(feature_names(config))


def _feature_values(gold: np.ndarray, spx: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The feature matrix of `build_features` for every row of the closes, warm-up rows included (NaN).

    Filled column by column into one preallocated matrix (cheaper than a column_stack of NaN-padded columns
    for the few dozen rows a forecast reads); each column holds the same values as its definition above.
    """
    n = len(gold)
    out = np.full((n, len(feature_names(config))), np.nan)
    gold_ret = _log_returns(gold)  # contiguous: the window reductions below see the same memory layout as ever
    j = 0
    for returns in (gold_ret, _log_returns(spx)):
        for k in range(1, config.lags + 1):  # returns[t - (k - 1)] at t
            out[k - 1 :, j] = returns[: n - k + 1]
            j += 1
    for prices in (gold, spx):
        out[:, j] = prices / _window_stat(prices, config.ma_window, np.mean) - 1.0
        j += 1
    for window in config.vol_windows:
        out[:, j] = _window_stat(gold_ret, window, _sample_std)
        j += 1
    return out


def _sample_std(values: np.ndarray, axis: int) -> np.ndarray:
    return np.std(values, axis=axis, ddof=1)


def build_features(closes: pd.DataFrame, config: FeatureConfig | None = None) -> pd.DataFrame:
    """Scale-free features for every day of `closes` that has a complete history; warm-up rows are dropped.

    gold_ret_k / spx_ret_k: log return from day t-k to t-k+1 (k=1 is the return into day t);
    <asset>_ma<w>_gap: close / mean of the last w closes - 1; gold_vol_<w>: sample std of the last w daily
    gold log returns.

    Training calls it on the whole history, serving on the tail one forecast needs (a few dozen rows), so it is
    kept cheap for short inputs: numpy arrays throughout, one DataFrame at the end, columns built once per config.
    """
    config = config or FeatureConfig()
    closes_values = _checked_closes(closes)
    values = _feature_values(closes_values[:, 0], closes_values[:, 1], config)
    warmup = config.warmup
    return pd.DataFrame(values[warmup:], index=closes.index[warmup:], columns=_feature_columns(config).copy())


def build_target(closes: pd.DataFrame) -> pd.Series:
    """Next-day gold log return log(gold[t+1] / gold[t]) at t; NaN on the last day."""
    gold = closes["gold"].to_numpy(dtype=float)
    target = np.full(gold.shape, np.nan)
    target[:-1] = np.log(gold[1:] / gold[:-1])
    return pd.Series(target, index=closes.index, name="target_return")
