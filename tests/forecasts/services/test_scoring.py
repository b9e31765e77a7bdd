"""Scoring and storing backtests: no non-finite number is ever written as a forecast, a band or a score."""

import datetime as dt
import logging
import math

import pytest

from forecasts.exceptions import ForecastError
from forecasts.models import Forecast
from forecasts.services.scoring import forecast_backtest_store, forecasts_score
from tests.factories import ForecastFactory, ModelVersionFactory, PriceBarFactory

pytestmark = pytest.mark.django_db


def backtest_row(day: str, **overrides) -> dict:
    row = {
        "target_date": day,
        "as_of_date": (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat(),
        "last_close": 3700.0,
        "predicted_return": 0.001,
        "predicted_close": 3703.7,
        "lower_80": 3660.0,
        "upper_80": 3740.0,
        "lower_95": 3640.0,
        "upper_95": 3760.0,
        "actual_close": 3710.0,
    }
    return {**row, **overrides}


class TestBacktestStore:
    def test_stores_scored_backtest_forecasts(self):
        version = ModelVersionFactory()

        stored = forecast_backtest_store(
            model_version=version, rows=[backtest_row("2025-09-23"), backtest_row("2025-09-24")]
        )

        assert stored == 2
        forecast = Forecast.objects.get(target_date=dt.date(2025, 9, 24))
        assert (forecast.kind, forecast.actual_close, forecast.inside_80) == ("backtest", 3710.0, True)
        assert forecast.error == pytest.approx(-6.3)

    @pytest.mark.parametrize("field", ["predicted_close", "upper_95", "predicted_return", "last_close", "actual_close"])
    @pytest.mark.parametrize("value", [math.inf, math.nan])
    def test_a_non_finite_value_refuses_the_whole_backtest_naming_the_day(self, field, value):
        version = ModelVersionFactory()
        rows = [backtest_row("2025-09-23"), backtest_row("2025-09-24", **{field: value}), backtest_row("2025-09-25")]

        with pytest.raises(
            ForecastError, match=rf"backtest forecast of 2025-09-24: {field} {value}; nothing was stored"
        ):
            forecast_backtest_store(model_version=version, rows=rows)

        assert not Forecast.objects.exists()


class TestScoring:
    def test_scores_forecasts_whose_day_has_a_close(self):
        forecast = ForecastFactory(target_date=dt.date(2025, 9, 25), predicted_close=3700.0)
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 25), close=3750.0)

        assert forecasts_score() == 1

        forecast.refresh_from_db()
        assert (forecast.actual_close, forecast.error, forecast.inside_80) == (3750.0, -50.0, False)

    def test_a_forecast_whose_score_would_not_be_finite_is_left_unscored_and_logged(self, caplog):
        version = ModelVersionFactory()
        corrupt = ForecastFactory(
            model_version=version,
            target_date=dt.date(2025, 9, 24),
            predicted_close=math.inf,
            upper_80=math.inf,
            upper_95=math.inf,
        )
        sound = ForecastFactory(model_version=version, target_date=dt.date(2025, 9, 25))
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 24), close=3750.0)
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 25), close=3750.0)

        with caplog.at_level(logging.ERROR, logger="forecasts.services.scoring"):
            assert forecasts_score() == 1

        corrupt.refresh_from_db()
        sound.refresh_from_db()
        assert (corrupt.actual_close, corrupt.error, corrupt.scored_at) == (None, None, None)
        assert sound.actual_close == 3750.0
        assert "2025-09-24" in caplog.text and "error inf" in caplog.text

    def test_an_infinite_stored_close_scores_nothing(self, caplog):
        forecast = ForecastFactory(target_date=dt.date(2025, 9, 25))
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 25), close=math.inf, high=math.inf)

        with caplog.at_level(logging.ERROR, logger="forecasts.services.scoring"):
            assert forecasts_score() == 0

        forecast.refresh_from_db()
        assert forecast.actual_close is None
        assert "actual_close inf" in caplog.text
