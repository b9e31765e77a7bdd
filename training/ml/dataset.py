"""Samples, time-ordered splits by target date, and the scaler fitted on the training window only.

A sample is an as-of day t with features up to the close of t and the target log(gold[t+1] / gold[t]); its
target date is t+1, the day whose close is predicted. The last `test_days` common trading days are the test
target dates, the `val_days` before them the validation target dates, everything earlier is training. So no
training or validation target, feature or scaler statistic ever touches a test-window price.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from training.ml.features import FeatureConfig, build_features, build_target

SPLIT_NAMES = ("train", "validation", "test")
MIN_TRAIN_SAMPLES = 100


@dataclass(frozen=True)
class Split:
    """The samples of one window, in date order."""

    name: str
    rows: np.ndarray  # positions in Dataset.features / Dataset.x_scaled
    as_of: pd.DatetimeIndex
    target_dates: pd.DatetimeIndex
    last_close: np.ndarray  # gold close on the as-of day
    actual_close: np.ndarray  # gold close on the target date
    returns: np.ndarray  # log(actual_close / last_close)

    def __len__(self) -> int:
        return len(self.rows)

    def tail_from_row(self, first_row: int) -> "Split":
        """The samples whose feature row is at or after `first_row`."""
        keep = self.rows >= first_row
        return Split(
            name=self.name,
            rows=self.rows[keep],
            as_of=self.as_of[keep],
            target_dates=self.target_dates[keep],
            last_close=self.last_close[keep],
            actual_close=self.actual_close[keep],
            returns=self.returns[keep],
        )


@dataclass(frozen=True)
class Dataset:
    closes: pd.DataFrame
    feature_config: FeatureConfig
    features: pd.DataFrame  # every complete feature row, the last day (no target yet) included
    x_scaled: np.ndarray  # features scaled by `scaler`, float32
    scaler: StandardScaler  # fitted on the training rows only
    target_scale: float  # std of the training returns; networks learn returns / target_scale
    lookback: int
    train: Split
    validation: Split
    test: Split

    @property
    def data_start(self):
        return self.closes.index[0].date()

    @property
    def data_end(self):
        return self.closes.index[-1].date()

    @property
    def validation_start(self):
        return self.validation.target_dates[0].date()

    @property
    def test_start(self):
        return self.test.target_dates[0].date()

    def split(self, name: str, *, window: int = 1) -> Split:
        """The samples of one window for a network reading `window` feature rows (1 = the as-of row only).

        Training samples whose window would start before the first feature row are dropped; validation and
        test samples always have a full window (prepare_dataset guarantees it).
        """
        if name not in SPLIT_NAMES:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLIT_NAMES}")
        split = getattr(self, name)
        return split.tail_from_row(window - 1) if window > 1 else split

    def inputs(self, split: Split, *, window: int = 1) -> np.ndarray:
        """Network inputs: (n, features) for window 1, else (n, window, features) of rows r-window+1..r."""
        if window <= 1:
            return self.x_scaled[split.rows]
        if len(split.rows) and split.rows.min() < window - 1:
            raise ValueError("a sample's window starts before the first feature row")
        return np.stack([self.x_scaled[row - window + 1 : row + 1] for row in split.rows])


def required_days(*, feature_config: FeatureConfig, lookback: int, val_days: int, test_days: int) -> int:
    """Common trading days needed for MIN_TRAIN_SAMPLES full-window training samples plus both windows."""
    return feature_config.warmup + lookback + MIN_TRAIN_SAMPLES + val_days + test_days


def prepare_dataset(
    closes: pd.DataFrame,
    *,
    feature_config: FeatureConfig | None = None,
    test_days: int = 250,
    val_days: int = 250,
    lookback: int = 20,
) -> Dataset:
    """Features, targets, splits by target date and the scaler fitted on the training rows."""
    feature_config = feature_config or FeatureConfig()
    if test_days < 1 or val_days < 1 or lookback < 1:
        raise ValueError("test_days, val_days and lookback must be positive")
    n = len(closes)
    needed = required_days(feature_config=feature_config, lookback=lookback, val_days=val_days, test_days=test_days)
    if n < needed:
        raise ValueError(
            f"Not enough history: {n} common trading days of gold and S&P 500 closes, need at least {needed} "
            f"({feature_config.warmup} feature warm-up + {lookback} lookback + {MIN_TRAIN_SAMPLES} training "
            f"+ {val_days} validation + {test_days} test days)."
        )
    features = build_features(closes, feature_config)
    target = build_target(closes).to_numpy()
    gold = closes["gold"].to_numpy(dtype=float)
    dates = closes.index
    warmup = feature_config.warmup  # closes position of feature row 0

    # As-of positions t (in closes) whose target date t+1 falls in each window.
    test_first = n - test_days - 1
    val_first = test_first - val_days
    bounds = {"train": (warmup, val_first), "validation": (val_first, test_first), "test": (test_first, n - 1)}
    splits = {}
    for name, (start, stop) in bounds.items():
        t = np.arange(start, stop)
        splits[name] = Split(
            name=name,
            rows=t - warmup,
            as_of=dates[t],
            target_dates=dates[t + 1],
            last_close=gold[t],
            actual_close=gold[t + 1],
            returns=target[t],
        )

    values = features.to_numpy(dtype=float)
    scaler = StandardScaler().fit(values[splits["train"].rows])
    return Dataset(
        closes=closes,
        feature_config=feature_config,
        features=features,
        x_scaled=scaler.transform(values).astype(np.float32),
        scaler=scaler,
        target_scale=float(np.std(splits["train"].returns)),
        lookback=lookback,
        **splits,
    )
