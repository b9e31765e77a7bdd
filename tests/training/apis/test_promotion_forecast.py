"""A promotion produces the new champion's forecast of the next trading day at once, so the latest-forecast API
never goes dark: in-process without a broker (the embedded default), through `predict_next_day` with one."""

import datetime as dt
import logging

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from forecasts.calendar import next_trading_day
from forecasts.models import Forecast
from forecasts.services import prediction
from forecasts.services.prediction import forecast_next_day
from tests.factories import ModelVersionFactory, TrainingRunFactory
from tests.forecasts import forecasters
from tests.forecasts.forecasters import store_closes, trading_days
from training.models import ModelVersion
from training.services.promotion import model_version_promote

pytestmark = pytest.mark.django_db

LATEST = "/api/forecasts/latest/"
LAST_DAY = dt.date(2025, 9, 24)  # a Wednesday: the next trading day is Thursday 25 September


@pytest.fixture
def versions(aliases):
    """The current MLP champion with its live forecast, and a CNN of the same run, never promoted."""
    run = TrainingRunFactory()
    ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, training_run=run)
    old = ModelVersionFactory(architecture=ModelVersion.Architecture.MLP, training_run=run, is_champion=True)
    new = ModelVersionFactory(architecture=ModelVersion.Architecture.CNN, training_run=run)
    return old, new


@pytest.fixture
def fake_registry(monkeypatch):
    """Forecasters are tests.forecasts.forecasters fakes, not MLflow models; the process cache is emptied after."""
    yield forecasters.install(monkeypatch)
    prediction.forecasters_clear()


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def history():
    store_closes(trading_days(LAST_DAY - dt.timedelta(days=30), LAST_DAY))


@pytest.fixture
def latest_cached(settings):
    settings.API_LATEST_CACHE_SECONDS = 5
    cache.clear()
    yield
    cache.clear()


def test_after_a_promotion_the_latest_forecast_is_the_new_champions(
    api, versions, history, fake_registry, latest_cached, django_capture_on_commit_callbacks
):
    old, new = versions
    forecast_next_day()
    assert api.get(LATEST).json()["champion"]["id"] == old.pk  # and that answer is in the cache now

    with django_capture_on_commit_callbacks(execute=True):
        promoted = api.post(f"/api/models/{new.pk}/promote/", {"reason": "lower MAE"}, format="json")
    latest = api.get(LATEST)

    assert promoted.status_code == 200
    assert latest.status_code == 200
    body = latest.json()
    assert (body["champion"]["id"], body["forecast"]["model_version"]) == (new.pk, new.pk)
    assert body["target_date"] == next_trading_day(LAST_DAY).isoformat()
    assert body["naive"] is not None


@pytest.mark.parametrize("promote_from", ["service", "admin", "page"])
def test_every_promotion_stores_the_forecast_in_the_embedded_default(
    request, versions, history, fake_registry, django_capture_on_commit_callbacks, promote_from
):
    old, new = versions
    with django_capture_on_commit_callbacks(execute=True):
        if promote_from == "service":  # what a training run's automatic promotion calls
            model_version_promote(model_version=new, automatic=True, reason="run #1")
        elif promote_from == "admin":
            request.getfixturevalue("admin_client").post(
                "/admin/training/modelversion/",
                {"action": "promote_to_champion", "_selected_action": [new.pk], "confirmed": "yes", "reason": "admin"},
            )
        else:
            request.getfixturevalue("admin_client").post(f"/models/{new.pk}/promote/", {"reason": "page"})

    live = Forecast.objects.live().filter(model_version=new, target_date=next_trading_day(LAST_DAY))
    assert live.count() == 1


def test_nothing_is_forecast_before_the_promotion_commits(versions, history, fake_registry):
    # The test's transaction never commits here: had the promotion failed later, no forecast would exist.
    model_version_promote(model_version=versions[1])
    assert not Forecast.objects.exists()


def test_a_forecast_that_cannot_be_made_leaves_the_promotion_standing(
    versions, fake_registry, django_capture_on_commit_callbacks, caplog
):
    old, new = versions  # no prices stored: nothing to forecast from
    with caplog.at_level(logging.WARNING, logger="forecasts.dispatch"), django_capture_on_commit_callbacks(
        execute=True
    ):
        change = model_version_promote(model_version=new)

    assert change.to_version == new
    assert ModelVersion.objects.get(is_champion=True) == new
    assert not Forecast.objects.exists()
    assert "import or fetch prices first" in caplog.text
