"""The web process loads the market-data code without yfinance or exchange_calendars (imported on use)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_market_data_modules_import_yfinance_and_the_calendar_lazily():
    code = (
        "import django, sys; django.setup();"
        "import forecasts.services.prices, forecasts.selectors.prices, forecasts.tasks, forecasts.admin;"
        "import forecasts.management.commands.fetch_prices, forecasts.management.commands.import_prices;"
        "loaded = [m for m in ('yfinance', 'exchange_calendars') if m in sys.modules];"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "goldsite.settings.test"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
