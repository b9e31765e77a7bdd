"""The ensemble: the equal-weight mean of its member networks' predicted returns.

Its CV and walk-forward forecasts are the mean of its members' (no extra fits); its served model holds the
members' served refits. `fit` refits every member with its own recipe, so it is a method like any other.
"""

import time
from pathlib import Path
from typing import Any

import numpy as np

from training.ml.dataset import Samples
from training.ml.kinds.base import FitReport, ReturnModel

MEMBERS_DIR = "members"


class Ensemble(ReturnModel):
    kind = "ensemble"
    label = "Ensemble (mean of the networks)"
    tuning = "derived"

    def __init__(self, hyperparameters: dict[str, Any] | None = None, *, members: list[ReturnModel] | None = None):
        self.members = list(members or [])
        super().__init__({"members": [member.kind for member in self.members], **(hyperparameters or {})})

    @property
    def window(self) -> int:
        return max((member.window for member in self.members), default=0)

    def fit(self, samples: Samples, rows: np.ndarray, *, seed: int) -> FitReport:
        if not self.members:
            raise ValueError("an ensemble needs members")
        started = time.perf_counter()
        for member in self.members:
            member.fit(samples, rows, seed=seed)
        return FitReport(seconds=time.perf_counter() - started)

    def predict(self, samples: Samples, rows: np.ndarray) -> np.ndarray:
        return np.mean([member.predict(samples, rows) for member in self.members], axis=0)

    def predict_features(self, values: np.ndarray) -> float:
        return float(np.mean([member.predict_features(values) for member in self.members]))

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "members": [{"kind": member.kind, "state": member.state()} for member in self.members],
        }

    def save_files(self, directory: Path) -> None:
        for i, member in enumerate(self.members):
            member_dir = Path(directory) / MEMBERS_DIR / str(i)
            member_dir.mkdir(parents=True, exist_ok=True)
            member.save_files(member_dir)

    @classmethod
    def load(cls, state: dict[str, Any], directory: Path) -> "Ensemble":
        from training.ml.kinds import method_class

        members = [
            method_class(entry["kind"]).load(entry["state"], Path(directory) / MEMBERS_DIR / str(i))
            for i, entry in enumerate(state["members"])
        ]
        hyperparameters = {k: v for k, v in state.get("hyperparameters", {}).items() if k != "members"}
        return cls(hyperparameters, members=members)
