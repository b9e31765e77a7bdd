"""`manage.py bootstrap`: everything between a migrated database and a site worth opening.

Loads history (CSV files from GOLDSITE_HISTORY_DIR, else Yahoo), seeds the schedules, trains a champion
with a quick profile when there is none, stores the next-day forecast, creates a login, and prints where
to go. Each step is idempotent, so running it again is quick. A generated password is shown on the terminal
only, never in a redirected output or a log.
"""

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from forecasts.exceptions import MarketDataError, MarketDataUnavailable
from forecasts.selectors.prices import price_latest_date
from forecasts.services.accounts import LoginSettingsIncomplete, login_ensure
from forecasts.services.prices import data_load_summary, prices_fetch
from training.selectors import model_version_champion

# File-name hints that tell which symbol a CSV in GOLDSITE_HISTORY_DIR holds.
HISTORY_FILE_HINTS = {
    "GC=F": ("gold", "gc=f", "gc_f", "gcf", "xau"),
    "^GSPC": ("sp500", "s&p", "spx", "gspc", "sp_500"),
}


def history_files(directory: Path) -> dict[str, Path]:
    """Map each symbol to the one CSV in `directory` whose name says which it is."""
    if not directory.is_dir():
        raise CommandError(f"GOLDSITE_HISTORY_DIR={directory} is not a folder.")
    found: dict[str, Path] = {}
    for path in sorted(directory.glob("*.csv")):
        name = path.name.lower()
        for symbol, hints in HISTORY_FILE_HINTS.items():
            if any(hint in name for hint in hints) and symbol not in found:
                found[symbol] = path
    missing = [s for s in HISTORY_FILE_HINTS if s not in found]
    if missing:
        raise CommandError(
            f"No CSV for {', '.join(missing)} in {directory}: name the files so they say what they hold "
            "(e.g. gold_data.csv and sp500.csv)."
        )
    return found


class Command(BaseCommand):
    help = "Load history, seed schedules, train a first champion, predict, create a login. Safe to re-run."

    def __init__(self, *args, open_terminal: Callable[[], TextIO | None] | None = None, **kwargs) -> None:
        """`open_terminal` opens the person's terminal for a generated password, or gives None when there is none
        (default: the controlling terminal, /dev/tty). `call_command(Command(open_terminal=...), ...)` runs it."""
        super().__init__(*args, **kwargs)
        self.open_terminal = open_terminal or _open_terminal

    def add_arguments(self, parser):
        parser.add_argument("--history-dir", default=settings.GOLDSITE_HISTORY_DIR, help="CSV folder (offline)")
        parser.add_argument("--trials", type=int, default=settings.BOOTSTRAP_TRIALS, help="quick-profile trials")
        parser.add_argument(
            "--retrain-every",
            type=int,
            default=settings.BOOTSTRAP_RETRAIN_EVERY,
            help="quick-profile trading days between walk-forward refits",
        )
        parser.add_argument("--retrain", action="store_true", help="train even when a champion exists")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the site will be served")

    def handle(self, *args, **options):
        started = time.monotonic()
        self._step("1/5 Market history")
        self._load_history(options["history_dir"])

        self._step("2/5 Schedules")
        call_command("setup_schedules", stdout=self.stdout)

        self._step("3/5 Champion model")
        champion = model_version_champion()
        if champion is not None and not options["retrain"]:
            self.stdout.write(f"Champion exists ({champion}); not retraining (use --retrain to train anyway).")
        else:
            self.stdout.write(
                f"Tuning with the quick profile: {options['trials']} trials per network, walk-forward refits every "
                f"{options['retrain_every']} trading days."
            )
            call_command("train", trials=options["trials"], retrain_every=options["retrain_every"], stdout=self.stdout)

        self._step("4/5 Scoring and next-day forecast")
        call_command("predict_next_day", stdout=self.stdout)

        self._step("5/5 Login")
        self.ensure_login()

        url = options["url"].rstrip("/")
        self.stdout.write(self.style.SUCCESS(f"\nReady in {time.monotonic() - started:.0f} s."))
        self.stdout.write(f"  Dashboard: {url}/\n  Admin:     {url}/admin/\n  API docs:  {url}/api/docs/")

    def _step(self, title: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n== {title}"))

    def _load_history(self, history_dir: str) -> None:
        if history_dir:
            for symbol, path in history_files(Path(history_dir)).items():
                call_command("import_prices", symbol, str(path), stdout=self.stdout)
            return
        try:
            loads = prices_fetch()
        except MarketDataUnavailable as exc:
            if price_latest_date(symbol=settings.GOLD_SYMBOL) is not None:
                self.stderr.write(f"Yahoo Finance is unreachable ({exc}); continuing with the stored history.")
                return
            raise CommandError(
                "Could not download price history from Yahoo Finance and the database has none.\n"
                f"  Reason: {exc}\n"
                "  To run offline, point GOLDSITE_HISTORY_DIR at a folder with gold and S&P 500 daily CSVs, e.g.\n"
                "    GOLDSITE_HISTORY_DIR=../shared/data make run\n"
                "  or import files yourself: python manage.py import_prices GC=F gold.csv"
            ) from exc
        except MarketDataError as exc:
            raise CommandError(str(exc)) from exc
        for load in loads:
            self.stdout.write(data_load_summary(load=load))

    def ensure_login(self) -> None:
        """The login step: `forecasts.services.accounts.login_ensure`, and a generated password shown to the
        person at the terminal and nothing else.

        Never through `logging`, and never into a stdout that is not a terminal (`make run > server.log`): there
        the password goes to the controlling terminal. With no terminal at all (a detached container, a service)
        no password is made; the output says how to set one.
        """
        terminal = None if self.stdout.isatty() else self.open_terminal()
        try:
            with terminal if terminal is not None else contextlib.nullcontext():
                login = login_ensure(generate_password=self.stdout.isatty() or terminal is not None)
                if login.password is not None and terminal is not None:
                    terminal.write(_login_line(login.password) + "\n")
        except LoginSettingsIncomplete as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self._login_message(login, on_terminal=terminal is not None))

    def _login_message(self, login, *, on_terminal: bool) -> str:
        if login.how == "environment":
            return f"Login: {login.username} ({'created from DJANGO_SUPERUSER_*' if login.created else 'exists'})."
        if login.how == "existing":
            return "Login: an administrator exists already."
        if login.password is None:
            return self.style.WARNING(
                "Login created: admin, without a password (this output is not a terminal, so none is shown). "
                "Set one with `python manage.py changepassword admin`, or set DJANGO_SUPERUSER_USERNAME and "
                "DJANGO_SUPERUSER_PASSWORD before running bootstrap."
            )
        if on_terminal:
            return "Login created: admin (its password was shown on the terminal, not in this output)."
        return self.style.WARNING(_login_line(login.password))


def _login_line(password: str) -> str:
    return f"Login created: admin / {password}   (shown once; change it in the admin)"


def _open_terminal() -> TextIO | None:
    """The controlling terminal (/dev/tty) for writing, or None when the process has none."""
    try:
        return Path("/dev/tty").open("w", encoding="utf-8")  # noqa: SIM115 - closed by the caller's `with`
    except OSError:
        return None
