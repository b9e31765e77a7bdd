"""forecasts.dispatch: the one module that hands forecasts' work to Celery, or does it here without a broker."""

import datetime as dt
from pathlib import Path

import pytest

from forecasts import dispatch, tasks
from forecasts.models import Forecast
from tests.forecasts.forecasters import store_closes, trading_days

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def sent(monkeypatch):
    """The predict_next_day messages sent to the broker (their args)."""
    messages = []
    monkeypatch.setattr(tasks.predict_next_day, "delay", lambda *args, **kwargs: messages.append(args))
    return messages


def test_with_a_broker_the_next_day_forecast_goes_to_a_worker_after_the_commit(
    settings, sent, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    with django_capture_on_commit_callbacks(execute=True):
        dispatch.forecast_next_day_request()
        assert sent == []  # a worker must not look before the change it is asked about is committed

    assert sent == [()]
    assert not Forecast.objects.exists()


def test_without_a_broker_the_next_day_forecast_is_made_here(sent, champion, fake_registry):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))

    dispatch.forecast_next_day_request()

    assert sent == []
    assert set(Forecast.objects.live().values_list("model_version__architecture", flat=True)) == {"mlp", "naive"}


def test_forecasts_tasks_are_imported_by_the_dispatch_module_only():
    importers = sorted(
        str(path.relative_to(ROOT))
        for app in ("forecasts", "training", "goldsite")
        for path in (ROOT / app).rglob("*.py")
        if any(text in path.read_text() for text in ("forecasts.tasks import", "from forecasts import tasks"))
    )
    assert importers == ["forecasts/dispatch.py"]
