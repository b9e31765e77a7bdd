"""Samples and the windows of the rolling-origin protocol: sizes, order, and who may see what."""

import numpy as np
import pytest

from training.ml.dataset import MIN_TRAIN_SAMPLES, Protocol, Samples, Windows
from training.ml.features import FeatureConfig, build_features

PROTOCOL = Protocol(test_days=100, selection_days=120, folds=4, retrain_every=30, lookback=10)


def test_a_sample_is_an_as_of_day_and_the_next_days_return(closes, samples):
    warmup = FeatureConfig().warmup
    assert samples.n_targets == len(closes) - warmup - 1
    assert len(samples.features) == samples.n_targets + 1  # the last day has features but no target yet
    rows = np.arange(samples.n_targets)
    positions = closes.index.get_indexer(samples.as_of(rows))
    assert list(samples.target_dates(rows)) == list(closes.index[positions + 1])
    np.testing.assert_array_equal(samples.last_close, closes["gold"].to_numpy()[positions])
    np.testing.assert_array_equal(samples.actual_close, closes["gold"].to_numpy()[positions + 1])
    np.testing.assert_allclose(samples.returns, np.log(samples.actual_close / samples.last_close))
    np.testing.assert_array_equal(samples.values, build_features(closes).to_numpy())


def test_test_window_is_the_last_test_days_targets_and_selection_the_days_before(closes, samples, windows):
    assert list(samples.target_dates(windows.test_rows)) == list(closes.index[-100:])
    assert list(samples.target_dates(windows.selection_rows)) == list(closes.index[-220:-100])


def test_folds_cut_the_selection_period_into_consecutive_expanding_windows(windows):
    folds = windows.folds
    assert len(folds) == 4
    np.testing.assert_array_equal(np.concatenate([f.rows for f in folds]), windows.selection_rows)
    for fold in folds:
        assert len(fold.rows) == 30
        # Fitted on every target before the fold, and nothing from the fold or after it.
        np.testing.assert_array_equal(fold.fit_rows, np.arange(fold.rows[0]))
    assert len(folds[0].fit_rows) >= MIN_TRAIN_SAMPLES


def test_walk_forward_refits_every_retrain_every_days_on_everything_before_the_block(windows):
    blocks = windows.walk_forward
    assert [len(b.rows) for b in blocks] == [30, 30, 30, 10]
    np.testing.assert_array_equal(np.concatenate([b.rows for b in blocks]), windows.test_rows)
    for block in blocks:
        np.testing.assert_array_equal(block.fit_rows, np.arange(block.rows[0]))


def test_the_served_model_is_fitted_on_every_target(samples, closes):
    assert samples.target_date(samples.all_targets[-1]) == closes.index[-1].date()


def test_too_little_history_names_what_is_needed(closes):
    with pytest.raises(ValueError, match="Not enough history"):
        Windows.for_samples(Samples.from_closes(closes.iloc[:200]), PROTOCOL)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"folds": 3}, "at least 4 folds"), ({"test_days": 0}, "positive"), ({"selection_days": 30}, "too few")],
)
def test_a_protocol_that_cannot_be_evaluated_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Protocol(**kwargs)


def test_hyperparameters_are_reusable_only_under_the_same_window_settings():
    base = Protocol()
    assert Protocol(retrain_every=63).window_settings() == base.window_settings()
    assert Protocol(test_days=20).window_settings() != base.window_settings()
    assert Protocol(**base.to_dict()) == base
