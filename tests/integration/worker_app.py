"""The Celery app a real-worker test starts: `celery -A tests.integration.worker_app worker ...`.

It is goldsite's own app, in a worker process whose Yahoo and model registry are replaced before any task
runs: `yfinance.download` answers with frames shaped exactly as yfinance returns them (closes from
`tests.forecasts.forecasters`, the same the test stores), and model versions load as `FakeForecaster`s (the
worker's settings, `tests.integration.worker_settings`, name that loader).
Nothing reaches the internet, MLflow or TensorFlow; everything else (broker, database, tasks, chain) is real.
"""

import datetime as dt
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.integration.worker_settings")
django.setup()

import yfinance  # noqa: E402

from goldsite.celery import app  # noqa: E402
from tests.forecasts.forecasters import (  # noqa: E402
    gold_close,
    spx_close,
    trading_days,
    yahoo_bars,
)
from tests.forecasts.market_data import download_frame  # noqa: E402

CLOSES = {"GC=F": gold_close, "^GSPC": spx_close}


def fake_download(tickers, start=None, end=None, **kwargs):
    """Bars for the XNYS sessions from `start` up to but excluding `end`, as `yf.download` returns them."""
    days = trading_days(dt.date.fromisoformat(start), dt.date.fromisoformat(end) - dt.timedelta(days=1))
    return download_frame(tickers, yahoo_bars(days, CLOSES[tickers]))


yfinance.download = fake_download

__all__ = ["app"]
