"""The baselines, first-class methods like any other: naive ("tomorrow = today") and naive plus drift."""

import time
from pathlib import Path
from typing import Any

import numpy as np

from training.ml.dataset import Samples
from training.ml.kinds.base import FitReport, ReturnModel

# Trailing windows (targets) of the drift's mean return; 0 = the whole fit span. Chosen on CV.
DRIFT_WINDOWS = (0, 500, 250, 125, 60, 20)


class Naive(ReturnModel):
    """Tomorrow's close = today's close: a predicted return of exactly 0."""

    kind = "naive"
    label = "Naive (tomorrow = today)"

    def fit(self, samples: Samples, rows: np.ndarray, *, seed: int) -> FitReport:
        return FitReport(seconds=0.0)

    def predict(self, samples: Samples, rows: np.ndarray) -> np.ndarray:
        return np.zeros(len(rows))

    def predict_features(self, values: np.ndarray) -> float:
        return 0.0


class Drift(ReturnModel):
    """Naive plus drift: the mean log return of the last `window` targets of the fit span (0: all of it)."""

    kind = "drift"
    label = "Drift (naive + trailing mean return)"
    tuning = "grid"

    def __init__(self, hyperparameters: dict[str, Any] | None = None, *, mean_return: float | None = None) -> None:
        hyperparameters = {"window": int((hyperparameters or {}).get("window", 250))}
        if hyperparameters["window"] < 0:
            raise ValueError("the drift window must be 0 (whole span) or positive")
        super().__init__(hyperparameters)
        self.mean_return = mean_return

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        return [{"window": window} for window in DRIFT_WINDOWS]

    def fit(self, samples: Samples, rows: np.ndarray, *, seed: int) -> FitReport:
        started = time.perf_counter()
        returns = samples.returns[rows]
        window = self.hyperparameters["window"]
        if window:
            returns = returns[-window:]
        if len(returns) == 0:
            raise ValueError("the drift needs at least one target to fit")
        self.mean_return = float(np.mean(returns))
        return FitReport(seconds=time.perf_counter() - started)

    def _fitted(self) -> float:
        if self.mean_return is None:
            raise ValueError("the drift is not fitted")
        return self.mean_return

    def predict(self, samples: Samples, rows: np.ndarray) -> np.ndarray:
        return np.full(len(rows), self._fitted())

    def predict_features(self, values: np.ndarray) -> float:
        return self._fitted()

    def state(self) -> dict[str, Any]:
        return {**super().state(), "mean_return": self._fitted()}

    @classmethod
    def load(cls, state: dict[str, Any], directory: Path) -> "Drift":
        return cls(state.get("hyperparameters"), mean_return=float(state["mean_return"]))
