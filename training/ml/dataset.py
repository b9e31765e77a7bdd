"""Samples and the evaluation windows of the rolling-origin protocol.

A sample is an as-of day t with features up to the close of t and the target log(gold[t+1] / gold[t]); its
target date is t+1, the day whose close is predicted. Sample i is feature row i (`build_features` drops the
warm-up rows), so every array here is indexed by the same sample number.

The windows, by target date (`Windows`):

- **test**: the last `test_days` targets. Only ever forecast by the walk-forward report; never seen by a
  decision.
- **selection**: the `selection_days` targets before the test window, cut into `folds` consecutive folds.
  Each fold is forecast by a model fitted on every target before the fold (expanding window), so every
  candidate has out-of-sample errors on every selection day.
- everything earlier is only ever training data.

Nothing in this module fits anything: scalers belong to the model fitted on a span (see `training.ml.kinds`).
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from training.ml.features import FeatureConfig, build_features, build_target

MIN_TRAIN_SAMPLES = 100  # targets before the first fold, beyond the longest network window
MIN_FOLDS = 4


@dataclass(frozen=True)
class Protocol:
    """The window settings of one evaluation; a tune's hyperparameters are reusable only under the same ones."""

    test_days: int = 250
    selection_days: int = 500
    folds: int = 5
    retrain_every: int = 21  # trading days between walk-forward refits (the live refit cadence)
    lookback: int = 20  # feature rows the sequence networks read

    def __post_init__(self) -> None:
        if min(self.test_days, self.selection_days, self.retrain_every, self.lookback) < 1:
            raise ValueError("test_days, selection_days, retrain_every and lookback must be positive")
        if self.folds < MIN_FOLDS:
            raise ValueError(f"the rolling-origin evaluation needs at least {MIN_FOLDS} folds, got {self.folds}")
        if self.selection_days < self.folds * 10:
            raise ValueError(f"{self.selection_days} selection days are too few for {self.folds} folds")

    def window_settings(self) -> dict[str, int]:
        """What must match for one run's tuned hyperparameters to be reused by another."""
        return {"test_days": self.test_days, "selection_days": self.selection_days, "folds": self.folds}

    def to_dict(self) -> dict[str, int]:
        return {
            **self.window_settings(),
            "retrain_every": self.retrain_every,
            "lookback": self.lookback,
        }


@dataclass(frozen=True)
class Samples:
    """Every sample of the joined closes, plus the last day's features (which has no target yet)."""

    closes: pd.DataFrame
    feature_config: FeatureConfig
    features: pd.DataFrame  # one row per sample, the last day (no target yet) included
    values: np.ndarray  # features.to_numpy(), float64
    returns: np.ndarray  # target of each sample that has one: log(actual_close / last_close)
    last_close: np.ndarray  # gold close on the as-of day
    actual_close: np.ndarray  # gold close on the target date

    @classmethod
    def from_closes(cls, closes: pd.DataFrame, feature_config: FeatureConfig | None = None) -> "Samples":
        feature_config = feature_config or FeatureConfig()
        features = build_features(closes, feature_config)
        warmup = feature_config.warmup
        gold = closes["gold"].to_numpy(dtype=float)
        return cls(
            closes=closes,
            feature_config=feature_config,
            features=features,
            values=features.to_numpy(dtype=float),
            returns=build_target(closes).to_numpy()[warmup:-1],
            last_close=gold[warmup:-1],
            actual_close=gold[warmup + 1 :],
        )

    @property
    def gold_returns(self) -> np.ndarray:
        """r[p] = log(gold[p] / gold[p−1]) for every closes position p (r[0] NaN): what σ_t models read."""
        gold = self.closes["gold"].to_numpy(dtype=float)
        returns = np.full(len(gold), np.nan)
        returns[1:] = np.log(gold[1:] / gold[:-1])
        return returns

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """Closes positions of the as-of days of sample `rows`."""
        return np.asarray(rows) + self.feature_config.warmup

    @property
    def n_targets(self) -> int:
        return len(self.returns)

    @property
    def all_targets(self) -> np.ndarray:
        """Every sample with a known target: what the served model is fitted on."""
        return np.arange(self.n_targets)

    def as_of(self, rows: np.ndarray) -> pd.DatetimeIndex:
        return self.features.index[rows]

    def target_dates(self, rows: np.ndarray) -> pd.DatetimeIndex:
        return self.closes.index[np.asarray(rows) + self.feature_config.warmup + 1]

    def target_date(self, row: int) -> date:
        return self.target_dates(np.array([row]))[0].date()

    @property
    def data_start(self) -> date:
        return self.closes.index[0].date()

    @property
    def data_end(self) -> date:
        return self.closes.index[-1].date()

    def price_errors(self, rows: np.ndarray, predicted_return: np.ndarray) -> np.ndarray:
        """Absolute price errors of predicted returns on `rows` (naive: predicted return 0)."""
        predicted = self.last_close[rows] * np.exp(np.asarray(predicted_return, dtype=float))
        return np.abs(self.actual_close[rows] - predicted)


@dataclass(frozen=True)
class Fold:
    """One step of an expanding-window evaluation: fit on `fit_rows`, forecast `rows` one step ahead."""

    index: int
    fit_rows: np.ndarray
    rows: np.ndarray


@dataclass(frozen=True)
class Windows:
    """The test window, the selection period and its folds, as sample numbers (see the module docstring)."""

    protocol: Protocol
    n_targets: int

    @classmethod
    def for_samples(cls, samples: Samples, protocol: Protocol) -> "Windows":
        needed = protocol.test_days + protocol.selection_days + MIN_TRAIN_SAMPLES + protocol.lookback
        if samples.n_targets < needed:
            warmup = samples.feature_config.warmup
            raise ValueError(
                f"Not enough history: {samples.n_targets + warmup + 1} common trading days of gold and S&P 500 "
                f"closes, need at least {needed + warmup + 1} ({warmup} feature warm-up + {protocol.lookback} "
                f"lookback + {MIN_TRAIN_SAMPLES} training + {protocol.selection_days} selection "
                f"+ {protocol.test_days} test days + 1)."
            )
        return cls(protocol=protocol, n_targets=samples.n_targets)

    @property
    def test_start(self) -> int:
        return self.n_targets - self.protocol.test_days

    @property
    def selection_start(self) -> int:
        return self.test_start - self.protocol.selection_days

    @property
    def test_rows(self) -> np.ndarray:
        return np.arange(self.test_start, self.n_targets)

    @property
    def selection_rows(self) -> np.ndarray:
        return np.arange(self.selection_start, self.test_start)

    @property
    def folds(self) -> list[Fold]:
        """`protocol.folds` consecutive folds over the selection period, each fitted on all targets before it."""
        return [
            Fold(index=i, fit_rows=np.arange(0, rows[0]), rows=rows)
            for i, rows in enumerate(np.array_split(self.selection_rows, self.protocol.folds))
        ]

    @property
    def walk_forward(self) -> list[Fold]:
        """Blocks of `retrain_every` test days, each forecast by a refit on every target before the block."""
        starts = range(self.test_start, self.n_targets, self.protocol.retrain_every)
        return [
            Fold(
                index=i,
                fit_rows=np.arange(0, start),
                rows=np.arange(start, min(start + self.protocol.retrain_every, self.n_targets)),
            )
            for i, start in enumerate(starts)
        ]
