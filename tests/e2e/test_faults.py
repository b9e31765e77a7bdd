"""What the service does when its dependencies misbehave: Yahoo, MLflow, concurrent users, bad files.

Complements the fault tests beside the code they exercise:
- tests/forecasts/services/test_fetch.py: each Yahoo error type → MarketDataUnavailable, recorded, nothing written;
- tests/forecasts/tasks/test_fetch_market_data.py: a rate limit is retried, and retries running out;
- tests/forecasts/services/test_import.py (TestBadFiles): every kind of bad CSV row fails the whole import;
- tests/training/services/test_promotion.py: MLflow failing during promotion leaves the database unchanged;
- tests/training/services/test_runs.py: one active run at a time, the reaper.
Here: the same faults end to end (task with retries → stored bars → freshness on /health/, the API and the
dashboard), promotion through the API with MLflow down, two simultaneous training requests, a bad real file.
"""

import datetime as dt
import threading

import curl_cffi.requests.exceptions
import pandas as pd
import pytest
import yfinance
from celery import current_app
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from forecasts.calendar import last_completed_trading_day
from forecasts.exceptions import MarketDataError, MarketDataUnavailable
from forecasts.models import DataLoad, PriceBar
from forecasts.selectors.prices import data_freshness
from forecasts.tasks import fetch_market_data
from tests.factories import MLEngineerFactory, ModelVersionFactory, UserFactory
from tests.forecasts.forecasters import gold_close, store_closes, trading_days
from tests.forecasts.market_data import bars_snapshot, download_frame, empty_download_frame
from training import dispatch
from training.models import ChampionChange, ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db

# --- Yahoo misbehaving: stale data is kept, visible and never overwritten with garbage ---------------------


@pytest.fixture
def stale_history():
    """Gold and S&P 500 closes ending a week before the last completed trading day: an update is due."""
    expected = last_completed_trading_day()
    days = trading_days(expected - dt.timedelta(days=60), expected - dt.timedelta(days=7))
    store_closes(days)
    return days[-1]


@pytest.fixture
def worker_retries(monkeypatch):
    """Eager tasks retry inline only without eager propagation (see tests/forecasts/tasks/test_fetch_market_data)."""
    monkeypatch.setitem(current_app.conf, "task_eager_propagates", False)


def recent_bars(newest: dt.date) -> dict[str, tuple]:
    """Yahoo's answer for the days after `newest`, had it answered properly."""
    days = trading_days(newest + dt.timedelta(days=1), last_completed_trading_day())
    return {
        day.isoformat(): (gold_close(day), gold_close(day) + 5, gold_close(day) - 5, gold_close(day), 10.0)
        for day in days
    }


def garbage_values(newest: dt.date) -> pd.DataFrame:
    frame = download_frame("GC=F", recent_bars(newest)).astype(object)
    frame.iloc[0, frame.columns.get_loc(("Close", "GC=F"))] = "N/A"
    return frame


def garbage_columns(newest: dt.date) -> pd.DataFrame:
    return download_frame("GC=F", recent_bars(newest)).drop(columns=[("Close", "GC=F"), ("Adj Close", "GC=F")])


def garbage_index(newest: dt.date) -> pd.DataFrame:
    return download_frame("GC=F", recent_bars(newest)).reset_index(drop=True)


def another_ticker(newest: dt.date) -> pd.DataFrame:
    return download_frame("SI=F", recent_bars(newest))


def assert_stale_everywhere(client, newest: dt.date) -> None:
    """data_freshness, /health/, the API and the dashboard all say the data is behind, and how far."""
    freshness = data_freshness()
    assert freshness.is_stale
    assert freshness.newest_gold_date == newest

    health = client.get("/health/").json()
    assert (health["stale"], health["status"], health["newest_gold_date"]) == (True, "degraded", newest.isoformat())

    user = UserFactory()
    api = APIClient()
    api.force_authenticate(user)
    # No champion in these tests: the latest forecast is not there, the prices still are.
    assert api.get("/api/forecasts/latest/").status_code == 503
    assert api.get("/api/prices/", {"symbol": "GC=F", "start": newest.isoformat()}).json()["count"] == 1

    client.force_login(user)
    page = client.get(reverse("forecasts:dashboard")).content.decode()
    assert 'data-freshness="stale"' in page
    assert f"newest close {newest.isoformat()}" in page


class TestYahooFaults:
    @pytest.mark.parametrize(
        "error",
        [
            curl_cffi.requests.exceptions.Timeout("Operation timed out after 20001 milliseconds"),
            TimeoutError("timed out"),
        ],
        ids=["curl-timeout", "socket-timeout"],
    )
    def test_a_timeout_is_retried_recorded_and_writes_nothing(
        self, yahoo, worker_retries, stale_history, client, error
    ):
        before = bars_snapshot()
        yahoo.answer("GC=F", error)
        yahoo.answer("^GSPC", error)

        with pytest.raises(MarketDataUnavailable, match="timed out"):
            fetch_market_data.delay().get()

        attempts = 1 + fetch_market_data.max_retries
        assert len(yahoo.calls) == 2 * attempts  # both symbols, every attempt
        loads = DataLoad.objects.all()
        assert len(loads) == 2 * attempts
        assert {load.status for load in loads} == {DataLoad.Status.FAILED}
        assert all("Yahoo Finance is unavailable" in load.error for load in loads)
        assert bars_snapshot() == before
        assert_stale_everywhere(client, stale_history)

    def test_a_timeout_yfinance_swallows_is_still_a_retried_failure(
        self, monkeypatch, worker_retries, stale_history, client
    ):
        """The real `yf.download` catches the timeout and returns an empty frame; the logged error gives it away."""
        calls = []

        def timing_out(ticker, *args, **kwargs):
            calls.append(ticker.ticker)
            raise curl_cffi.requests.exceptions.Timeout("Operation timed out after 20001 milliseconds")

        monkeypatch.setattr(yfinance.Ticker, "history", timing_out)
        before = bars_snapshot()

        with pytest.raises(MarketDataUnavailable, match="timed out"):
            fetch_market_data.delay(symbols=["GC=F"]).get()

        assert len(calls) == 1 + fetch_market_data.max_retries
        assert set(DataLoad.objects.values_list("status", flat=True)) == {DataLoad.Status.FAILED}
        assert bars_snapshot() == before
        assert_stale_everywhere(client, stale_history)

    def test_an_empty_answer_is_no_new_bars_and_the_data_shows_as_stale(self, yahoo, stale_history, client):
        """Yahoo answering "no bars" cannot be told from a holiday, so it is not an error; freshness catches it."""
        before = bars_snapshot()
        yahoo.answer("GC=F", empty_download_frame("GC=F"))
        yahoo.answer("^GSPC", empty_download_frame("^GSPC"))

        summary = fetch_market_data.delay().get()

        assert len(yahoo.calls) == 2  # not retried
        assert {s["inserted"] for s in summary.values()} == {0}
        assert set(DataLoad.objects.values_list("status", flat=True)) == {DataLoad.Status.SUCCEEDED}
        assert bars_snapshot() == before
        assert_stale_everywhere(client, stale_history)

    @pytest.mark.parametrize(
        ("garbage", "message"),
        [
            (garbage_values, "not a number"),
            (garbage_columns, "unexpected columns"),
            (garbage_index, "not indexed by date"),
            (another_ticker, "no columns for GC=F"),
        ],
        ids=["text-in-a-price", "no-close-column", "no-date-index", "another-ticker"],
    )
    def test_a_garbage_answer_fails_at_once_and_writes_nothing(
        self, yahoo, worker_retries, stale_history, client, garbage, message
    ):
        before = bars_snapshot()
        yahoo.answer("GC=F", garbage(stale_history))

        with pytest.raises(MarketDataError, match=message) as raised:
            fetch_market_data.delay(symbols=["GC=F"]).get()

        assert not isinstance(raised.value, MarketDataUnavailable)  # retrying would get the same garbage
        assert len(yahoo.calls) == 1
        load = DataLoad.objects.get()
        assert load.status == DataLoad.Status.FAILED
        assert message in load.error
        assert bars_snapshot() == before
        assert_stale_everywhere(client, stale_history)


# --- MLflow down while a person promotes a model -----------------------------------------------------------


def test_promoting_through_the_api_with_mlflow_down_is_a_503_and_changes_nothing(monkeypatch):
    champion = ModelVersionFactory(is_champion=True)
    challenger = ModelVersionFactory(architecture=ModelVersion.Architecture.CNN)

    def unreachable(**kwargs):
        raise ConnectionError("HTTPConnectionPool(host='mlflow', port=5000): Max retries exceeded")

    monkeypatch.setattr("training.ml.registry.set_alias", unreachable)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=MLEngineerFactory()).key}")

    response = api.post(f"/api/models/{challenger.pk}/promote/", {"reason": "lower MAE"}, format="json")

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "registry_unavailable"
    assert "Max retries exceeded" in body["detail"]
    assert f"Nothing was changed; the champion is still {champion}" in body["detail"]
    assert list(ModelVersion.objects.filter(is_champion=True)) == [champion]
    assert not ChampionChange.objects.exists()


# --- Two people start training at the same moment -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_training_requests_at_once_start_one_run(monkeypatch):
    """On PostgreSQL the two requests really race (two threads, two connections, released together): the
    one-active-run constraint lets one through. SQLite serialises writers, so there they run one after the other."""
    monkeypatch.setattr(dispatch, "training_run_execute_request", lambda *, run_id, inline: "")
    tokens = [Token.objects.create(user=MLEngineerFactory()).key for _ in range(2)]
    payload = {"kind": "tune", "trials": 1, "architectures": ["mlp"]}

    def request(token: str) -> tuple[int, dict]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = api.post("/api/training-runs/", payload, format="json")
        return response.status_code, response.json()

    if connection.vendor == "postgresql":
        barrier = threading.Barrier(2)
        results: list[tuple[int, dict]] = []

        def racer(token: str) -> None:
            try:
                barrier.wait(timeout=10)
                results.append(request(token))
            finally:
                connection.close()  # each thread's own connection

        threads = [threading.Thread(target=racer, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    else:
        results = [request(token) for token in tokens]

    assert sorted(status for status, _ in results) == [202, 409]
    accepted = next(body for status, body in results if status == 202)
    refused = next(body for status, body in results if status == 409)
    assert refused["code"] == "training_run_active"
    assert list(TrainingRun.objects.values_list("pk", "status")) == [(accepted["id"], TrainingRun.Status.QUEUED)]


# --- A real history file with garbage in the middle ----------------------------------------------------------


def test_a_real_file_with_one_garbage_line_imports_nothing(shared_data, tmp_path):
    lines = (shared_data / "gold_data.csv").read_text().splitlines()
    middle = len(lines) // 2
    lines[middle] = "<html><body>502 Bad Gateway</body></html>"
    broken = tmp_path / "gold_data.csv"
    broken.write_text("\n".join(lines) + "\n")

    with pytest.raises(CommandError, match=rf"line {middle + 1}: "):
        call_command("import_prices", "GC=F", str(broken))

    assert not PriceBar.objects.exists()  # not even the ~600 good rows before the bad one
    load = DataLoad.objects.get()
    assert (load.status, load.rows_inserted) == (DataLoad.Status.FAILED, 0)
