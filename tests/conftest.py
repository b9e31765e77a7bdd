"""Fixtures shared by the whole suite."""

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
GOLD_CSV = SHARED_DATA / "gold_data.csv"
SPX_CSV = SHARED_DATA / "sp500.csv"


def require_services() -> bool:
    """CI sets GOLDSITE_REQUIRE_SERVICES=1: then a missing service fails a test instead of skipping it."""
    return os.environ.get("GOLDSITE_REQUIRE_SERVICES") == "1"


@pytest.fixture
def shared_data() -> Path:
    """The real Yahoo history in ../shared/data; tests that need it skip cleanly when it is absent."""
    if not (GOLD_CSV.is_file() and SPX_CSV.is_file()):
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture
def yahoo(monkeypatch):
    """yfinance.download answers from the test's frames and exceptions (tests.forecasts.market_data.FakeYahoo)."""
    import yfinance

    from tests.forecasts.market_data import FakeYahoo

    fake = FakeYahoo()
    monkeypatch.setattr(yfinance, "download", fake.download)
    return fake


@pytest.fixture
def no_execution(monkeypatch):
    """Start training runs for real but do not execute them (no data, no Keras): the dispatch seam records the
    run ids it was asked to execute instead of sending them anywhere."""
    from training import dispatch

    started = []

    def record(*, run_id: int, inline: bool) -> str:
        started.append(run_id)
        return ""

    monkeypatch.setattr(dispatch, "training_run_execute_request", record)
    return started
