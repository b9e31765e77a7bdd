"""Fixtures for the market-data tests: CSV files written on the fly and a stand-in for Yahoo."""

import textwrap
from pathlib import Path

import pytest

from tests.forecasts.market_data import FakeYahoo


@pytest.fixture
def yahoo(monkeypatch) -> FakeYahoo:
    """yfinance.download answers from the test's frames and exceptions; see FakeYahoo."""
    import yfinance

    fake = FakeYahoo()
    monkeypatch.setattr(yfinance, "download", fake.download)
    return fake


@pytest.fixture
def write_csv(tmp_path):
    """write_csv("name.csv", text) -> Path; the text is dedented and its first newline dropped."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
