"""GET /api/forecasts/latest/ is served from the cache for API_LATEST_CACHE_SECONDS (the load benchmark's fix).

The test settings turn the cache off (API_LATEST_CACHE_SECONDS = 0) so other tests read what they just stored;
here it is on, as in every other settings module.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from forecasts.selectors.forecasts import LATEST_CACHE_KEY
from tests.factories import ForecastFactory, ModelVersionFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/forecasts/latest/"


@pytest.fixture
def api(settings):
    settings.API_LATEST_CACHE_SECONDS = 5
    cache.clear()
    client = APIClient()
    client.force_authenticate(UserFactory())
    yield client
    cache.clear()


def test_a_second_request_is_answered_from_the_cache_without_queries(api):
    champion = ModelVersionFactory(is_champion=True)
    ForecastFactory(model_version=champion)

    first = api.get(URL)
    with CaptureQueriesContext(connection) as queries:
        second = api.get(URL)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert len(queries) == 0  # force_authenticate: not even the token lookup


def test_the_answer_can_lag_a_change_until_the_cache_expires(api):
    champion = ModelVersionFactory(is_champion=True)
    ForecastFactory(model_version=champion, predicted_close=3700.0)
    assert api.get(URL).json()["forecast"]["predicted_close"] == 3700.0

    newer = ForecastFactory(model_version=champion, target_date="2025-09-26", predicted_close=3710.0)

    assert api.get(URL).json()["forecast"]["predicted_close"] == 3700.0  # within API_LATEST_CACHE_SECONDS
    cache.delete(LATEST_CACHE_KEY)  # what expiry does
    assert api.get(URL).json()["forecast"]["id"] == newer.pk


def test_not_ready_is_never_cached(api):
    assert api.get(URL).status_code == 503
    champion = ModelVersionFactory(is_champion=True)
    ForecastFactory(model_version=champion)

    assert api.get(URL).status_code == 200


def test_zero_seconds_turns_the_cache_off(api, settings):
    settings.API_LATEST_CACHE_SECONDS = 0
    champion = ModelVersionFactory(is_champion=True)
    ForecastFactory(model_version=champion)

    api.get(URL)

    assert cache.get(LATEST_CACHE_KEY) is None
