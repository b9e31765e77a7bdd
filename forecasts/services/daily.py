"""The on-demand next-day step of `manage.py predict_next_day`: forecast, then score what can be scored."""

from dataclasses import dataclass

from forecasts.models import Forecast
from forecasts.selectors.live_record import MissingBars, live_forecast_missing_bars
from forecasts.services.prediction import forecast_next_day
from forecasts.services.scoring import forecasts_score


@dataclass(frozen=True)
class NextDayOutcome:
    forecasts: list[Forecast]  # the champion's and naive's forecast of the next trading day
    missing: MissingBars | None  # the bar a live forecast of the next day still waits for
    scored: int  # forecasts scored against closes already stored (history imported after the fact)


def next_day_forecast_and_score() -> NextDayOutcome:
    """Store the next trading day's forecasts (raises ForecastError when they cannot be made), then score every
    forecast whose close is stored."""
    forecasts = forecast_next_day()
    return NextDayOutcome(forecasts=forecasts, missing=live_forecast_missing_bars(), scored=forecasts_score())
