"""The one rolling-origin loop: what each fit may see, what the folds score, how refits are sized."""

import numpy as np
import pytest

from training.ml.dataset import Protocol
from training.ml.evaluation import OutOfSample, cv_metrics, refit_epochs, rolling_origin
from training.ml.evidence import diebold_mariano
from training.ml.kinds import FitReport, ReturnModel
from training.ml.kinds.baselines import Drift

PROTOCOL = Protocol(test_days=100, selection_days=120, folds=4, retrain_every=30, lookback=10)


class Spy(ReturnModel):
    """Records the rows it was fitted on and predicts the last fitted target (a method that could cheat)."""

    kind = "spy"
    label = "spy"
    fitted: list[np.ndarray] = []

    def fit(self, samples, rows, *, seed):
        Spy.fitted.append(rows.copy())
        self.last = samples.returns[rows[-1]]
        return FitReport(seconds=0.0, epochs=3, best_epoch=len(Spy.fitted))

    def predict(self, samples, rows):
        return np.full(len(rows), self.last)

    def predict_features(self, values):
        return self.last


def test_every_fold_is_forecast_by_a_fit_that_ends_before_it(samples, windows):
    Spy.fitted = []
    cv = rolling_origin(Spy, samples, windows.folds, seed=0)
    np.testing.assert_array_equal(cv.rows, windows.selection_rows)
    for fold, fitted in zip(windows.folds, Spy.fitted, strict=True):
        assert fitted.max() < fold.rows.min()
    assert list(np.unique(cv.fold)) == [0, 1, 2, 3]
    assert cv.best_epochs == [1, 2, 3, 4]


def test_the_walk_forward_is_the_same_loop_over_the_test_blocks(samples, windows):
    Spy.fitted = []
    walk = rolling_origin(Spy, samples, windows.walk_forward, seed=0)
    np.testing.assert_array_equal(walk.rows, windows.test_rows)
    assert [len(f) for f in Spy.fitted] == [b.rows[0] for b in windows.walk_forward]


def test_cv_metrics_pool_every_fold_and_test_against_naive(samples, windows):
    cv = rolling_origin(lambda: Drift({"window": 60}), samples, windows.folds, seed=0)
    metrics = cv_metrics(samples, cv)
    errors = cv.abs_errors(samples)
    naive = samples.price_errors(cv.rows, np.zeros(len(cv.rows)))
    assert metrics["mae"] == pytest.approx(errors.mean())
    assert metrics["rmae"] == pytest.approx(errors.mean() / naive.mean())
    assert metrics["n"] == 120 and len(metrics["folds"]) == 4
    assert sum(f["mae"] * f["n"] for f in metrics["folds"]) / 120 == pytest.approx(metrics["mae"])
    dm = diebold_mariano(errors, naive)
    assert (metrics["p_value"], metrics["dm_lag"]) == (dm.p_value, dm.lag)
    first = metrics["folds"][0]
    assert first["start"] == samples.target_date(int(windows.folds[0].rows[0])).isoformat()


def test_refits_run_the_median_early_stopping_epoch():
    assert refit_epochs([3, 10, 4, 7, 50]) == 7
    assert refit_epochs([2, 3]) == 2  # round half to even of 2.5
    assert refit_epochs([]) is None


def test_an_ensembles_forecasts_are_the_mean_of_its_members(samples, windows):
    parts = [rolling_origin(lambda w=w: Drift({"window": w}), samples, windows.folds, seed=0) for w in (20, 250)]
    mean = OutOfSample.mean(parts)
    np.testing.assert_allclose(mean.predicted, (parts[0].predicted + parts[1].predicted) / 2)
    assert OutOfSample.from_dict(mean.to_dict()).predicted.tolist() == mean.predicted.tolist()
