"""`manage.py bootstrap` (what `make run` does before serving): history, schedules, champion, forecast, login."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask
from yfinance.exceptions import YFRateLimitError

from forecasts.management.commands.bootstrap import history_files
from forecasts.models import Forecast, PriceBar
from training.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_history_files_are_recognised_by_name(shared_data):
    assert history_files(shared_data) == {"GC=F": shared_data / "gold_data.csv", "^GSPC": shared_data / "sp500.csv"}


def test_a_history_folder_without_an_sp500_file_is_refused(tmp_path):
    (tmp_path / "gold.csv").write_text("Date,Close\n2025-01-02,2000\n")
    with pytest.raises(CommandError, match=r"No CSV for \^GSPC"):
        history_files(tmp_path)


def test_offline_without_a_history_folder_says_exactly_what_to_do(yahoo, settings):
    settings.GOLDSITE_HISTORY_DIR = ""
    for symbol in ("GC=F", "^GSPC"):
        yahoo.answer(symbol, YFRateLimitError())

    with pytest.raises(CommandError) as excinfo:
        call_command("bootstrap", "--history-dir", "", stdout=io.StringIO(), stderr=io.StringIO())

    message = str(excinfo.value)
    assert "GOLDSITE_HISTORY_DIR=../shared/data make run" in message
    assert "import_prices" in message
    assert not PriceBar.objects.exists()


@pytest.mark.slow
def test_bootstrap_from_csv_files_ends_with_a_forecast_and_a_login_and_reruns_quickly(shared_data, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    out = io.StringIO()
    call_command("bootstrap", "--history-dir", str(shared_data), "--trials", "1", stdout=out)

    text = out.getvalue()
    assert PriceBar.objects.filter(symbol="GC=F").count() == 1257
    assert PeriodicTask.objects.filter(task="forecasts.run_daily_pipeline").exists()
    champion = ModelVersion.objects.get(is_champion=True)
    assert Forecast.objects.live().filter(model_version=champion).exists()
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    assert "Login created: admin / " in text
    assert "Dashboard: http://127.0.0.1:8000/" in text and "/api/docs/" in text

    again = io.StringIO()
    call_command("bootstrap", "--history-dir", str(shared_data), stdout=again)
    assert TrainingRun.objects.count() == 1  # no retraining while a champion exists
    assert "not retraining" in again.getvalue()
    assert "Login created" not in again.getvalue()
    # The champion's forecast and naive's beside it (one row when naive is champion), not duplicated.
    assert Forecast.objects.live().count() == (1 if champion.architecture == "naive" else 2)
