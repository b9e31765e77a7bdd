"""Adaptive bands live: the state each scored day moves, and the band of the next stored forecast."""

import datetime as dt

import numpy as np
import pytest

from forecasts.models import Forecast
from forecasts.services import prediction, scoring
from forecasts.services.bands import band_alpha, band_state
from tests.factories import ModelVersionFactory
from tests.forecasts.forecasters import gold_close, store_closes, trading_days
from training.ml.features import FeatureConfig
from training.ml.forecaster import Forecaster
from training.ml.intervals import Calibration, aci_quantile
from training.ml.kinds.baselines import Naive
from training.models import ModelVersion

pytestmark = pytest.mark.django_db

SCORES = np.arange(1, 20, dtype=float) / 4  # n = 19 calibration scores (multiples of σ_t)
GAMMA = 0.05


def adaptive_forecaster(model_uri: str) -> Forecaster:
    """The loader (FORECASTS_FORECASTER_LOADER) of the served forecaster: naive, adaptive bands over SCORES."""
    return Forecaster(
        model=Naive(), feature_config=FeatureConfig(), calibration=Calibration.from_scores(SCORES, gamma=GAMMA)
    )


@pytest.fixture
def adaptive_champion(settings):
    """A naive champion whose served forecaster has adaptive bands over SCORES (no MLflow)."""
    version = ModelVersionFactory(
        architecture=ModelVersion.Architecture.NAIVE,
        is_champion=True,
        intervals={"volatility": "realised", "gamma": GAMMA, "alpha0": {"80": 0.2, "95": 0.05}},
    )
    prediction.forecasters_clear()
    settings.FORECASTS_FORECASTER_LOADER = f"{__name__}.adaptive_forecaster"
    yield version
    prediction.forecasters_clear()


def live(version, day, *, inside_80: bool, inside_95: bool = True, scored: bool = True) -> Forecast:
    """A live forecast of `day` around its stored close (±1 / ±2), or 1.5 away from it when the 80% band missed."""
    close = gold_close(day)
    centre = close if inside_80 else close - 1.5 if inside_95 else close - 10
    return Forecast.objects.create(
        model_version=version,
        kind=Forecast.Kind.LIVE,
        target_date=day,
        as_of_date=day - dt.timedelta(days=1),
        last_close=centre,
        predicted_return=0.0,
        predicted_close=centre,
        lower_80=centre - 1,
        upper_80=centre + 1,
        lower_95=centre - 2,
        upper_95=centre + 2,
        actual_close=close if scored else None,
        inside_80=inside_80 if scored else None,
        inside_95=inside_95 if scored else None,
    )


def test_the_state_is_alpha0_moved_by_every_scored_live_miss(adaptive_champion):
    days = trading_days(dt.date(2025, 9, 2), dt.date(2025, 9, 8))
    for day, inside in zip(days, [False, False, False, True, True], strict=True):
        live(adaptive_champion, day, inside_80=inside)
    live(adaptive_champion, dt.date(2025, 9, 9), inside_80=False, scored=False)  # not scored yet: no move
    state = band_state(model_version=adaptive_champion)
    assert state["days"] == 5
    assert state["alpha"]["80"] == pytest.approx(0.2 + GAMMA * (3 * (0.2 - 1) + 2 * 0.2))
    assert state["alpha"]["95"] == pytest.approx(0.05 + GAMMA * 5 * 0.05)
    assert state["held"] == {"80": 2, "95": 5} and state["through"] == days[-1].isoformat()


def test_scoring_stores_the_state_and_the_next_band_widens_by_the_rule(adaptive_champion):
    days = trading_days(dt.date(2025, 7, 1), dt.date(2025, 9, 24))
    store_closes(days)
    nominal = prediction.forecast_next_day()[0]
    width_before = nominal.upper_80 - nominal.lower_80
    # Three misses of the 80% band, scored by the scoring step itself.
    for day in days[-4:-1]:
        live(adaptive_champion, day, inside_80=False, scored=False)
    assert scoring.forecasts_score() == 3
    adaptive_champion.refresh_from_db()
    state = adaptive_champion.intervals["state"]
    expected_alpha = 0.2 + 3 * GAMMA * (0.2 - 1)
    assert state["alpha"]["80"] == pytest.approx(expected_alpha) and state["days"] == 3
    assert band_alpha(model_version=adaptive_champion)["80"] == pytest.approx(expected_alpha)

    Forecast.objects.filter(pk=nominal.pk).delete()
    widened = prediction.forecast_next_day()[0]
    ratio = np.log(widened.upper_80 / widened.last_close) / np.log(nominal.upper_80 / nominal.last_close)
    assert ratio == pytest.approx(aci_quantile(SCORES, expected_alpha) / aci_quantile(SCORES, 0.2))
    assert widened.upper_80 - widened.lower_80 > width_before


def test_a_version_without_adaptive_bands_keeps_its_split_conformal_band():
    version = ModelVersionFactory(intervals={})
    assert band_state(model_version=version) is None and band_alpha(model_version=version) is None
