"""The API never answers invalid JSON: a non-finite float that reached the database is served as null.

The services refuse to store such values (tests/forecasts/services/test_prediction.py, test_scoring.py); these
tests write one through the model layer, as a corrupt row from before those checks, or a manual edit, would be.
"""

import datetime as dt
import json
import math

import pytest

from tests.factories import ForecastFactory, PriceBarFactory
from tests.forecasts.forecasters import store_closes, trading_days

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_registry")]

INF = float("inf")


def strict_json(response):
    """The body parsed as RFC 8259 JSON: `Infinity`, `-Infinity` and `NaN` are not JSON and fail here."""

    def refuse(constant):
        raise ValueError(f"the body holds {constant}, which is not JSON")

    return json.loads(response.content, parse_constant=refuse)


@pytest.fixture
def corrupt_forecast(champion):
    """The champion's live forecast for Monday 29 September with an infinite upper 95% bound."""
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 26)))
    return ForecastFactory(
        model_version=champion, target_date=dt.date(2025, 9, 29), as_of_date=dt.date(2025, 9, 26), upper_95=INF
    )


def test_latest_forecast_serves_an_infinite_bound_as_null(api, corrupt_forecast):
    response = api.get("/api/forecasts/latest/")

    assert response.status_code == 200
    body = strict_json(response)
    assert body["forecast"]["upper_95"] is None
    assert body["forecast"]["upper_80"] == corrupt_forecast.upper_80


def test_forecast_list_serves_an_infinite_bound_as_null(api, corrupt_forecast):
    response = api.get("/api/forecasts/")

    assert response.status_code == 200
    [row] = strict_json(response)["results"]
    assert (row["id"], row["upper_95"]) == (corrupt_forecast.pk, None)


def test_predict_serves_a_stored_infinite_bound_as_null(api, corrupt_forecast):
    response = api.post("/api/predict/", {"predict_tomorrow": True}, format="json")

    assert response.status_code == 200
    assert strict_json(response)["upper_95"] is None


def test_prices_serve_an_infinite_high_as_null(api):
    PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 24), close=3732.1, high=INF, low=3700.0)

    response = api.get("/api/prices/?symbol=GC=F")

    assert response.status_code == 200
    [row] = strict_json(response)["results"]
    assert (row["close"], row["high"], row["low"]) == (3732.1, None, 3700.0)


def test_finite_answers_are_rendered_as_before():
    from goldsite.api_renderers import JSONRenderer

    data = {"a": [1.5, 2, None, "x"], "b": {"c": -0.0}}

    assert json.loads(JSONRenderer().render(data)) == data


def test_nested_non_finite_values_become_null():
    from goldsite.api_renderers import JSONRenderer

    data = {"a": [1.5, INF, {"b": -INF, "c": (math.nan, 2.0)}], "d": "Infinity"}

    assert json.loads(JSONRenderer().render(data)) == {"a": [1.5, None, {"b": None, "c": [None, 2.0]}], "d": "Infinity"}
