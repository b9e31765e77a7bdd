"""The one interface every forecasting method implements: fit on a span of samples, predict returns.

A method predicts the next-day gold **log return** of a sample; the price forecast is last close · exp(r̂).
`fit` learns from the targets of `rows` only; `predict` forecasts any rows one step ahead with what `fit`
learnt. `predict_features` is the serving fast path: the same prediction from the tail feature rows of one
as-of day. A fitted method saves its state as JSON (`state`) plus optional files, and loads back from them.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from training.ml.dataset import Samples


@dataclass(frozen=True)
class FitReport:
    """What one fit did: epochs run and the early-stopping epoch for networks (None for closed-form methods)."""

    seconds: float
    epochs: int | None = None
    best_epoch: int | None = None
    longest_wait: int | None = None  # early stopping's longest wait that paid off (training.ml.early_stopping)


class ReturnModel(ABC):
    """One forecasting method behind the protocol's interface (see the module docstring)."""

    kind: ClassVar[str]
    label: ClassVar[str]
    #: how the method's hyperparameters are chosen: "none", "grid" (every config of `grid()`), "hyperopt"
    tuning: ClassVar[str] = "none"

    def __init__(self, hyperparameters: dict[str, Any] | None = None) -> None:
        self.hyperparameters = dict(hyperparameters or {})

    @property
    def window(self) -> int:
        """Feature rows one prediction reads (0: none)."""
        return 0

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """Every configuration a "grid" method tries on CV."""
        return [{}]

    @abstractmethod
    def fit(self, samples: Samples, rows: np.ndarray, *, seed: int) -> FitReport:
        """Learn from the targets of `rows` (sample numbers) and nothing else."""

    @abstractmethod
    def predict(self, samples: Samples, rows: np.ndarray) -> np.ndarray:
        """Predicted log returns of `rows`, from features known at each as-of day."""

    @abstractmethod
    def predict_features(self, values: np.ndarray) -> float:
        """The predicted return of the last row of `values` (feature rows of one forecast, oldest first)."""

    def state(self) -> dict[str, Any]:
        """JSON-ready state of the fitted method (what `load` needs besides its files)."""
        return {"hyperparameters": self.hyperparameters}

    def save_files(self, directory: Path) -> None:
        """Files beside the JSON state (a network); none by default."""
        return None

    @classmethod
    def load(cls, state: dict[str, Any], directory: Path) -> "ReturnModel":
        return cls(state.get("hyperparameters"))
