import argparse
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from forecasts.exceptions import MarketDataError
from forecasts.services.prices import data_load_summary, prices_fetch


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-09-01") from None


class Command(BaseCommand):
    help = (
        "Fetch new daily bars from Yahoo Finance, from each symbol's last stored day minus FETCH_OVERLAP_DAYS "
        "(or from --since). Runs now, in this process; the scheduled fetch is the Celery task fetch_market_data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--symbol", action="append", dest="symbols", help="GC=F or ^GSPC; repeat for both (default: both)"
        )
        parser.add_argument("--since", type=_iso_date, help="first day to fetch, YYYY-MM-DD")
        parser.add_argument(
            "--overwrite", action="store_true", help="let Yahoo change stored closes by more than the tolerance"
        )
        parser.add_argument("--allow-jumps", action="store_true", help="accept one-day moves beyond the daily limit")

    def handle(
        self, *args, symbols: list[str] | None, since: dt.date | None, overwrite: bool, allow_jumps: bool, **options
    ):
        try:
            loads = prices_fetch(symbols=symbols, since=since, overwrite=overwrite, allow_jumps=allow_jumps)
        except MarketDataError as exc:
            raise CommandError(str(exc)) from exc
        for load in loads:
            self.stdout.write(data_load_summary(load=load))
