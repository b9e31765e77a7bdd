import numpy as np
import pytest

from training.ml.dataset import MIN_TRAIN_SAMPLES, prepare_dataset, required_days
from training.ml.features import FeatureConfig, build_features

SPLIT = {"test_days": 100, "val_days": 80, "lookback": 10}


@pytest.fixture
def dataset(closes):
    return prepare_dataset(closes, **SPLIT)


def test_windows_have_the_requested_sizes(closes, dataset):
    warmup = FeatureConfig().warmup
    assert len(dataset.test) == 100
    assert len(dataset.validation) == 80
    assert len(dataset.train) == len(closes) - 100 - 80 - 1 - warmup


def test_windows_are_split_by_target_date(closes, dataset):
    """Test targets are the last test_days days, validation the val_days before, training everything earlier."""
    assert list(dataset.test.target_dates) == list(closes.index[-100:])
    assert list(dataset.validation.target_dates) == list(closes.index[-180:-100])
    assert dataset.train.target_dates[-1] == closes.index[-181]
    assert dataset.train.as_of[0] == closes.index[FeatureConfig().warmup]
    assert dataset.validation_start == closes.index[-180].date()
    assert dataset.test_start == closes.index[-100].date()
    assert dataset.data_start == closes.index[0].date() and dataset.data_end == closes.index[-1].date()


def test_each_target_is_the_next_trading_day_after_its_as_of_day(closes, dataset):
    for split in (dataset.train, dataset.validation, dataset.test):
        positions = closes.index.get_indexer(split.as_of)
        assert list(split.target_dates) == list(closes.index[positions + 1])
        np.testing.assert_array_equal(split.last_close, closes["gold"].to_numpy()[positions])
        np.testing.assert_array_equal(split.actual_close, closes["gold"].to_numpy()[positions + 1])
        np.testing.assert_allclose(split.returns, np.log(split.actual_close / split.last_close))
        assert (np.diff(split.rows) == 1).all()
        assert list(dataset.features.index[split.rows]) == list(split.as_of)


def test_scaler_and_target_scale_come_from_the_training_rows_only(closes, dataset):
    features = build_features(closes).to_numpy()
    np.testing.assert_allclose(dataset.scaler.mean_, features[dataset.train.rows].mean(axis=0))
    np.testing.assert_allclose(dataset.scaler.scale_, features[dataset.train.rows].std(axis=0))
    assert dataset.target_scale == pytest.approx(np.std(dataset.train.returns))


def test_changing_test_window_prices_changes_nothing_but_the_test_window(closes, dataset):
    changed = closes.copy()
    changed.iloc[-100:] *= np.random.default_rng(1).uniform(0.8, 1.2, size=(100, 2))
    other = prepare_dataset(changed, **SPLIT)
    np.testing.assert_array_equal(other.scaler.mean_, dataset.scaler.mean_)
    np.testing.assert_array_equal(other.scaler.scale_, dataset.scaler.scale_)
    assert other.target_scale == dataset.target_scale
    for name in ("train", "validation"):
        rows = getattr(dataset, name).rows
        np.testing.assert_array_equal(other.x_scaled[rows], dataset.x_scaled[rows])
        np.testing.assert_array_equal(getattr(other, name).returns, getattr(dataset, name).returns)
    assert not np.array_equal(other.test.returns, dataset.test.returns)


def test_sequence_windows_drop_only_the_first_training_samples(dataset):
    window = 10
    train = dataset.split("train", window=window)
    assert len(train) == len(dataset.train) - (window - 1)
    assert train.rows[0] == window - 1
    assert len(dataset.split("validation", window=window)) == len(dataset.validation)
    assert len(dataset.split("test", window=window)) == len(dataset.test)


def test_sequence_inputs_are_the_past_feature_vectors(dataset):
    validation = dataset.split("validation", window=10)
    x = dataset.inputs(validation, window=10)
    assert x.shape == (80, 10, dataset.x_scaled.shape[1])
    np.testing.assert_array_equal(x[5, -1], dataset.x_scaled[validation.rows[5]])
    np.testing.assert_array_equal(x[5, 0], dataset.x_scaled[validation.rows[5] - 9])
    assert dataset.inputs(validation).shape == (80, dataset.x_scaled.shape[1])


def test_not_enough_history_is_a_clear_error(closes):
    needed = required_days(feature_config=FeatureConfig(), lookback=10, val_days=80, test_days=100)
    assert needed == FeatureConfig().warmup + 10 + MIN_TRAIN_SAMPLES + 80 + 100
    prepare_dataset(closes.iloc[:needed], **SPLIT)
    with pytest.raises(ValueError, match="Not enough history"):
        prepare_dataset(closes.iloc[: needed - 1], **SPLIT)


def test_real_history_with_default_windows(real_closes):
    dataset = prepare_dataset(real_closes)
    assert (len(dataset.validation), len(dataset.test)) == (250, 250)
    assert len(dataset.split("train", window=20)) >= 700
    assert dataset.validation.target_dates[-1] < dataset.test.target_dates[0]
