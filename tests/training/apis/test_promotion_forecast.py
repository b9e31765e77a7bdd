"""A promotion produces the new champion's forecast of the next trading day at once, so the latest-forecast API
never goes dark: the forecast is computed first (in-process without a broker, the embedded default; by a worker
with one) and commits together with the new champion, so no reader ever sees the champion without it."""

import datetime as dt
import logging

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.core.cache import cache
from rest_framework.test import APIClient

from forecasts import dispatch, tasks
from forecasts.calendar import next_trading_day
from forecasts.models import Forecast
from forecasts.selectors.forecasts import forecast_latest
from forecasts.services import prediction
from forecasts.services.prediction import forecast_next_day
from tests.factories import ModelVersionFactory, TrainingRunFactory
from tests.forecasts import forecasters
from tests.forecasts.forecasters import store_closes, trading_days
from training.exceptions import RegistryUnavailable
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
def fake_registry(settings):
    """Forecasters are tests.forecasts.forecasters fakes, not MLflow models; the process cache is emptied after."""
    yield forecasters.install(settings)
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


def test_the_new_champion_commits_together_with_its_forecast(versions, history, fake_registry):
    # Found by bench/soak.py: readers got 503 "no live forecast yet" between a promotion's commit and the
    # forecast it requested after the commit. Here the on-commit callbacks never run: the committed state alone.
    old, new = versions
    forecast_next_day()

    model_version_promote(model_version=new, reason="lower MAE")

    latest = forecast_latest()
    assert latest.champion == new
    assert latest.forecast is not None
    assert (latest.forecast.model_version, latest.forecast.target_date) == (new, next_trading_day(LAST_DAY))
    assert latest.naive is not None


class FakeWorker:
    """What `dispatch.forecast_next_day_values_send` sends to: a worker that computes the values (with the fake
    forecasters) when the result is waited for, or never answers."""

    def __init__(self, *, answers: bool) -> None:
        self.answers = answers
        self.asked: list[tuple[int, float]] = []

    def send(self, *, model_version_id: int):
        worker = self

        class Result:
            def get(self, timeout: float):
                worker.asked.append((model_version_id, timeout))
                if not worker.answers:
                    raise CeleryTimeoutError("The operation timed out.")
                return tasks.forecast_next_day_values(model_version_id)  # as the worker runs it

        return Result()


@pytest.fixture
def broker(settings, monkeypatch):
    """A broker is configured: predict_next_day messages are recorded, not sent."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(dispatch, "forecast_next_day_send", lambda: sent.append(()))
    return sent


def test_with_a_broker_the_promotion_waits_for_a_worker_to_compute_the_forecast(
    versions, history, fake_registry, broker, monkeypatch, django_capture_on_commit_callbacks
):
    old, new = versions
    worker = FakeWorker(answers=True)
    monkeypatch.setattr(dispatch, "forecast_next_day_values_send", worker.send)

    with django_capture_on_commit_callbacks() as callbacks:
        model_version_promote(model_version=new)
        latest = forecast_latest()  # what is committed, before anything runs after the commit

    assert worker.asked == [(new.pk, dispatch.PROMOTION_FORECAST_WAIT_SECONDS)]
    assert (latest.champion, latest.forecast.model_version) == (new, new)
    assert len(callbacks) == 1  # predict_next_day, sent after the commit, finds it stored


def test_with_no_worker_in_time_the_promotion_stands_and_its_forecast_follows(
    versions, history, fake_registry, broker, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    old, new = versions
    monkeypatch.setattr(dispatch, "forecast_next_day_values_send", FakeWorker(answers=False).send)

    with (
        caplog.at_level(logging.WARNING, logger="forecasts.dispatch"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        change = model_version_promote(model_version=new)

    assert change.to_version == new
    assert ModelVersion.objects.get(is_champion=True) == new
    assert not Forecast.objects.filter(model_version=new).exists()
    assert broker == [()]  # predict_next_day asked for, for when a worker takes it
    assert f"within {dispatch.PROMOTION_FORECAST_WAIT_SECONDS:g} s" in caplog.text


def test_a_version_that_has_its_forecast_is_promoted_without_asking_a_worker(
    versions, history, fake_registry, broker, monkeypatch
):
    # The soak's promotions back and forth between two versions keep working while the worker is down.
    old, new = versions
    forecast_next_day()
    prediction.forecast_values_store(values=prediction.forecast_next_day_values(model_version=new))
    worker = FakeWorker(answers=False)
    monkeypatch.setattr(dispatch, "forecast_next_day_values_send", worker.send)

    model_version_promote(model_version=new)

    assert worker.asked == []
    assert forecast_latest().forecast.model_version == new


def test_on_a_worker_the_forecast_is_computed_there(versions, history, fake_registry, broker, monkeypatch):
    # A training run's automatic promotion runs in a task on a worker: waiting there for another task could hold
    # every pool process at once, so the worker computes the forecast itself.
    class WorkerTask:
        request = type("Request", (), {"is_eager": False, "called_directly": False})()

    monkeypatch.setattr("celery.current_task", WorkerTask())
    worker = FakeWorker(answers=False)
    monkeypatch.setattr(dispatch, "forecast_next_day_values_send", worker.send)

    model_version_promote(model_version=versions[1], automatic=True, reason="run #1")

    assert worker.asked == []
    assert Forecast.objects.live().filter(model_version=versions[1]).count() == 1


def test_a_promotion_that_fails_stores_no_forecast(versions, history, fake_registry, monkeypatch):
    def unreachable(**kwargs):
        raise ConnectionRefusedError("MLflow refused the connection")

    old, new = versions
    monkeypatch.setattr("training.ml.registry.set_alias", unreachable)

    with pytest.raises(RegistryUnavailable):
        model_version_promote(model_version=new)

    assert ModelVersion.objects.get(is_champion=True) == old
    assert not Forecast.objects.exists()


def test_a_forecast_that_cannot_be_made_leaves_the_promotion_standing(
    versions, fake_registry, django_capture_on_commit_callbacks, caplog
):
    old, new = versions  # no prices stored: nothing to forecast from
    with (
        caplog.at_level(logging.WARNING, logger="forecasts.dispatch"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        change = model_version_promote(model_version=new)

    assert change.to_version == new
    assert ModelVersion.objects.get(is_champion=True) == new
    assert not Forecast.objects.exists()
    assert "import or fetch prices first" in caplog.text
