"""`manage.py bootstrap` (what `make run` does before serving): history, schedules, champion, forecast, login."""

import io
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask
from yfinance.exceptions import YFRateLimitError

from forecasts.management.commands import bootstrap
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


class Terminal(io.StringIO):
    """What reaches the person at the terminal (readable after the command closes it)."""

    def isatty(self) -> bool:
        return True

    def close(self) -> None:
        pass


@pytest.fixture
def login_output(monkeypatch, caplog):
    """Run bootstrap's login step with stdout a terminal or redirected, and a controlling terminal or none."""
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    caplog.set_level(logging.DEBUG)

    def run(*, stdout_is_a_terminal: bool, controlling_terminal: bool) -> tuple[str, str, str]:
        out = Terminal() if stdout_is_a_terminal else io.StringIO()
        tty = Terminal()
        command = bootstrap.Command(
            stdout=out, stderr=io.StringIO(), open_terminal=lambda: tty if controlling_terminal else None
        )
        command.ensure_login()
        return out.getvalue(), tty.getvalue(), caplog.text

    return run


def _generated_password_is_in(text: str, admin) -> bool:
    words = text.replace("/", " ").split()
    return any(admin.check_password(word) for word in words)


def test_the_generated_password_is_shown_once_on_a_terminal_stdout(login_output):
    out, _, logged = login_output(stdout_is_a_terminal=True, controlling_terminal=True)

    admin = get_user_model().objects.get(username="admin", is_superuser=True)
    assert "Login created: admin / " in out
    assert _generated_password_is_in(out, admin)
    assert not _generated_password_is_in(logged, admin)


def test_a_redirected_stdout_never_gets_the_password_the_terminal_does(login_output):
    """`make run > server.log 2>&1`: the log file gets the login name, the person's terminal the password."""
    out, terminal, logged = login_output(stdout_is_a_terminal=False, controlling_terminal=True)

    admin = get_user_model().objects.get(username="admin", is_superuser=True)
    assert _generated_password_is_in(terminal, admin)
    assert "Login created: admin" in out
    assert not _generated_password_is_in(out, admin)
    assert not _generated_password_is_in(logged, admin)


def test_without_any_terminal_no_password_is_made_and_it_says_how_to_set_one(login_output):
    out, _, logged = login_output(stdout_is_a_terminal=False, controlling_terminal=False)

    admin = get_user_model().objects.get(username="admin", is_superuser=True)
    assert not admin.has_usable_password()  # no secret exists that could have leaked
    assert "manage.py changepassword admin" in out
    assert "DJANGO_SUPERUSER_USERNAME" in out


@pytest.mark.slow
def test_bootstrap_from_csv_files_ends_with_a_forecast_and_a_login_and_reruns_quickly(shared_data, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    terminal = Terminal()
    out = io.StringIO()
    command = bootstrap.Command(open_terminal=lambda: terminal)
    call_command(command, "--history-dir", str(shared_data), "--trials", "1", stdout=out)

    text = out.getvalue()
    assert PriceBar.objects.filter(symbol="GC=F").count() == 1257
    assert PeriodicTask.objects.filter(task="forecasts.run_daily_pipeline").exists()
    champion = ModelVersion.objects.get(is_champion=True)
    # Gold has 2025-09-25, the S&P 500 ends 2025-09-24: the forecast of 2025-09-25 is late (issue 12).
    assert Forecast.objects.late().filter(model_version=champion, target_date="2025-09-25").exists()
    assert "S&P 500 close for 2025-09-25 not stored yet" in text
    admin = get_user_model().objects.get(username="admin", is_superuser=True)
    assert "Login created: admin" in text
    assert "Login created: admin / " in terminal.getvalue()
    assert _generated_password_is_in(terminal.getvalue(), admin) and not _generated_password_is_in(text, admin)
    assert "Dashboard: http://127.0.0.1:8000/" in text and "/api/docs/" in text

    again = io.StringIO()
    call_command("bootstrap", "--history-dir", str(shared_data), stdout=again)
    assert TrainingRun.objects.count() == 1  # no retraining while a champion exists
    assert "not retraining" in again.getvalue()
    assert "Login created" not in again.getvalue()
    # The champion's forecast and naive's beside it (one row when naive is champion), not duplicated.
    assert Forecast.objects.late().count() == (1 if champion.architecture == "naive" else 2)
    assert not Forecast.objects.live().exists()


@pytest.mark.django_db
def test_the_login_from_the_environment_is_made_in_one_place_for_bootstrap_and_the_container(monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD is not"):
        call_command("ensure_login", stdout=io.StringIO())
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-enough")
    out = io.StringIO()
    call_command("ensure_login", stdout=out)
    call_command("ensure_login", stdout=out)
    assert "ops (created from DJANGO_SUPERUSER_*)" in out.getvalue() and "ops (exists)" in out.getvalue()
    assert get_user_model().objects.get(username="ops").is_superuser
