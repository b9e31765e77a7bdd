"""Tiny real Keras fits: each network trains deterministically, whatever its trainer fitted before, early-stops
on its own fit span only, and serves what it was trained to predict."""

import json

import numpy as np
import pytest

from tests.training.ml.series import random_walk_closes
from training.ml.dataset import Samples
from training.ml.features import FeatureConfig
from training.ml.forecaster import BUNDLE_FILE, Forecaster
from training.ml.kinds import method_class

pytestmark = pytest.mark.slow

LOOKBACK = 10
FIT_ROWS = np.arange(0, 380)
ROWS = np.arange(380, 440)


@pytest.fixture(scope="module")
def samples():
    return Samples.from_closes(random_walk_closes(500))


def network(kind, **kwargs):
    return method_class(kind)({"batch_size": 32}, lookback=LOOKBACK, max_epochs=4, patience=2, seed=1, **kwargs)


@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm"])
def test_a_fit_depends_only_on_its_configuration_and_data(samples, kind):
    from training.ml import networks

    first = network(kind)
    report = first.fit(samples, FIT_ROWS, seed=3)
    assert 1 <= report.best_epoch <= report.epochs <= 4
    predicted = first.predict(samples, ROWS)
    assert predicted.shape == (60,) and np.isfinite(predicted).all()

    other = network(kind)  # the same trainer fits something else in between
    other.fit(samples, np.arange(0, 300), seed=9)
    again = network(kind)
    again.fit(samples, FIT_ROWS, seed=3)
    np.testing.assert_array_equal(again.predict(samples, ROWS), predicted)
    np.testing.assert_array_equal(first.predict(samples, ROWS), predicted)  # its weights are its own

    networks._TRAINERS.clear()  # a fresh process (another worker) builds the same network
    fresh = network(kind)
    fresh.fit(samples, FIT_ROWS, seed=3)
    np.testing.assert_array_equal(fresh.predict(samples, ROWS), predicted)


def test_early_stopping_reads_only_the_end_of_the_fit_span(samples):
    changed = Samples(**{**samples.__dict__, "returns": samples.returns.copy()})
    changed.returns[FIT_ROWS[-1] + 1 :] *= -3.0  # every target after the fit span
    a, b = network("mlp"), network("mlp")
    a.fit(samples, FIT_ROWS, seed=3)
    b.fit(changed, FIT_ROWS, seed=3)
    np.testing.assert_array_equal(a.predict(samples, ROWS), b.predict(samples, ROWS))


def test_a_refit_runs_exactly_its_epochs_on_the_whole_span(samples):
    report = network("mlp", epochs=3).fit(samples, FIT_ROWS, seed=3)
    assert (report.epochs, report.best_epoch) == (3, 3)


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_the_served_forecast_is_the_batch_prediction_and_survives_a_bundle(samples, kind, tmp_path):
    model = network(kind, epochs=2)
    model.fit(samples, FIT_ROWS, seed=3)
    batch = model.predict(samples, ROWS)
    forecaster = Forecaster(model=model, feature_config=FeatureConfig(), quantiles={"80": 1.3, "95": 2.0})
    as_of = samples.as_of(ROWS)[30]
    history = samples.closes.loc[:as_of]
    forecast = forecaster.forecast(history)
    assert forecast.as_of_date == as_of.date()
    # float32 network: batch and single-row calls may differ in the last bits.
    assert forecast.predicted_return == pytest.approx(batch[30], abs=1e-8)
    assert forecaster.forecast(history.iloc[-forecaster.min_history :]) == forecast
    assert forecast.lower_95 <= forecast.lower_80 <= forecast.predicted_close <= forecast.upper_80 <= forecast.upper_95

    loaded = Forecaster.load(forecaster.save(tmp_path / "bundle"))
    assert loaded.kind == kind and loaded.min_history == forecaster.min_history
    assert loaded.forecast(history) == forecast
    with pytest.raises(ValueError, match="needs"):
        loaded.forecast(history.iloc[-(forecaster.min_history - 1) :])


def test_a_format_2_bundle_of_one_network_still_serves(samples, tmp_path):
    """Versions registered before format 3: architecture, lookback, sklearn-shaped scaler, target scale."""
    model = network("cnn", epochs=2)
    model.fit(samples, FIT_ROWS, seed=3)
    forecaster = Forecaster(model=model, feature_config=FeatureConfig(), quantiles={"80": 1.3, "95": 2.0})
    directory = forecaster.save(tmp_path / "old")
    quantiles = forecaster.quantiles
    bundle = json.loads((directory / BUNDLE_FILE).read_text())
    state = bundle["model"]
    old = {
        "format": 2,
        "architecture": "cnn",
        "feature_config": bundle["feature_config"],
        "features": bundle["features"],
        "lookback": LOOKBACK,
        "quantiles": quantiles,
        "conformal_method": "normalized",
        "conformal_scale": "gold_vol_20",
        "target_scale": state["target_scale"],
        "scaler": {"mean": state["mean"], "scale": state["scale"], "var": [], "n_samples_seen": 1},
    }
    (directory / BUNDLE_FILE).write_text(json.dumps(old))
    history = samples.closes.iloc[:450]
    assert Forecaster.load(directory).forecast(history) == forecaster.forecast(history)
