"""The forecasting methods behind one interface: the registry, the baselines, the ensemble."""

import numpy as np
import pytest

from training.ml.dataset import Samples
from training.ml.kinds import KINDS, METHODS, NETWORK_KINDS, ReturnModel, method_class
from training.ml.kinds.baselines import DRIFT_WINDOWS, Drift, Naive
from training.ml.kinds.ensemble import Ensemble


def test_every_candidate_kind_is_one_registered_class():
    assert KINDS == ("naive", "drift", "mlp", "cnn", "lstm", "ensemble")
    assert NETWORK_KINDS == ("mlp", "cnn", "lstm")
    for kind, cls in METHODS.items():
        assert issubclass(cls, ReturnModel) and cls.kind == kind
        assert cls.tuning in ("none", "grid", "hyperopt", "derived")
    with pytest.raises(ValueError, match="unknown forecasting method"):
        method_class("transformer")


def test_naive_predicts_no_change(samples):
    naive = Naive()
    naive.fit(samples, np.arange(100), seed=0)
    np.testing.assert_array_equal(naive.predict(samples, np.arange(100, 110)), np.zeros(10))
    assert naive.predict_features(samples.values[-1:]) == 0.0


def test_drift_is_the_mean_return_of_its_trailing_window_of_the_fit_span(samples):
    rows = np.arange(300)
    drift = Drift({"window": 60})
    drift.fit(samples, rows, seed=0)
    assert drift.mean_return == pytest.approx(samples.returns[240:300].mean())
    np.testing.assert_array_equal(drift.predict(samples, np.arange(300, 305)), np.full(5, drift.mean_return))
    whole = Drift({"window": 0})
    whole.fit(samples, rows, seed=0)
    assert whole.mean_return == pytest.approx(samples.returns[:300].mean())


def test_drift_never_reads_a_target_outside_its_fit_span(samples):
    changed = Samples(**{**samples.__dict__, "returns": samples.returns.copy()})
    changed.returns[300:] += 1.0  # everything after the fit span
    a, b = Drift({"window": 0}), Drift({"window": 0})
    a.fit(samples, np.arange(300), seed=0)
    b.fit(changed, np.arange(300), seed=0)
    assert a.mean_return == b.mean_return


def test_drift_windows_are_its_grid_and_its_state_round_trips(samples, tmp_path):
    assert [c["window"] for c in Drift.grid()] == list(DRIFT_WINDOWS)
    drift = Drift({"window": 125})
    drift.fit(samples, np.arange(400), seed=0)
    loaded = Drift.load(drift.state(), tmp_path)
    assert (loaded.hyperparameters, loaded.mean_return) == ({"window": 125}, drift.mean_return)
    with pytest.raises(ValueError, match="not fitted"):
        Drift().predict(samples, np.arange(3))


def test_the_ensemble_is_the_equal_weight_mean_of_its_members(samples, tmp_path):
    a, b = Drift({"window": 20}), Drift({"window": 0})
    ensemble = Ensemble(members=[a, b])
    ensemble.fit(samples, np.arange(400), seed=0)
    rows = np.arange(400, 410)
    np.testing.assert_allclose(
        ensemble.predict(samples, rows), (a.predict(samples, rows) + b.predict(samples, rows)) / 2
    )
    assert ensemble.predict_features(samples.values[-1:]) == pytest.approx((a.mean_return + b.mean_return) / 2)
    assert ensemble.hyperparameters == {"members": ["drift", "drift"]}
    ensemble.save_files(tmp_path)
    loaded = Ensemble.load(ensemble.state(), tmp_path)
    np.testing.assert_allclose(loaded.predict(samples, rows), ensemble.predict(samples, rows))
