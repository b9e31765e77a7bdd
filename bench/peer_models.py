"""The peers an analyst would run instead of the service, as `training.ml.kinds.ReturnModel`s (bench-only code).

Shaped like the project's methods so they go through the same `training.ml.evaluation.rolling_origin` loop, on the
same folds and walk-forward blocks:

- `RidgePeer`: ridge regression of the next-day log return on the project's features (`Samples.values`),
  standardised on the fit span; alpha is a grid chosen on the rolling-origin CV of the selection period.
- `AutoETSPeer`, `AutoARIMAPeer`: statsforecast's `AutoETS` / `AutoARIMA` on log gold. `fit` selects and estimates
  the model on every log close up to the target date of the last fit row (the block's first as-of day), and
  nothing after it. `predict` forecasts each row one step ahead from the closes up to its own as-of day t only:
  the fitted model (its selected form and parameters, kept fixed between refits) is run over the new observations
  with statsforecast's `forward(y=log closes[..t], h=1)`, i.e. its state is updated with each close the block has
  seen so far, and no parameter is re-estimated inside a block. They also keep their own 80% prediction intervals
  (`level=[80]`), which the benchmark scores instead of conformal bands.

statsforecast is the `bench` optional extra (`pip install -e ".[bench]"`); it is imported only when a peer is
fitted. These peers are never served: `predict_features` (the serving fast path) is not available for the
univariate ones, which forecast from the closes rather than from feature rows.
"""

import time
from typing import Any, ClassVar

import numpy as np

from training.ml.dataset import Samples
from training.ml.kinds import FitReport, ReturnModel

RIDGE_ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0)
INTERVAL_LEVEL = 80  # percent: the band the benchmark scores
STATSFORECAST_EXTRA = 'pip install -e ".[bench]"  (statsforecast, the bench optional extra)'


def statsforecast_available() -> bool:
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True


class RidgePeer(ReturnModel):
    """Ridge regression of the return on the features, standardised on the fit span (scikit-learn)."""

    kind = "ridge"
    label = "Ridge (same features)"
    tuning = "grid"

    def __init__(self, hyperparameters: dict[str, Any] | None = None) -> None:
        alpha = float((hyperparameters or {}).get("alpha", 1.0))
        if not alpha > 0:
            raise ValueError("the ridge alpha must be positive")
        super().__init__({"alpha": alpha})
        self.scaler = None  # the fit span's StandardScaler
        self._ridge = None

    @property
    def window(self) -> int:
        return 1

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        return [{"alpha": alpha} for alpha in RIDGE_ALPHAS]

    def fit(self, samples: Samples, rows: np.ndarray, *, seed: int) -> FitReport:
        from sklearn.linear_model import Ridge
        from sklearn.preprocessing import StandardScaler

        started = time.perf_counter()
        rows = np.asarray(rows)
        if len(rows) < 2:
            raise ValueError("a ridge fit needs at least two samples")
        self.scaler = StandardScaler().fit(samples.values[rows])
        self._ridge = Ridge(alpha=self.hyperparameters["alpha"]).fit(
            self.scaler.transform(samples.values[rows]), samples.returns[rows]
        )
        return FitReport(seconds=time.perf_counter() - started)

    def predict(self, samples: Samples, rows: np.ndarray) -> np.ndarray:
        return self.predict_values(samples.values[np.asarray(rows)])

    def predict_values(self, values: np.ndarray) -> np.ndarray:
        if self._ridge is None:
            raise ValueError("the ridge is not fitted")
        return self._ridge.predict(self.scaler.transform(values))

    def predict_features(self, values: np.ndarray) -> float:
        return float(self.predict_values(values[-1:])[0])


class StatsForecastPeer(ReturnModel):
    """A statsforecast model on log gold, refitted by `fit`, run forward one close at a time by `predict`."""

    tuning = "none"
    model_name: ClassVar[str]

    def __init__(self, hyperparameters: dict[str, Any] | None = None) -> None:
        super().__init__({"season_length": int((hyperparameters or {}).get("season_length", 1))})
        self.model = None  # the statsforecast model fitted at the block start
        self.fitted_through: int | None = None  # closes index of the last close the fit saw
        self.lower_80 = np.empty(0)
        self.upper_80 = np.empty(0)

    def _new_model(self):
        import statsforecast.models

        return getattr(statsforecast.models, self.model_name)(season_length=self.hyperparameters["season_length"])

    @staticmethod
    def _log_gold(samples: Samples) -> np.ndarray:
        return np.log(samples.closes["gold"].to_numpy(dtype=float))

    def fit(self, samples: Samples, rows: np.ndarray, *, seed: int) -> FitReport:
        """Select and estimate the model on every log close up to the target date of the last row of `rows`.

        `rows` must be an expanding span (0, 1, …, k − 1), the only kind the protocol's folds have: a univariate
        model learns from the whole history of closes before its forecast origin.
        """
        rows = np.asarray(rows)
        if len(rows) == 0 or not np.array_equal(rows, np.arange(len(rows))):
            raise ValueError(f"a {self.model_name} peer fits on an expanding span of samples 0, 1, …, k − 1")
        started = time.perf_counter()
        last = int(rows[-1]) + samples.feature_config.warmup + 1  # the close of the last fit row's target date
        self.model = self._new_model().fit(self._log_gold(samples)[: last + 1])
        self.fitted_through = last
        return FitReport(seconds=time.perf_counter() - started)

    def predict(self, samples: Samples, rows: np.ndarray) -> np.ndarray:
        """One-step-ahead forecasts: row r's forecast reads only the closes up to its as-of day.

        Also keeps each row's own 80% interval (prices) in `lower_80` / `upper_80`.
        """
        if self.model is None:
            raise ValueError(f"the {self.model_name} peer is not fitted")
        log_gold = self._log_gold(samples)
        warmup = samples.feature_config.warmup
        predicted, lower, upper = [], [], []
        for row in np.asarray(rows):
            as_of = int(row) + warmup
            history = log_gold[: as_of + 1]
            forecast = self.model.forward(y=history, h=1, level=[INTERVAL_LEVEL])
            mean = float(np.asarray(forecast["mean"])[0])
            predicted.append(mean - history[-1])
            lower.append(float(np.exp(np.asarray(forecast[f"lo-{INTERVAL_LEVEL}"])[0])))
            upper.append(float(np.exp(np.asarray(forecast[f"hi-{INTERVAL_LEVEL}"])[0])))
        self.lower_80, self.upper_80 = np.asarray(lower), np.asarray(upper)
        return np.asarray(predicted, dtype=float)

    def predict_features(self, values: np.ndarray) -> float:
        raise NotImplementedError(
            f"{self.model_name} forecasts log gold from its closes; it is a benchmark peer, never served from features"
        )

    @property
    def description(self) -> str:
        """The model the last fit selected, e.g. "ETS(M,N,N)" or "ARIMA(0,1,0)"."""
        if self.model is None:
            return self.model_name
        return self._describe(self.model.model_)

    def _describe(self, fitted: dict[str, Any]) -> str:
        return self.model_name


class AutoETSPeer(StatsForecastPeer):
    kind = "autoets"
    label = "AutoETS (statsforecast, log gold)"
    model_name = "AutoETS"

    def _describe(self, fitted: dict[str, Any]) -> str:
        error, trend, season, damped = fitted["components"][:4]
        trend = f"{trend}d" if damped != "N" else trend
        return f"ETS({error},{trend},{season})"


class AutoARIMAPeer(StatsForecastPeer):
    kind = "autoarima"
    label = "AutoARIMA (statsforecast, log gold)"
    model_name = "AutoARIMA"

    def _describe(self, fitted: dict[str, Any]) -> str:
        p, q, _, _, _, d, _ = fitted["arma"]
        drift = " with drift" if "drift" in fitted["coef"] else ""
        return f"ARIMA({p},{d},{q}){drift}"


STATSFORECAST_PEERS: tuple[type[StatsForecastPeer], ...] = (AutoETSPeer, AutoARIMAPeer)
