"""GET /api/prices/: stored daily bars, filtered by symbol and inclusive date range, paginated."""

import datetime as dt

import pytest

from tests.factories import PriceBarFactory

pytestmark = pytest.mark.django_db

URL = "/api/prices/"


@pytest.fixture
def bars():
    for day in range(1, 6):
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, day), close=3500.0 + day)
        PriceBarFactory(symbol="^GSPC", date=dt.date(2025, 9, day), close=6400.0 + day)


def test_lists_bars_of_a_symbol_between_two_days(api, bars):
    response = api.get(URL, {"symbol": "GC=F", "start": "2025-09-02", "end": "2025-09-04"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert body["results"][0] == {
        "symbol": "GC=F",
        "date": "2025-09-02",
        "open": 3502.0,
        "high": pytest.approx(3502.0 * 1.01),
        "low": pytest.approx(3502.0 * 0.99),
        "close": 3502.0,
        "volume": 1000,
        "source": "csv",
    }
    assert [bar["date"] for bar in body["results"]] == ["2025-09-02", "2025-09-03", "2025-09-04"]


def test_without_filters_lists_both_symbols_one_page_at_a_time(api, bars):
    body = api.get(URL).json()
    assert body["count"] == 10
    assert {bar["symbol"] for bar in body["results"]} == {"GC=F", "^GSPC"}
    assert api.get(URL, {"page": 2}).status_code == 404  # DRF's answer past the last page


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"symbol": "AAPL"}, "symbol", '"AAPL" is not a valid choice.'),
        ({"start": "yesterday"}, "start", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ({"end": "2025-02-30"}, "end", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ({"start": "2025-09-05", "end": "2025-09-01"}, "end", "The end date must not be before the start date."),
    ],
)
def test_bad_filters_are_refused_per_field(api, params, field, message):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert response.json() == {field: [message]}
