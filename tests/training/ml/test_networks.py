"""Tiny real Keras fits: each architecture trains, is deterministic, and serves what it was trained to predict."""

import json
import time

import numpy as np
import pytest

from tests.training.ml.series import random_walk_closes
from training.ml.dataset import prepare_dataset
from training.ml.forecaster import BUNDLE_FILE, Forecaster

pytestmark = pytest.mark.slow

LOOKBACK = 10


@pytest.fixture(scope="module")
def dataset():
    return prepare_dataset(random_walk_closes(500), test_days=60, val_days=60, lookback=LOOKBACK)


def fit(dataset, architecture, seed=1):
    from training.ml import networks

    window = networks.input_window(architecture, LOOKBACK)
    train, validation = dataset.split("train", window=window), dataset.split("validation", window=window)
    hyperparameters = networks.resolve_hyperparameters(architecture, {"batch_size": 32})
    network, report = networks.train_network(
        architecture,
        hyperparameters,
        dataset.inputs(train, window=window),
        (train.returns / dataset.target_scale).astype(np.float32),
        dataset.inputs(validation, window=window),
        (validation.returns / dataset.target_scale).astype(np.float32),
        max_epochs=3,
        patience=2,
        seed=seed,
    )
    forecaster = Forecaster(
        architecture=architecture,
        feature_config=dataset.feature_config,
        lookback=window,
        quantiles={"80": 0.01, "95": 0.02},
        scaler=dataset.scaler,
        target_scale=dataset.target_scale,
        network=network,
    )
    return forecaster, report, dataset.inputs(validation, window=window)


@pytest.mark.parametrize("architecture", ["mlp", "cnn", "lstm"])
def test_fit_is_deterministic_and_serves_its_own_predictions(dataset, architecture, tmp_path):
    forecaster, report, x_val = fit(dataset, architecture)
    assert 1 <= report.best_epoch <= report.epochs <= 3
    predicted = forecaster.predict_returns(x_val)
    assert predicted.shape == (60,) and np.isfinite(predicted).all()

    again, _, _ = fit(dataset, architecture)
    np.testing.assert_array_equal(again.predict_returns(x_val), predicted)

    # Serving: the forecast as of a validation day, from closes up to that day, equals the batch prediction.
    closes = dataset.closes
    as_of = dataset.validation.as_of[30]
    history = closes.loc[:as_of]
    forecast = forecaster.forecast(history)
    assert forecast.as_of_date == as_of.date()
    assert forecast.predicted_return == pytest.approx(
        predicted[30], abs=1e-8
    )  # float32 network: batch and single-row calls may differ in the last bits
    assert forecaster.forecast(history.iloc[-forecaster.min_history :]) == forecast
    assert forecast.lower_95 <= forecast.lower_80 <= forecast.predicted_close <= forecast.upper_80 <= forecast.upper_95

    loaded = Forecaster.load(forecaster.save(tmp_path / "bundle"))
    assert loaded.architecture == architecture and loaded.min_history == forecaster.min_history
    assert loaded.forecast(history) == forecast

    # A bundle saved before the normalized bands (format 1, no method) still serves its absolute bands.
    legacy_dir = forecaster.save(tmp_path / "legacy")
    bundle = json.loads((legacy_dir / BUNDLE_FILE).read_text())
    del bundle["conformal_method"], bundle["conformal_scale"]
    (legacy_dir / BUNDLE_FILE).write_text(json.dumps({**bundle, "format": 1}))
    legacy = Forecaster.load(legacy_dir).forecast(history)
    assert legacy.predicted_return == forecast.predicted_return
    assert legacy.upper_80 == pytest.approx(legacy.last_close * np.exp(legacy.predicted_return + 0.01), rel=1e-12)
    assert legacy.lower_95 == pytest.approx(legacy.last_close * np.exp(legacy.predicted_return - 0.02), rel=1e-12)

    started = time.perf_counter()
    for _ in range(10):
        loaded.forecast(history)
    assert (time.perf_counter() - started) / 10 < 0.1  # a few ms in practice; generous for a busy CI machine

    with pytest.raises(ValueError, match="needs"):
        forecaster.forecast(history.iloc[-(forecaster.min_history - 1) :])
