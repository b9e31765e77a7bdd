"""Small Keras networks (MLP, CNN, LSTM) and a fast, seeded, deterministic training loop.

Importing this module imports TensorFlow; only the training and model-loading code paths do.
"""

import logging
import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from training.ml.early_stopping import EarlyStopping  # noqa: E402

logger = logging.getLogger(__name__)

_determinism_enabled = False


def _limit_threads() -> None:
    """GOLDSITE_TF_THREADS=n: n intra-op and one inter-op thread (a worker process per core scales out; TF's
    default of every core per process makes two workers on two cores fight). Unset or 0: TF's default."""
    threads = int(os.environ.get("GOLDSITE_TF_THREADS", "0") or 0)
    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)


_limit_threads()


class _NoRetracingWarning(logging.Filter):
    """Every trial builds a new network and so new compiled functions; TF's retracing hint is noise here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_NoRetracingWarning())


def enable_determinism() -> None:
    """Deterministic TensorFlow ops (same seed + same data -> same numbers on CPU); idempotent."""
    global _determinism_enabled
    if not _determinism_enabled:
        tf.config.experimental.enable_op_determinism()
        _determinism_enabled = True


def build_network(architecture: str, hyperparameters: dict[str, Any], input_shape: tuple[int, ...]) -> keras.Model:
    """A small regression network with one linear output (the scaled next-day return)."""
    hp = hyperparameters
    l2 = keras.regularizers.L2(hp["l2"])
    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape)]
    if architecture == "mlp":
        for _ in range(hp["layers"]):
            layers += [keras.layers.Dense(hp["units"], activation="relu", kernel_regularizer=l2)]
            layers += [keras.layers.Dropout(hp["dropout"])]
    elif architecture == "cnn":
        layers += [
            keras.layers.Conv1D(
                hp["filters"], hp["kernel_size"], padding="causal", activation="relu", kernel_regularizer=l2
            ),
            keras.layers.Flatten(),
            keras.layers.Dropout(hp["dropout"]),
            keras.layers.Dense(hp["units"], activation="relu", kernel_regularizer=l2),
        ]
    elif architecture == "lstm":
        layers += [
            keras.layers.LSTM(hp["units"], kernel_regularizer=l2, recurrent_regularizer=l2, unroll=True),
            keras.layers.Dropout(hp["dropout"]),
        ]
    else:
        raise ValueError(f"unknown network architecture {architecture!r}")
    layers.append(keras.layers.Dense(1, kernel_regularizer=l2))
    return keras.Sequential(layers, name=architecture)


@dataclass(frozen=True)
class TrainReport:
    epochs: int  # epochs run (before early stopping, when it applies)
    best_epoch: int  # 1-based epoch whose weights were kept
    best_val_loss: float | None  # None without an early-stopping window
    longest_wait: int | None = None  # most epochs without improvement before one (None without early stopping)


def _snapshot(variables) -> list[np.ndarray]:
    return [variable.numpy() for variable in variables]


def _restore(variables, values) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


class Trainer:
    """One network shape, built and traced once, refitted from the same initial state on any data.

    The network, its Adam optimizer and the compiled train/validation/predict steps are created once for a
    configuration (architecture, hyperparameters, input shape, seed); every `fit` first restores the initial
    weights, the optimizer state and the dropout seed state, so a fit's result depends only on its
    configuration, its data and its shuffle seed, never on what the trainer fitted before (nor on which worker
    runs it). Adam on MSE (+ L2); a hand-written loop around one compiled step, ~10x faster than `Model.fit`
    for networks this small.
    """

    def __init__(self, architecture: str, hyperparameters: dict[str, Any], input_shape: tuple[int, ...], *, seed: int):
        enable_determinism()
        keras.utils.set_random_seed(seed)
        self.architecture = architecture
        self.hyperparameters = hyperparameters
        self.model = build_network(architecture, hyperparameters, input_shape)
        self.optimizer = keras.optimizers.Adam(learning_rate=hyperparameters["learning_rate"])
        self.optimizer.build(self.model.trainable_variables)
        self._initial = _snapshot(self.model.variables)
        self._initial_optimizer = _snapshot(self.optimizer.variables)
        model, optimizer = self.model, self.optimizer
        spec = tf.TensorSpec([None, *input_shape], tf.float32)
        target_spec = tf.TensorSpec([None], tf.float32)

        @tf.function(input_signature=[spec, target_spec])
        def train_step(x, y):
            with tf.GradientTape() as tape:
                predicted = model(x, training=True)[:, 0]
                loss = tf.reduce_mean(tf.square(predicted - y))
                if model.losses:
                    loss += tf.add_n(model.losses)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
            return loss

        @tf.function(input_signature=[spec, target_spec])
        def validation_loss(x, y):
            return tf.reduce_mean(tf.square(model(x, training=False)[:, 0] - y))

        batch_size = int(hyperparameters["batch_size"])

        @tf.function(input_signature=[spec, target_spec, tf.TensorSpec([None], tf.int32)], reduce_retracing=True)
        def train_epoch(x, y, order):
            """One pass over the shuffled samples in `batch_size` steps, inside one graph call."""
            n = tf.shape(order)[0]
            for start in tf.range(0, n, batch_size):
                batch = order[start : tf.minimum(start + batch_size, n)]
                train_step(tf.gather(x, batch), tf.gather(y, batch))
            return n

        self._train_epoch = train_epoch
        self._validation_loss = validation_loss
        self._predict = tf.function(lambda x: model(x, training=False)[:, 0], input_signature=[spec])

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int,
        seed: int,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        patience: int = 10,
    ) -> TrainReport:
        """Fit from the initial state for up to `epochs` epochs.

        With a validation window (`x_val`, `y_val`), stop once its loss has not improved for `patience` epochs
        and keep the best epoch's weights; without one, run exactly `epochs` epochs.
        """
        if epochs < 1:
            raise ValueError("epochs must be positive")
        _restore(self.model.variables, self._initial)
        _restore(self.optimizer.variables, self._initial_optimizer)
        x_t, y_t = tf.constant(x, tf.float32), tf.constant(y, tf.float32)
        early_stopping = x_val is not None and y_val is not None and len(x_val) > 0
        if early_stopping:
            x_val_t, y_val_t = tf.constant(x_val, tf.float32), tf.constant(y_val, tf.float32)
        rng = np.random.default_rng(seed)
        n = len(x)
        stopping, best_weights = EarlyStopping(patience=patience), None
        for _ in range(epochs):
            self._train_epoch(x_t, y_t, tf.constant(rng.permutation(n), tf.int32))
            if not early_stopping:
                continue
            if stopping.improved(float(self._validation_loss(x_val_t, y_val_t))):
                best_weights = self.weights()
            elif stopping.stop:
                break
        if not early_stopping:
            return TrainReport(epochs=epochs, best_epoch=epochs, best_val_loss=None)
        if best_weights is not None:
            self.set_weights(best_weights)
        return TrainReport(
            epochs=stopping.epoch,
            best_epoch=stopping.best_epoch,
            best_val_loss=float(stopping.best_loss),
            longest_wait=stopping.longest_wait,
        )

    def weights(self) -> list[np.ndarray]:
        return _snapshot(self.model.weights)

    def set_weights(self, weights: list[np.ndarray]) -> None:
        _restore(self.model.weights, weights)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._predict(tf.constant(x, tf.float32)).numpy().astype(np.float64)


_TRAINERS: "OrderedDict[tuple, Trainer]" = OrderedDict()
TRAINER_CACHE_SIZE = 4


def trainer_for(
    architecture: str, hyperparameters: dict[str, Any], input_shape: tuple[int, ...], *, seed: int
) -> Trainer:
    """The process's trainer of this configuration, built on first use (a few are kept, least recent dropped)."""
    key = (architecture, tuple(sorted(hyperparameters.items())), tuple(input_shape), seed)
    trainer = _TRAINERS.pop(key, None)
    if trainer is None:
        trainer = Trainer(architecture, hyperparameters, tuple(input_shape), seed=seed)
    _TRAINERS[key] = trainer
    while len(_TRAINERS) > TRAINER_CACHE_SIZE:
        _TRAINERS.popitem(last=False)
    return trainer


def predictor(model: keras.Model):
    """A compiled `inputs -> outputs[:, 0]` function (numpy in, float64 numpy out); traced here, once.

    The concrete function is called directly: the same graph as calling the `tf.function`, without its
    per-call argument binding (~0.1 ms of a one-row forecast).
    """
    spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
    call = tf.function(lambda x: model(x, training=False)[:, 0], input_signature=[spec]).get_concrete_function()

    def predict(x: np.ndarray) -> np.ndarray:
        return call(tf.constant(x, tf.float32)).numpy().astype(np.float64)

    return predict


def save_network(model: keras.Model, path) -> None:
    with warnings.catch_warnings():
        # Keras' own saving code converts TF variables with np.array(copy=False); harmless, and not ours.
        warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
        model.save(path)


def load_network(path) -> keras.Model:
    return keras.saving.load_model(path, compile=False)
