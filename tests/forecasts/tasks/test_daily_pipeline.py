"""The daily chain fetch → score → predict: each step idempotent, so running it twice stores nothing new.

Runs eagerly (as without a broker); Yahoo answers with frames shaped exactly as yfinance returns them.
"""

import datetime as dt

import pytest

from forecasts import tasks
from forecasts.calendar import last_completed_trading_day, next_trading_day
from forecasts.models import Forecast, PriceBar
from tests.factories import ForecastFactory
from tests.forecasts.forecasters import gold_close, spx_close, store_closes, trading_days, yahoo_bars
from tests.forecasts.market_data import download_frame

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_registry")]


@pytest.fixture
def market(yahoo):
    """The database holds closes up to two weeks ago; Yahoo has the rest, up to the last completed session."""
    newest = last_completed_trading_day()
    stored = trading_days(newest - dt.timedelta(days=60), newest - dt.timedelta(days=14))
    store_closes(stored)
    recent = trading_days(newest - dt.timedelta(days=20), newest)
    yahoo.answer("GC=F", download_frame("GC=F", yahoo_bars(recent, gold_close)))
    yahoo.answer("^GSPC", download_frame("^GSPC", yahoo_bars(recent, spx_close)))
    return {"newest": newest, "stored": stored, "recent": recent}


def everything():
    bars = list(PriceBar.objects.order_by("symbol", "date").values())
    forecasts = list(Forecast.objects.order_by("pk").values())
    return bars, forecasts


def test_the_chain_fetches_scores_and_forecasts_the_next_trading_day(champion, market):
    pending = ForecastFactory(
        model_version=champion,
        target_date=market["recent"][-2],
        predicted_close=2000.0,
        lower_80=1900.0,
        upper_80=2100.0,
        lower_95=1800.0,
        upper_95=2200.0,
    )

    tasks.run_daily_pipeline.delay()

    assert PriceBar.objects.filter(symbol="GC=F").latest("date").date == market["newest"]
    pending.refresh_from_db()
    assert pending.actual_close == gold_close(market["recent"][-2])
    live = Forecast.objects.live().exclude(pk=pending.pk)
    assert sorted(live.values_list("model_version__architecture", flat=True)) == ["mlp", "naive"]
    assert {f.target_date for f in live} == {next_trading_day(market["newest"])}
    assert {f.as_of_date for f in live} == {market["newest"]}


def test_running_the_whole_chain_twice_stores_nothing_new(champion, market, yahoo):
    tasks.run_daily_pipeline.delay()
    before = everything()

    tasks.run_daily_pipeline.delay()

    assert everything() == before
    assert len(yahoo.calls) == 4  # Yahoo was asked again, both times for both symbols


def test_each_step_alone_is_idempotent(champion, market):
    tasks.fetch_market_data.delay()
    assert tasks.score_forecasts.delay().get() == 0
    first = tasks.predict_next_day.delay().get()
    before = everything()

    tasks.fetch_market_data.delay()
    assert tasks.score_forecasts.delay().get() == 0
    assert tasks.predict_next_day.delay().get() == first
    assert everything() == before
