"""The naive Forecaster end to end (no TensorFlow): normalized bands at serving time, bundles old and new."""

import json

import numpy as np
import pytest

from training.ml.features import FeatureConfig, build_features
from training.ml.forecaster import BUNDLE_FILE, Forecaster
from training.ml.kinds.baselines import Drift, Naive

QUANTILES = {"80": 1.3, "95": 2.1}  # multipliers of σ_t (normalized)
OLD_QUANTILES = {"80": 0.011, "95": 0.017}  # return-space half-widths (absolute)


def naive(**kwargs) -> Forecaster:
    return Forecaster(model=Naive(), feature_config=FeatureConfig(), **kwargs)


def test_normalized_bands_scale_with_the_20_day_volatility_of_the_as_of_day(closes):
    forecaster = naive(quantiles=QUANTILES)
    assert forecaster.conformal_method == "normalized" and forecaster.scale_column == "gold_vol_20"
    assert forecaster.min_history == FeatureConfig().warmup + 1  # σ_t needs 20 returns
    forecast = forecaster.forecast(closes)
    last = closes["gold"].iloc[-1]
    sigma = build_features(closes)["gold_vol_20"].iloc[-1]
    assert forecast.last_close == forecast.predicted_close == last
    assert forecast.lower_80 == pytest.approx(last * np.exp(-1.3 * sigma), rel=1e-12)
    assert forecast.upper_95 == pytest.approx(last * np.exp(2.1 * sigma), rel=1e-12)
    assert forecast.lower_95 <= forecast.lower_80 <= forecast.predicted_close <= forecast.upper_80 <= forecast.upper_95
    assert forecaster.forecast(closes.iloc[-forecaster.min_history :]) == forecast  # the tail is enough
    with pytest.raises(ValueError, match="needs"):
        forecaster.forecast(closes.iloc[-(forecaster.min_history - 1) :])


def test_calmer_days_get_narrower_bands(closes):
    forecaster = naive(quantiles=QUANTILES)
    sigma = build_features(closes)["gold_vol_20"]
    calm, wild = sigma.idxmin(), sigma.idxmax()
    width = {day: forecaster.forecast(closes.loc[:day]) for day in (calm, wild)}
    assert (width[calm].upper_80 - width[calm].lower_80) / width[calm].last_close < (
        width[wild].upper_80 - width[wild].lower_80
    ) / width[wild].last_close


def test_a_saved_bundle_records_the_method_and_loads_back(closes, tmp_path):
    forecaster = naive(quantiles=QUANTILES)
    directory = forecaster.save(tmp_path / "bundle")
    bundle = json.loads((directory / BUNDLE_FILE).read_text())
    assert (bundle["format"], bundle["kind"]) == (3, "naive")
    assert (bundle["conformal_method"], bundle["conformal_scale"]) == ("normalized", "gold_vol_20")
    loaded = Forecaster.load(directory)
    assert (loaded.conformal_method, loaded.scale_column, loaded.quantiles) == ("normalized", "gold_vol_20", QUANTILES)
    assert loaded.forecast(closes) == forecaster.forecast(closes)


def test_a_bundle_saved_before_the_normalized_bands_keeps_serving_its_absolute_bands(closes, tmp_path):
    """Format 1 (already registered versions): no method field, quantiles are return-space half-widths."""
    directory = tmp_path / "old"
    directory.mkdir()
    old_bundle = {
        "format": 1,
        "architecture": "naive",
        "feature_config": {"lags": 5, "ma_window": 5, "vol_windows": [5, 20]},
        "features": [],
        "lookback": 0,
        "quantiles": OLD_QUANTILES,
        "target_scale": 1.0,
        "scaler": None,
    }
    (directory / BUNDLE_FILE).write_text(json.dumps(old_bundle))
    loaded = Forecaster.load(directory)
    assert loaded.conformal_method == "absolute"
    assert loaded.min_history == 1  # as before: a naive absolute forecast needs the last close only
    last = closes["gold"].iloc[-1]
    for history in (closes, closes.iloc[-1:]):
        forecast = loaded.forecast(history)
        assert (forecast.lower_80, forecast.upper_80) == (last * np.exp(-0.011), last * np.exp(0.011))
        assert (forecast.lower_95, forecast.upper_95) == (last * np.exp(-0.017), last * np.exp(0.017))
    resaved = json.loads((loaded.save(tmp_path / "resaved") / BUNDLE_FILE).read_text())
    assert resaved["conformal_method"] == "absolute" and resaved["quantiles"] == OLD_QUANTILES


def test_unknown_methods_and_formats_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="conformal method"):
        naive(quantiles=QUANTILES, conformal_method="studentized")
    directory = naive(quantiles=QUANTILES).save(tmp_path / "bundle")
    bundle = json.loads((directory / BUNDLE_FILE).read_text())
    (directory / BUNDLE_FILE).write_text(json.dumps({**bundle, "format": 4}))
    with pytest.raises(ValueError, match="format"):
        Forecaster.load(directory)


def test_a_drift_forecast_adds_its_fitted_mean_return(closes, tmp_path):
    from training.ml.dataset import Samples

    drift = Drift({"window": 0})
    samples = Samples.from_closes(closes)
    drift.fit(samples, samples.all_targets, seed=0)
    forecaster = Forecaster(model=drift, feature_config=FeatureConfig(), quantiles=QUANTILES)
    forecast = forecaster.forecast(closes)
    last = closes["gold"].iloc[-1]
    assert forecast.predicted_return == drift.mean_return
    assert forecast.predicted_close == pytest.approx(last * np.exp(drift.mean_return), rel=1e-12)
    loaded = Forecaster.load(forecaster.save(tmp_path / "drift"))
    assert loaded.kind == "drift" and loaded.forecast(closes) == forecast


def test_a_non_finite_forecast_is_refused(closes):
    drift = Drift({"window": 0}, mean_return=float("inf"))
    forecaster = Forecaster(model=drift, feature_config=FeatureConfig(), quantiles=QUANTILES)
    with pytest.raises(ValueError, match="not finite"):
        forecaster.forecast(closes)
