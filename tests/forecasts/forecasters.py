"""Stand-ins for the trained models and helpers to store the closes they read.

`FakeForecaster` honours the `training.ml` contract (`architecture`, `min_history`, `forecast(closes)`) without
MLflow or TensorFlow: a network predicts a fixed +1% log return, the naive model "tomorrow = today".
`install(settings)` makes the prediction service load these instead of asking the MLflow registry: it names
`installed_registry_load` as settings.FORECASTS_FORECASTER_LOADER.
"""

import datetime as dt
import math

from forecasts.calendar import is_trading_day
from forecasts.models import PriceBar
from forecasts.services import prediction
from training.ml.forecaster import PointForecast
from training.models import ModelVersion

NETWORK_RETURN = 0.01


class FakeForecaster:
    def __init__(self, *, architecture: str, min_history: int = 3) -> None:
        self.architecture = architecture
        self.min_history = min_history
        self.predicted_return = 0.0 if architecture == "naive" else NETWORK_RETURN

    def forecast(self, closes, *, alpha=None) -> PointForecast:
        last_close = float(closes["gold"].iloc[-1])
        predicted = last_close * math.exp(self.predicted_return)
        return PointForecast(
            as_of_date=closes.index[-1].date(),
            last_close=last_close,
            predicted_return=self.predicted_return,
            predicted_close=predicted,
            lower_80=predicted * 0.98,
            upper_80=predicted * 1.02,
            lower_95=predicted * 0.97,
            upper_95=predicted * 1.03,
        )


def load_fake_forecaster(model_uri: str, *, min_history: int = 3) -> FakeForecaster:
    """What `training.ml.registry.load_forecaster` returns, for a `models:/<name>/<version>` of a stored version."""
    name, version = model_uri.removeprefix("models:/").rsplit("/", 1)
    architecture = ModelVersion.objects.get(registered_name=name, version=int(version)).architecture
    return FakeForecaster(architecture=architecture, min_history=min_history)


class FakeRegistry:
    """Counts loads, so tests can see the per-process cache at work."""

    def __init__(self, *, min_history: int = 3) -> None:
        self.loaded: list[str] = []
        self.min_history = min_history

    def load(self, model_uri: str) -> FakeForecaster:
        self.loaded.append(model_uri)
        return load_fake_forecaster(model_uri, min_history=self.min_history)


# The registry the last `install` made; `installed_registry_load` loads from it.
installed: FakeRegistry | None = None


def installed_registry_load(model_uri: str) -> FakeForecaster:
    """A loader for settings.FORECASTS_FORECASTER_LOADER: the installed FakeRegistry's `load`."""
    if installed is None:
        raise RuntimeError("No FakeRegistry installed; call tests.forecasts.forecasters.install(settings) first.")
    return installed.load(model_uri)


def install(settings, *, min_history: int = 3) -> FakeRegistry:
    """Load forecasters from a new FakeRegistry; `settings` is pytest-django's fixture, which restores the loader."""
    global installed
    installed = FakeRegistry(min_history=min_history)
    prediction.forecasters_clear()
    settings.FORECASTS_FORECASTER_LOADER = f"{__name__}.installed_registry_load"
    return installed


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """XNYS sessions from `start` to `end`, inclusive."""
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return [day for day in days if is_trading_day(day)]


def gold_close(day: dt.date) -> float:
    """A deterministic, wiggly gold close for a day (the same in the database and the fake Yahoo)."""
    return round(2000.0 + 40.0 * math.sin(day.toordinal() / 7.0), 2)


def spx_close(day: dt.date) -> float:
    return round(5000.0 + 100.0 * math.cos(day.toordinal() / 11.0), 2)


def store_closes(days: list[dt.date], *, gold: bool = True, spx: bool = True) -> None:
    """Store GC=F and ^GSPC bars for the days, with `gold_close` and `spx_close` as closes."""
    bars = []
    for day in days:
        if gold:
            close = gold_close(day)
            bars.append(PriceBar(symbol="GC=F", date=day, close=close, source=PriceBar.Source.CSV))
        if spx:
            close = spx_close(day)
            bars.append(PriceBar(symbol="^GSPC", date=day, close=close, source=PriceBar.Source.CSV))
    PriceBar.objects.bulk_create(bars)


def yahoo_bars(days: list[dt.date], close_of) -> dict[str, tuple]:
    """{ISO day: (open, high, low, close, volume)} for `tests.forecasts.market_data.download_frame`."""
    bars = {}
    for day in days:
        close = close_of(day)
        bars[day.isoformat()] = (close, close + 5, close - 5, close, 1000.0)
    return bars
