"""GET /health/: 200 while the process can serve (database, broker), 503 when one of them is down.

Missing data or a missing champion is reported (`status: "degraded"`) but still answers 200.
"""

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError

from forecasts.calendar import last_completed_trading_day, previous_trading_day
from goldsite import health
from goldsite.celery import app as celery_app
from tests.conftest import require_services
from tests.factories import ModelVersionFactory, PriceBarFactory

pytestmark = pytest.mark.django_db

URL = "/health/"
KEYS = {
    "status",
    "model_loaded",
    "scaler_loaded",
    "feature_cols_loaded",
    "database",
    "broker",
    "newest_gold_date",
    "stale",
    "staleness_days",
    "data_age_days",
    "champion",
    "missing_bars",
}


def test_a_fresh_install_is_up_but_degraded(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "model_loaded": False,
        "scaler_loaded": False,
        "feature_cols_loaded": False,
        "database": "ok",
        "broker": "eager",
        "newest_gold_date": None,
        "stale": True,
        "staleness_days": None,
        "data_age_days": None,
        "champion": None,
        "missing_bars": None,
    }


def test_with_fresh_data_and_a_champion_all_is_ok(client):
    ModelVersionFactory(version=3, architecture="mlp", is_champion=True)
    newest = last_completed_trading_day()
    PriceBarFactory(date=newest)

    body = client.get(URL).json()

    assert set(body) == KEYS
    assert body["status"] == "ok"
    assert body["model_loaded"] and body["scaler_loaded"] and body["feature_cols_loaded"]
    assert (body["champion"], body["newest_gold_date"]) == ("gold-next-day v3 (mlp)", newest.isoformat())
    assert (body["stale"], body["staleness_days"], body["data_age_days"]) == (False, 0, 0)


def test_data_a_few_sessions_behind_is_not_stale_yet(client, settings):
    """The one staleness rule of the API's forecasts: more than FORECAST_STALE_AFTER_DAYS trading days behind."""
    ModelVersionFactory(is_champion=True)
    newest = last_completed_trading_day()
    for _ in range(settings.FORECAST_STALE_AFTER_DAYS):
        newest = previous_trading_day(newest)
    PriceBarFactory(date=newest)

    body = client.get(URL).json()

    assert (body["status"], body["stale"], body["data_age_days"]) == ("ok", False, settings.FORECAST_STALE_AFTER_DAYS)
    settings.FORECAST_STALE_AFTER_DAYS -= 1
    assert client.get(URL).json()["stale"] is True


def test_a_live_forecast_waiting_for_a_bar_is_degraded_and_names_it(client):
    """Gold's close of the day after the last common day is in, the S&P 500's is not: a forecast now is late."""
    ModelVersionFactory(is_champion=True)
    newest = last_completed_trading_day()
    before = previous_trading_day(newest)
    PriceBarFactory(date=before)
    PriceBarFactory(symbol="^GSPC", date=before, close=6000.0)
    PriceBarFactory(date=newest)

    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["stale"]) == ("degraded", False)
    assert body["missing_bars"] == {
        "as_of_date": before.isoformat(),
        "date": newest.isoformat(),
        "symbols": ["^GSPC"],
        "message": f"S&P 500 close for {newest.isoformat()} not stored yet",
    }


def test_stale_data_is_degraded_not_down(client):
    ModelVersionFactory(is_champion=True)
    PriceBarFactory(date=last_completed_trading_day().replace(year=2024))

    response = client.get(URL)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["stale"]) == ("degraded", True)
    assert response.json()["staleness_days"] > 300
    assert response.json()["data_age_days"] > 200  # trading days


def use_broker(monkeypatch, url: str) -> None:
    """Point the Celery app at `url` (Celery reads CELERY_BROKER_URL from the environment before its config)."""
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setitem(celery_app.conf, "broker_url", url)


class BrokenConnection:
    def cursor(self):
        raise OperationalError("connection refused")


def test_a_database_that_is_down_answers_503(client, monkeypatch):
    monkeypatch.setattr(health, "connection", BrokenConnection())

    response = client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("degraded", "error: OperationalError")
    assert body["model_loaded"] is False  # not asked: the database is down


def test_a_broker_that_is_down_answers_503_quickly(client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    use_broker(monkeypatch, "redis://127.0.0.1:1/0")  # nothing listens there

    response = client.get(URL)

    assert response.status_code == 503
    assert response.json()["broker"].startswith("error: ")


@pytest.mark.services
def test_a_reachable_broker_is_ok(client, settings, monkeypatch):
    broker = django_settings.REAL_CELERY_BROKER_URL
    if not broker:
        if require_services():
            pytest.fail("GOLDSITE_REQUIRE_SERVICES=1 but CELERY_BROKER_URL is not set")
        pytest.skip("CELERY_BROKER_URL is not set")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    use_broker(monkeypatch, broker)

    response = client.get(URL)

    assert (response.status_code, response.json()["broker"]) == (200, "ok")


def test_is_public_uncached_and_never_throttled(client, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "user": "1/min"})

    responses = [client.get(URL) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "no-cache" in responses[0]["Cache-Control"]


def test_only_answers_get(client):
    assert client.post(URL).status_code == 405
