"""POST /api/predict/: the old service's endpoint, answering from stored forecasts or making them."""

import datetime as dt
import math
from dataclasses import replace

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError

from forecasts import dispatch
from forecasts.calendar import last_completed_trading_day
from forecasts.models import Forecast
from forecasts.services import prediction
from tests.factories import ForecastFactory
from tests.forecasts import forecasters
from tests.forecasts.forecasters import gold_close, store_closes, trading_days

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_registry")]

URL = "/api/predict/"
SEED_KEYS = {"prediction", "predicted_date", "today_date", "model_name", "model_type"}


@pytest.fixture
def closes():
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 26)))  # through Friday 26 September


def test_makes_and_stores_the_forecast_when_there_is_none_yet(api, champion, closes):
    response = api.post(URL, {"predict_tomorrow": True}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= SEED_KEYS
    staleness = {key: body.pop(key) for key in ("stale", "data_age_days")}
    assert staleness == {"stale": True, "data_age_days": data_age_days(since=dt.date(2025, 9, 26))}
    # Friday's closes are both in and Monday's gold close is not: a live forecast, nothing missing.
    assert {key: body.pop(key) for key in ("kind", "missing_bars")} == {"kind": "live", "missing_bars": None}
    assert body == {
        "prediction": pytest.approx(gold_close(dt.date(2025, 9, 26)) * math.exp(forecasters.NETWORK_RETURN)),
        "predicted_date": "2025-09-29",  # the Monday after
        "today_date": "2025-09-26",
        "model_name": "gold-next-day",
        "model_type": "mlp",
        "model_version": 2,
        "lower_80": pytest.approx(body["prediction"] * 0.98),
        "upper_80": pytest.approx(body["prediction"] * 1.02),
        "lower_95": pytest.approx(body["prediction"] * 0.97),
        "upper_95": pytest.approx(body["prediction"] * 1.03),
    }
    assert sorted(Forecast.objects.values_list("model_version__architecture", flat=True)) == ["mlp", "naive"]


def test_answers_from_the_stored_forecast_without_loading_a_model(api, champion, closes, fake_registry):
    stored = ForecastFactory(
        model_version=champion,
        target_date=dt.date(2025, 9, 29),
        as_of_date=dt.date(2025, 9, 26),
        predicted_close=3711.0,
        upper_80=3750.0,
    )

    body = api.post(URL, {"predict_tomorrow": True}, format="json").json()

    assert (body["prediction"], body["predicted_date"], body["upper_80"]) == (3711.0, "2025-09-29", 3750.0)
    assert fake_registry.loaded == []
    assert Forecast.objects.get() == stored


def data_age_days(*, since: dt.date) -> int:
    """Trading days after `since` up to the last completed one, counted independently of the code under test."""
    return len(trading_days(since + dt.timedelta(days=1), last_completed_trading_day()))


def test_a_forecast_from_old_data_says_it_is_stale_and_how_old(api, champion, closes):
    """The closes end on 26 September 2025: a year and more before the clock of the machine running this."""
    ForecastFactory(model_version=champion, target_date=dt.date(2025, 9, 29), as_of_date=dt.date(2025, 9, 26))

    response = api.post(URL, {"predict_tomorrow": True}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["stale"] is True
    assert body["data_age_days"] == data_age_days(since=dt.date(2025, 9, 26))
    assert body["data_age_days"] > 3


def test_a_forecast_from_current_data_is_not_stale(api, champion):
    newest = last_completed_trading_day()
    store_closes(trading_days(newest - dt.timedelta(days=40), newest))

    body = api.post(URL, {"predict_tomorrow": True}, format="json").json()

    assert (body["today_date"], body["stale"], body["data_age_days"]) == (newest.isoformat(), False, 0)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "This field is required."),
        ({"predict_tomorrow": False}, "Set predict_tomorrow to true to get the next day's forecast."),
        ({"predict_tomorrow": "perhaps"}, "Must be a valid boolean."),
    ],
)
def test_predict_tomorrow_must_be_true(api, champion, closes, payload, message):
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"predict_tomorrow": [message]}
    assert not Forecast.objects.exists()


def test_without_a_champion_it_says_to_train_first(api, closes):
    response = api.post(URL, {"predict_tomorrow": True}, format="json")
    assert response.status_code == 503
    assert "manage.py train" in response.json()["detail"]


def test_without_prices_it_says_to_load_them(api, champion):
    response = api.post(URL, {"predict_tomorrow": True}, format="json")
    assert response.status_code == 503
    assert "import or fetch prices" in response.json()["detail"]


def test_a_non_finite_forecast_is_refused_with_a_503_and_nothing_stored(api, champion, closes, monkeypatch):
    honest = forecasters.FakeForecaster.forecast
    monkeypatch.setattr(
        forecasters.FakeForecaster,
        "forecast",
        lambda self, closes, alpha=None: replace(honest(self, closes), upper_80=math.inf),
    )

    response = api.post(URL, {"predict_tomorrow": True}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "forecast_unusable"
    assert "nothing was stored" in response.json()["detail"]
    assert not Forecast.objects.exists()


class FakeAsyncResult:
    def __init__(self, outcome):
        self.outcome = outcome

    def get(self, timeout, **kwargs):
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome()


def test_with_a_broker_a_worker_makes_the_forecast(api, champion, closes, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    dispatched = []

    def send():
        dispatched.append("predict_next_day")
        return FakeAsyncResult(lambda: [f.pk for f in prediction.forecast_next_day()])  # as the worker would

    monkeypatch.setattr(dispatch, "forecast_next_day_send", send)

    response = api.post(URL, {"predict_tomorrow": True}, format="json")

    assert response.status_code == 200
    assert response.json()["predicted_date"] == "2025-09-29"
    assert dispatched == ["predict_next_day"]


def test_when_no_worker_answers_in_time_it_says_so(api, champion, closes, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.PREDICT_WAIT_SECONDS = 0.5
    monkeypatch.setattr(dispatch, "forecast_next_day_send", lambda: FakeAsyncResult(CeleryTimeoutError()))

    response = api.post(URL, {"predict_tomorrow": True}, format="json")

    assert response.status_code == 503
    assert response.json()["detail"].startswith("No worker made the forecast within 0.5 s")
    assert not Forecast.objects.exists()


def test_a_worker_failure_is_reported(api, champion, closes, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(dispatch, "forecast_next_day_send", lambda: FakeAsyncResult(RuntimeError("out of memory")))

    response = api.post(URL, {"predict_tomorrow": True}, format="json")

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The worker could not make the forecast: out of memory",
        "code": "forecast_not_ready",
    }
