"""The fetch_market_data task: plain arguments, a JSON-able summary, retries when Yahoo is unavailable.

The test settings run tasks eagerly. An eager retry runs again inline (without the backoff wait) only when
`task_eager_propagates` is off: with it on (the test settings), the first retry raises celery's `Retry`
instead, so the retry tests turn it off, as a worker would behave.
"""

import datetime as dt
import json

import pytest
from celery import current_app
from yfinance.exceptions import YFRateLimitError

from forecasts.exceptions import MarketDataUnavailable
from forecasts.models import DataLoad, PriceBar
from forecasts.tasks import fetch_market_data
from tests.factories import PriceBarFactory
from tests.forecasts.market_data import bars_snapshot, download_frame

pytestmark = pytest.mark.django_db

GOLD = {
    "2025-09-24": (3769.800049, 3772.5, 3732.100098, 3732.100098, 588.0),
    "2025-09-25": (3781.5, 3783.5, 3767.199951, 3767.5, 19797.0),
}


def test_returns_a_json_summary_per_symbol(yahoo):
    yahoo.answer("GC=F", download_frame("GC=F", GOLD))

    summary = fetch_market_data.delay(symbols=["GC=F"], since="2025-09-24").get()

    load = DataLoad.objects.get()
    assert summary == {
        "GC=F": {
            "inserted": 2,
            "updated": 0,
            "unchanged": 0,
            "skipped": 0,
            "first_date": "2025-09-24",
            "last_date": "2025-09-25",
            "data_load_id": load.pk,
        }
    }
    assert json.loads(json.dumps(summary)) == summary


def test_an_immutable_signature_works_as_the_first_link_of_a_chain(yahoo):
    yahoo.answer("GC=F", download_frame("GC=F", GOLD))
    yahoo.answer("^GSPC", download_frame("^GSPC", {}))

    result = fetch_market_data.si(since="2025-09-24").apply()

    assert set(result.get()) == {"GC=F", "^GSPC"}


@pytest.fixture
def eager_retries(monkeypatch):
    monkeypatch.setitem(current_app.conf, "task_eager_propagates", False)


def test_a_rate_limit_is_retried_then_succeeds(yahoo, eager_retries):
    yahoo.answer("GC=F", YFRateLimitError(), download_frame("GC=F", GOLD))

    summary = fetch_market_data.delay(symbols=["GC=F"], since="2025-09-24").get()

    assert summary["GC=F"]["inserted"] == 2
    assert len(yahoo.calls) == 2
    statuses = list(DataLoad.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [DataLoad.Status.FAILED, DataLoad.Status.SUCCEEDED]


def test_when_retries_run_out_the_failure_is_recorded_and_nothing_written(yahoo, eager_retries):
    PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 23), close=3780.600098)
    before = bars_snapshot()
    yahoo.answer("GC=F", YFRateLimitError())

    with pytest.raises(MarketDataUnavailable, match="Rate limited"):
        fetch_market_data.delay(symbols=["GC=F"]).get()

    assert len(yahoo.calls) == 1 + fetch_market_data.max_retries
    loads = DataLoad.objects.all()
    assert {load.status for load in loads} == {DataLoad.Status.FAILED}
    assert len(loads) == 6
    assert bars_snapshot() == before
    assert PriceBar.objects.count() == 1
