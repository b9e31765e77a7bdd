"""Issue 12, the live record on the real history: gold has 2025-09-25, the S&P 500 ends 2025-09-24.

The next-day step forecasts 2025-09-25 as of 2025-09-24, the last day with both closes, although the gold close
of 2025-09-25 is already stored: that forecast is late (kept, scored, charted, never counted as live), and the
dashboard, /health/ and the API name the bar a live forecast waits for.
"""

import datetime as dt
import html

import pytest
from django.core.management import call_command

from forecasts import tasks
from forecasts.models import Forecast
from forecasts.selectors.accuracy import forecast_accuracy
from forecasts.services import prediction
from forecasts.services.prices import prices_import_csv
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_registry")]

TARGET = dt.date(2025, 9, 25)
AS_OF = dt.date(2025, 9, 24)
MISSING = "S&P 500 close for 2025-09-25 not stored yet"


@pytest.fixture
def history(shared_data):
    """Both seed files imported with the import service, as `make run` does."""
    prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")
    prices_import_csv(symbol="^GSPC", path=shared_data / "sp500.csv")


def test_the_next_day_step_stores_the_forecast_of_a_day_whose_close_is_stored_as_late(history, champion):
    stored = prediction.forecast_next_day()

    assert [(f.model_version.architecture, f.kind, f.as_of_date, f.target_date) for f in stored] == [
        ("mlp", "late", AS_OF, TARGET),
        ("naive", "late", AS_OF, TARGET),
    ]
    assert not Forecast.objects.live().exists()


def test_the_command_stores_late_scores_it_and_says_which_bar_is_missing(history, champion, capsys):
    call_command("predict_next_day")

    out = capsys.readouterr().out
    assert "late" in out.splitlines()[0]
    assert MISSING in out
    late = Forecast.objects.get(model_version=champion)
    assert (late.kind, late.target_date) == ("late", TARGET)
    assert late.actual_close is not None  # kept and scored like any other forecast ...
    accuracy = forecast_accuracy(window=20)
    assert (accuracy["live_n"], accuracy["source"]) == (0, None)  # ... but never counted as live


def test_the_daily_task_stores_it_as_late_too(history, champion):
    tasks.predict_next_day.delay()

    assert set(Forecast.objects.values_list("kind", flat=True)) == {"late"}


def test_running_the_step_again_returns_the_late_forecasts_and_stores_nothing_new(history, champion):
    first = prediction.forecast_next_day()

    again = prediction.forecast_next_day()

    assert [f.pk for f in again] == [f.pk for f in first]
    assert Forecast.objects.count() == 2


def test_the_dashboard_labels_the_forecast_late_and_names_the_missing_bar(history, champion, client):
    call_command("predict_next_day")
    client.force_login(UserFactory())

    content = html.unescape(client.get("/").content.decode())

    assert "Forecast for 2025-09-25" in content
    assert 'data-testid="forecast-kind">Late' in content
    assert MISSING in content


def test_health_names_the_missing_bar(history, champion, client):
    call_command("predict_next_day")

    body = client.get("/health/").json()

    assert body["status"] == "degraded"
    assert body["missing_bars"] == {
        "as_of_date": "2025-09-24",
        "date": "2025-09-25",
        "symbols": ["^GSPC"],
        "message": MISSING,
    }


def test_the_api_says_late_and_names_the_missing_bar(history, champion, client):
    client.force_login(UserFactory())

    predicted = client.post("/api/predict/", {"predict_tomorrow": True}, content_type="application/json")
    latest = client.get("/api/forecasts/latest/")
    listed = client.get("/api/forecasts/", {"kind": "late"})

    assert predicted.status_code == 200
    assert (predicted.json()["predicted_date"], predicted.json()["kind"]) == ("2025-09-25", "late")
    assert predicted.json()["missing_bars"]["message"] == MISSING
    assert latest.status_code == 200
    assert (latest.json()["kind"], latest.json()["forecast"]["kind"]) == ("late", "late")
    assert latest.json()["missing_bars"]["message"] == MISSING
    assert listed.json()["count"] == 2
    assert client.get("/api/forecasts/", {"kind": "live"}).json()["count"] == 0
