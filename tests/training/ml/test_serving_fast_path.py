"""The cheap serving path computes exactly what the straightforward pandas/sklearn code computed.

`build_features` now fills one numpy matrix and wraps it in a DataFrame once, and `Forecaster.forecast` scales
with the fitted arrays and reads σ_t from numpy values. The reference below is the code as it was before that
change; features, network inputs and forecasts must be the same bits, on real and generated closes.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import StandardScaler

from tests.training.ml.series import random_walk_closes
from training.ml.conformal import band
from training.ml.features import FeatureConfig, build_features, feature_names
from training.ml.forecaster import Forecaster, PointForecast
from training.ml.kinds.networks import MLP

CONFIGS = [FeatureConfig(), FeatureConfig(lags=3, ma_window=10, vol_windows=(5, 10, 30))]


def reference_features(closes: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """build_features as it was: NaN-padded columns, column_stack, a DataFrame, then the warm-up dropped."""

    def log_returns(prices):
        returns = np.full(prices.shape, np.nan)
        returns[1:] = np.log(prices[1:] / prices[:-1])
        return returns

    def lagged(values, lag):
        out = np.full(values.shape, np.nan)
        if lag < len(values):
            out[lag:] = values[: len(values) - lag]
        return out

    def window_stat(values, window, stat):
        out = np.full(values.shape, np.nan)
        if len(values) >= window:
            out[window - 1 :] = stat(sliding_window_view(values, window), axis=-1)
        return out

    gold = closes["gold"].to_numpy(dtype=float)
    spx = closes["spx"].to_numpy(dtype=float)
    gold_ret, spx_ret = log_returns(gold), log_returns(spx)
    columns = [lagged(gold_ret, k - 1) for k in range(1, config.lags + 1)]
    columns += [lagged(spx_ret, k - 1) for k in range(1, config.lags + 1)]
    for prices in (gold, spx):
        columns.append(prices / window_stat(prices, config.ma_window, np.mean) - 1.0)
    for window in config.vol_windows:
        columns.append(window_stat(gold_ret, window, lambda v, axis: np.std(v, axis=axis, ddof=1)))
    features = pd.DataFrame(np.column_stack(columns), index=closes.index, columns=feature_names(config))
    return features.iloc[config.warmup :]


class FakeNetwork:
    """An MLP's served call replaced by a fixed float32 linear map (no TensorFlow); records its inputs."""

    def __init__(self, n_features: int) -> None:
        self.weights = np.random.default_rng(1).normal(size=n_features).astype(np.float32)
        self.inputs: list[np.ndarray] = []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.inputs.append(x)
        return (x @ self.weights).astype(np.float64)


def reference_forecast(forecaster: Forecaster, closes: pd.DataFrame, scaler: StandardScaler) -> PointForecast:
    """Forecaster.forecast the straightforward way: pandas indexing, StandardScaler.transform, σ_t as the sample
    std of the last 20 gold log returns."""
    last_close = float(closes["gold"].iloc[-1])
    features = reference_features(closes.iloc[-forecaster.min_history :], forecaster.feature_config)
    x = scaler.transform(features.to_numpy(dtype=float)[-1:]).astype(np.float32)
    network = forecaster.model.served
    predicted_return = float((x @ network.weights).astype(np.float64)[0] * forecaster.model.target_scale)
    gold = closes["gold"].to_numpy(dtype=float)
    scale = float(np.std(np.log(gold[1:] / gold[:-1])[-20:], ddof=1))
    lower_80, upper_80 = band(last_close, predicted_return, forecaster.quantiles["80"], scale)
    lower_95, upper_95 = band(last_close, predicted_return, forecaster.quantiles["95"], scale)
    return PointForecast(
        as_of_date=pd.Timestamp(closes.index[-1]).date(),
        last_close=last_close,
        predicted_return=predicted_return,
        predicted_close=float(last_close * np.exp(predicted_return)),
        lower_80=float(lower_80),
        upper_80=float(upper_80),
        lower_95=float(lower_95),
        upper_95=float(upper_95),
    )


def use_scaler(model: MLP, scaler: StandardScaler) -> None:
    model.mean, model.scale = scaler.mean_, scaler.scale_


def fake_network_forecaster(closes: pd.DataFrame, config: FeatureConfig) -> tuple[Forecaster, StandardScaler]:
    """An MLP forecaster whose network is a `FakeNetwork`, standardised like sklearn's StandardScaler."""
    features = build_features(closes, config).to_numpy()
    scaler = StandardScaler().fit(features[: len(features) // 2])
    model = MLP()
    use_scaler(model, scaler)
    model.target_scale = 0.0123
    model.served = FakeNetwork(features.shape[1])
    return Forecaster(model=model, feature_config=config, quantiles={"80": 1.3, "95": 2.1}), scaler


def check_identical(closes: pd.DataFrame, config: FeatureConfig) -> None:
    pd.testing.assert_frame_equal(build_features(closes, config), reference_features(closes, config), check_exact=True)
    forecaster, scaler = fake_network_forecaster(closes, config)
    for end in range(forecaster.min_history, len(closes) + 1, 37):
        history = closes.iloc[:end]
        tail = history.iloc[-forecaster.min_history :]
        pd.testing.assert_frame_equal(forecaster.features(history), reference_features(tail, config), check_exact=True)
        expected = scaler.transform(reference_features(tail, config).to_numpy()).astype(np.float32)
        forecast = forecaster.forecast(history)
        inputs = forecaster.model.served.inputs[-1]
        assert inputs.dtype == np.float32 and np.array_equal(inputs, expected)
        assert forecast == reference_forecast(forecaster, history, scaler)


@pytest.mark.parametrize("config", CONFIGS)
def test_fast_path_is_bit_identical_on_real_closes(real_closes, config):
    check_identical(real_closes, config)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("seed", [0, 7])
def test_fast_path_is_bit_identical_on_generated_closes(config, seed):
    check_identical(random_walk_closes(400, seed=seed), config)


def test_extra_and_reordered_columns_give_the_same_features(closes):
    """The one-conversion path (columns exactly gold, spx) and the per-column path agree."""
    expected = build_features(closes)
    reordered = closes[["spx", "gold"]].assign(volume=1)
    pd.testing.assert_frame_equal(build_features(reordered), expected, check_exact=True)


def test_short_inputs_give_empty_features_with_the_columns(closes):
    config = FeatureConfig()
    features = build_features(closes.iloc[: config.warmup], config)
    assert features.empty and list(features.columns) == feature_names(config)
    pd.testing.assert_frame_equal(features, reference_features(closes.iloc[: config.warmup], config))


def test_feature_frames_do_not_share_their_columns(closes):
    """Columns are built once per config; renaming one result's columns must not touch another's."""
    first, second = build_features(closes), build_features(closes)
    first.columns.name = "feature"
    assert second.columns.name is None and build_features(closes).columns.name is None


def test_a_reassigned_scaler_is_used(closes):
    forecaster, _ = fake_network_forecaster(closes, FeatureConfig())
    scaler = StandardScaler().fit(build_features(closes).to_numpy()[-100:])
    use_scaler(forecaster.model, scaler)
    assert forecaster.forecast(closes) == reference_forecast(forecaster, closes, scaler)
