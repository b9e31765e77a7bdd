"""The neural methods: MLP, CNN and LSTM on the scaled features, tuned with hyperopt on CV.

A network learns returns ÷ the fit span's return std from features standardised on the fit span. With
`epochs=None` (a CV fit) it early-stops on the last `EARLY_STOPPING_SHARE` of its own fit span, never on the
rows it then forecasts, and reports the best epoch; with a fixed `epochs` (the served refit and the
walk-forward refits) it runs exactly that many epochs on the whole span. TensorFlow is imported only when a
network is fitted, called or loaded.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from training.ml.dataset import Samples
from training.ml.kinds.base import FitReport, ReturnModel

NETWORK_FILE = "network.keras"
EARLY_STOPPING_SHARE = 0.10
MIN_EARLY_STOPPING_ROWS = 10
SEQUENCE_KINDS = ("cnn", "lstm")

DEFAULT_HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "mlp": {"units": 32, "layers": 2, "dropout": 0.1, "learning_rate": 1e-3, "l2": 1e-4, "batch_size": 64},
    "cnn": {
        "filters": 16,
        "kernel_size": 3,
        "units": 16,
        "dropout": 0.1,
        "learning_rate": 1e-3,
        "l2": 1e-4,
        "batch_size": 64,
    },
    "lstm": {"units": 16, "dropout": 0.1, "learning_rate": 1e-3, "l2": 1e-4, "batch_size": 64},
}


def resolve_hyperparameters(kind: str, hyperparameters: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with the given values (ints kept ints); unknown names are an error."""
    defaults = DEFAULT_HYPERPARAMETERS[kind]
    given = dict(hyperparameters or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"unknown {kind} hyperparameters {unknown}; expected some of {sorted(defaults)}")
    resolved = {**defaults, **given}
    return {key: type(defaults[key])(value) for key, value in resolved.items()}


class Network(ReturnModel):
    """One network architecture (the subclasses set `kind`); see the module docstring."""

    tuning = "hyperopt"

    def __init__(
        self,
        hyperparameters: dict[str, Any] | None = None,
        *,
        lookback: int = 20,
        epochs: int | None = None,
        max_epochs: int = 100,
        patience: int = 10,
        seed: int = 42,
    ) -> None:
        super().__init__(resolve_hyperparameters(self.kind, hyperparameters))
        self.lookback = lookback
        self.epochs = epochs
        self.max_epochs = max_epochs
        self.patience = patience
        self.seed = seed
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.target_scale = 1.0
        self.weights: list[np.ndarray] | None = None
        self._network = None  # a loaded (served) network
        self._served: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def window(self) -> int:
        return self.lookback if self.kind in SEQUENCE_KINDS else 1

    # -- inputs -------------------------------------------------------------------------------------------
    def _scaled(self, values: np.ndarray) -> np.ndarray:
        return ((values - self.mean) / self.scale).astype(np.float32)

    def _inputs(self, samples: Samples, rows: np.ndarray) -> np.ndarray:
        """(n, features) for the MLP, (n, window, features) of rows r-window+1..r for CNN and LSTM."""
        scaled = self._scaled(samples.values)
        if self.window == 1:
            return scaled[rows]
        if len(rows) and rows.min() < self.window - 1:
            raise ValueError("a sample's window starts before the first feature row")
        return np.stack([scaled[row - self.window + 1 : row + 1] for row in rows])

    def _input_shape(self, n_features: int) -> tuple[int, ...]:
        return (n_features,) if self.window == 1 else (self.window, n_features)

    def _trainer(self, n_features: int):
        from training.ml.networks import trainer_for

        return trainer_for(self.kind, self.hyperparameters, self._input_shape(n_features), seed=self.seed)

    # -- the interface ------------------------------------------------------------------------------------
    def fit(self, samples: Samples, rows: np.ndarray, *, seed: int) -> FitReport:
        started = time.perf_counter()
        rows = rows[rows >= self.window - 1]  # the first rows have no full window
        if len(rows) < 2 * MIN_EARLY_STOPPING_ROWS:
            raise ValueError(f"a {self.kind} fit needs at least {2 * MIN_EARLY_STOPPING_ROWS} samples")
        values = samples.values[rows]
        self.mean = values.mean(axis=0)
        self.scale = values.std(axis=0)
        self.scale[self.scale == 0] = 1.0  # a constant feature (sklearn's StandardScaler does the same)
        self.target_scale = float(np.std(samples.returns[rows])) or 1.0
        x = self._inputs(samples, rows)
        y = (samples.returns[rows] / self.target_scale).astype(np.float32)
        trainer = self._trainer(samples.values.shape[1])
        if self.epochs is None:
            n_stop = max(MIN_EARLY_STOPPING_ROWS, round(len(rows) * EARLY_STOPPING_SHARE))
            report = trainer.fit(
                x[:-n_stop],
                y[:-n_stop],
                x_val=x[-n_stop:],
                y_val=y[-n_stop:],
                epochs=self.max_epochs,
                patience=self.patience,
                seed=seed,
            )
        else:
            report = trainer.fit(x, y, epochs=self.epochs, seed=seed)
        self.weights = trainer.weights()
        return FitReport(
            seconds=time.perf_counter() - started,
            epochs=report.epochs,
            best_epoch=report.best_epoch,
            longest_wait=report.longest_wait,
        )

    def predict(self, samples: Samples, rows: np.ndarray) -> np.ndarray:
        x = self._inputs(samples, rows)
        if self._network is not None:
            return self._serve_call(x)
        if self.weights is None:
            raise ValueError(f"the {self.kind} network is not fitted")
        trainer = self._trainer(samples.values.shape[1])
        trainer.set_weights(self.weights)
        return trainer.predict(x) * self.target_scale

    def predict_features(self, values: np.ndarray) -> float:
        x = self._scaled(values[-self.window :])
        x = x if self.window == 1 else x[np.newaxis]
        return float(self._serve_call(x)[0])

    @property
    def served(self) -> Callable[[np.ndarray], np.ndarray]:
        """The network as it is served: a call from float32 inputs to its outputs (returns ÷ `target_scale`).

        Built on first use from the loaded or fitted network (a traced Keras call). Assigning any such callable
        serves with it instead: a stand-in for the network that needs no TensorFlow.
        """
        if self._served is None:
            from training.ml.networks import predictor

            if self._network is None:
                self._network = self._materialise()
            self._served = predictor(self._network)
        return self._served

    @served.setter
    def served(self, call: Callable[[np.ndarray], np.ndarray]) -> None:
        self._served = call

    def _serve_call(self, x: np.ndarray) -> np.ndarray:
        return self.served(x) * self.target_scale

    def _materialise(self):
        """A stand-alone copy of the fitted network (for saving and serving), independent of the trainer."""
        import keras

        if self.weights is None or self.mean is None:
            raise ValueError(f"the {self.kind} network is not fitted")
        trainer = self._trainer(len(self.mean))
        network = keras.models.clone_model(trainer.model)
        network.set_weights(self.weights)
        return network

    def state(self) -> dict[str, Any]:
        if self.mean is None:
            raise ValueError(f"the {self.kind} network is not fitted")
        return {
            **super().state(),
            "lookback": self.lookback,
            "epochs": self.epochs,
            "seed": self.seed,
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "target_scale": self.target_scale,
        }

    def save_files(self, directory: Path) -> None:
        from training.ml.networks import save_network

        if self._network is None:
            self._network = self._materialise()
        save_network(self._network, Path(directory) / NETWORK_FILE)

    @classmethod
    def load(cls, state: dict[str, Any], directory: Path) -> "Network":
        from training.ml.networks import load_network

        model = cls(
            state["hyperparameters"], lookback=state["lookback"], epochs=state.get("epochs"), seed=state.get("seed", 42)
        )
        model.mean = np.asarray(state["mean"], dtype=float)
        model.scale = np.asarray(state["scale"], dtype=float)
        model.target_scale = float(state["target_scale"])
        model._network = load_network(Path(directory) / NETWORK_FILE)
        model.predict_features(np.zeros((model.window, len(model.mean))))  # trace the serving call once, up front
        return model


class MLP(Network):
    kind = "mlp"
    label = "MLP"


class CNN(Network):
    kind = "cnn"
    label = "CNN"


class LSTM(Network):
    kind = "lstm"
    label = "LSTM"
