"""Settings of the real-worker test's worker process (`tests.integration.worker_app`): goldsite's base settings,
with model versions loaded as `tests.forecasts.forecasters.FakeForecaster`s instead of from the MLflow registry."""

from goldsite.settings.base import *  # noqa: F403

FORECASTS_FORECASTER_LOADER = "tests.forecasts.forecasters.load_fake_forecaster"
