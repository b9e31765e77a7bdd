"""Forecasters end to end without TensorFlow: σ_t-scaled bands at serving time, adaptive bands at a live state,
bundles old and new."""

import json

import numpy as np
import pytest

from training.ml.dataset import Samples
from training.ml.features import FeatureConfig
from training.ml.forecaster import BUNDLE_FILE, Forecaster
from training.ml.intervals import Calibration
from training.ml.kinds.baselines import Drift, Naive
from training.ml.volatility import EWMA, GARCH, Realised, gold_log_returns

QUANTILES = {"80": 1.3, "95": 2.1}  # multipliers of σ_t
OLD_QUANTILES = {"80": 0.011, "95": 0.017}  # return-space half-widths (format 1, absolute)


def naive(**kwargs) -> Forecaster:
    return Forecaster(model=Naive(), feature_config=FeatureConfig(), **kwargs)


def realised_sigma(closes, window=20):
    return np.std(gold_log_returns(closes["gold"].to_numpy())[-window:], ddof=1)


def test_bands_scale_with_the_volatility_known_at_the_as_of_close(closes):
    forecaster = naive(quantiles=QUANTILES)
    assert forecaster.volatility.kind == "realised" and forecaster.min_history == 21  # σ_t needs 20 returns
    forecast = forecaster.forecast(closes)
    last = closes["gold"].iloc[-1]
    sigma = realised_sigma(closes)
    assert forecast.last_close == forecast.predicted_close == last
    assert forecast.lower_80 == pytest.approx(last * np.exp(-1.3 * sigma), rel=1e-12)
    assert forecast.upper_95 == pytest.approx(last * np.exp(2.1 * sigma), rel=1e-12)
    assert forecast.lower_95 <= forecast.lower_80 <= forecast.predicted_close <= forecast.upper_80 <= forecast.upper_95
    assert forecaster.forecast(closes.iloc[-forecaster.min_history :]) == forecast  # the tail is enough
    with pytest.raises(ValueError, match="needs"):
        forecaster.forecast(closes.iloc[-(forecaster.min_history - 1) :])


@pytest.mark.parametrize("volatility", [EWMA(), GARCH(omega=2e-6, alpha=0.05, beta=0.9)])
def test_every_volatility_model_serves_from_a_bounded_tail_the_sigma_it_trained_with(closes, volatility):
    forecaster = naive(quantiles=QUANTILES, volatility=volatility)
    assert forecaster.min_history == volatility.window + 1
    samples = Samples.from_closes(closes)
    position = len(closes) - 1
    sigma = volatility.sigma(samples.gold_returns, np.array([position]))[0]
    forecast = forecaster.forecast(closes)
    assert forecast.upper_80 == pytest.approx(forecast.last_close * np.exp(1.3 * sigma), rel=1e-12)
    assert forecaster.forecast(closes.iloc[-forecaster.min_history :]) == forecast


def test_calmer_days_get_narrower_bands(closes):
    forecaster = naive(quantiles=QUANTILES)
    returns = gold_log_returns(closes["gold"].to_numpy())
    sigma = np.array([np.std(returns[p - 19 : p + 1], ddof=1) for p in range(21, len(closes))])
    calm, wild = closes.index[21 + sigma.argmin()], closes.index[21 + sigma.argmax()]
    width = {day: forecaster.forecast(closes.loc[:day]) for day in (calm, wild)}
    assert (width[calm].upper_80 - width[calm].lower_80) / width[calm].last_close < (
        width[wild].upper_80 - width[wild].lower_80
    ) / width[wild].last_close


def test_adaptive_bands_use_the_live_state(closes):
    scores = np.arange(1, 20, dtype=float)  # n = 19: the 80% band is the 16th smallest at α = 0.2
    forecaster = naive(calibration=Calibration.from_scores(scores, gamma=0.01))
    assert forecaster.quantiles == {"80": 16.0, "95": 19.0}
    nominal = forecaster.forecast(closes)
    assert forecaster.forecast(closes, alpha={"80": 0.2, "95": 0.05}) == nominal
    wider = forecaster.forecast(closes, alpha={"80": 0.1, "95": 0.05})  # after misses: rank 18
    sigma = realised_sigma(closes)
    assert wider.upper_80 == pytest.approx(wider.last_close * np.exp(18.0 * sigma), rel=1e-12)


def test_a_saved_bundle_records_its_bands_and_loads_back(closes, tmp_path):
    drift = Drift({"window": 0})
    samples = Samples.from_closes(closes)
    drift.fit(samples, samples.all_targets, seed=0)
    calibration = Calibration.from_scores(np.linspace(0.1, 3, 50), gamma=0.005, alpha0={"80": 0.18, "95": 0.04})
    forecaster = Forecaster(model=drift, feature_config=FeatureConfig(), volatility=EWMA(), calibration=calibration)
    directory = forecaster.save(tmp_path / "bundle")
    bundle = json.loads((directory / BUNDLE_FILE).read_text())
    assert (bundle["format"], bundle["kind"], bundle["volatility"]["kind"]) == (4, "drift", "ewma")
    loaded = Forecaster.load(directory)
    assert loaded.calibration.gamma == 0.005 and loaded.calibration.alpha0 == {"80": 0.18, "95": 0.04}
    for alpha in (None, {"80": 0.15, "95": 0.03}):
        assert loaded.forecast(closes, alpha=alpha) == forecaster.forecast(closes, alpha=alpha)
    assert loaded.forecast(closes).predicted_return == drift.mean_return


def test_bundles_before_format_4_keep_serving_their_bands(closes, tmp_path):
    """Format 1 (absolute half-widths), formats 2-3 (σ = the gold_vol_<w> window's realised volatility)."""
    directory = tmp_path / "old"
    directory.mkdir()
    old = {
        "format": 1,
        "architecture": "naive",
        "feature_config": {"lags": 5, "ma_window": 5, "vol_windows": [5, 20]},
        "features": [],
        "lookback": 0,
        "quantiles": OLD_QUANTILES,
        "target_scale": 1.0,
        "scaler": None,
    }
    (directory / BUNDLE_FILE).write_text(json.dumps(old))
    loaded = Forecaster.load(directory)
    assert loaded.volatility.kind == "constant" and loaded.min_history == 1  # the last close only, as before
    last = closes["gold"].iloc[-1]
    for history in (closes, closes.iloc[-1:]):
        forecast = loaded.forecast(history)
        assert (forecast.lower_80, forecast.upper_80) == (last * np.exp(-0.011), last * np.exp(0.011))
        assert (forecast.lower_95, forecast.upper_95) == (last * np.exp(-0.017), last * np.exp(0.017))

    (directory / BUNDLE_FILE).write_text(
        json.dumps(
            {
                **old,
                "format": 2,
                "quantiles": QUANTILES,
                "conformal_method": "normalized",
                "conformal_scale": "gold_vol_5",
            }
        )
    )
    normalized = Forecaster.load(directory)
    assert isinstance(normalized.volatility, Realised) and normalized.volatility.window == 5
    forecast = normalized.forecast(closes)
    assert forecast.upper_80 == pytest.approx(last * np.exp(1.3 * realised_sigma(closes, 5)), rel=1e-12)


def test_unknown_formats_and_non_finite_forecasts_are_refused(closes, tmp_path):
    directory = naive(quantiles=QUANTILES).save(tmp_path / "bundle")
    bundle = json.loads((directory / BUNDLE_FILE).read_text())
    (directory / BUNDLE_FILE).write_text(json.dumps({**bundle, "format": 5}))
    with pytest.raises(ValueError, match="format"):
        Forecaster.load(directory)
    broken = Forecaster(model=Drift({"window": 0}, mean_return=float("inf")), feature_config=FeatureConfig())
    with pytest.raises(ValueError, match="not finite"):
        broken.forecast(closes)
