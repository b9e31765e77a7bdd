"""A gold history in three volatility phases and scored forecasts made on it, for the live band record's tests.

Gold's daily log return alternates ±m: m = 0.1% on the first 40 trading days of 2025 (calm), 0.5% on the next 40
(normal), 2% after (volatile); the S&P 500 is flat, so every day is a common day. `live_window` stores 20 scored live
forecasts as of days deep in each phase (7 calm, 6 normal, 7 volatile: the tercile cuts fall between the phases).
"""

import datetime as dt
import math

from forecasts.models import Forecast, PriceBar
from forecasts.services.scoring import forecast_apply_actual
from tests.factories import ForecastFactory
from tests.forecasts.forecasters import trading_days

DAYS = trading_days(dt.date(2025, 1, 2), dt.date(2025, 12, 31))
MAGNITUDE = [0.001] * 40 + [0.005] * 40 + [0.02] * (len(DAYS) - 80)
HALF_BAND = 10.0  # the champion's 80% band is ± $10 (95%: ± $20); naive's is ± $25 (± $50)
CALM, NORMAL, VOLATILE = range(25, 32), range(65, 71), range(105, 112)
# The close's miss of each as-of day: 15 leaves the 80% band (± 10) but not the 95% (± 20); 30 leaves both.
MISSES = {66: 15.0, 105: 15.0, 107: 15.0, 110: 30.0}


def store_phases() -> list[float]:
    """Store the gold and S&P 500 closes; the gold closes, one per DAYS."""
    gold, bars = [2000.0], []
    for i in range(1, len(DAYS)):
        gold.append(gold[-1] * math.exp(MAGNITUDE[i] * (1 if i % 2 else -1)))
    for day, close in zip(DAYS, gold, strict=True):
        bars.append(PriceBar(symbol="GC=F", date=day, close=close, source=PriceBar.Source.CSV))
        bars.append(PriceBar(symbol="^GSPC", date=day, close=5000.0, source=PriceBar.Source.CSV))
    PriceBar.objects.bulk_create(bars)
    return gold


def forecast(version, as_of: int, *, miss: float, half_band: float = HALF_BAND, kind="live") -> Forecast:
    """A scored forecast made at the close of DAYS[as_of] of the next day, predicting 2000 and off by `miss`."""
    row = ForecastFactory.build(
        model_version=version,
        kind=kind,
        as_of_date=DAYS[as_of],
        target_date=DAYS[as_of + 1],
        last_close=2000.0,
        predicted_close=2000.0,
        lower_80=2000.0 - half_band,
        upper_80=2000.0 + half_band,
        lower_95=2000.0 - 2 * half_band,
        upper_95=2000.0 + 2 * half_band,
    )
    forecast_apply_actual(forecast=row, actual_close=2000.0 + miss)
    row.save()
    return row


def live_window(champion, naive) -> None:
    """20 scored live days of the champion (16 held the 80% band, 19 the 95%), naive's on all but as-of 26, one
    older live day outside a 20-day window, and rows that never count (late, backtest, unscored)."""
    forecast(champion, 20, miss=30.0)  # the 21st newest: outside the last 20
    for i in [*CALM, *NORMAL, *VOLATILE]:
        forecast(champion, i, miss=MISSES.get(i, 0.0))
        if i != 26:  # naive did not forecast one calm day
            forecast(naive, i, miss=MISSES.get(i, 0.0), half_band=25.0)
    forecast(champion, 115, miss=50.0, kind="late")  # late: never live
    forecast(champion, 116, miss=50.0, kind="backtest")
    ForecastFactory(model_version=champion, as_of_date=DAYS[117], target_date=DAYS[118])  # not scored yet
