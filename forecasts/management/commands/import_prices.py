from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forecasts.exceptions import MarketDataError
from forecasts.services.csv_dates import DATE_FORMATS
from forecasts.services.prices import data_load_summary, prices_import_csv


class Command(BaseCommand):
    help = (
        "Import one symbol's daily bars from a CSV file: Yahoo's history download (dd/mm/yyyy or ISO dates), "
        "a yfinance .to_csv() export, or a FRED two-column file. All or nothing; safe to repeat. Refuses implausible "
        "bars, one-day jumps (--allow-jumps), changes to stored closes (--overwrite) and ambiguous dates "
        "(--date-format)."
    )

    def add_arguments(self, parser):
        parser.add_argument("symbol", help="GC=F or ^GSPC")
        parser.add_argument("path", type=Path, help="the CSV file")
        parser.add_argument(
            "--date-format",
            choices=DATE_FORMATS,
            help="how to read the dates (default: detected; needed when slashed dates read both as dd/mm and mm/dd)",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="let the file change stored closes by more than PRICE_OVERWRITE_TOLERANCE_PCT",
        )
        parser.add_argument(
            "--allow-jumps",
            action="store_true",
            help="accept one-day moves beyond the symbol's PRICE_MAX_DAILY_MOVE_*_PCT (a real crash or rally)",
        )

    def handle(
        self, *args, symbol: str, path: Path, date_format: str | None, overwrite: bool, allow_jumps: bool, **options
    ):
        try:
            load = prices_import_csv(
                symbol=symbol, path=path, date_format=date_format, overwrite=overwrite, allow_jumps=allow_jumps
            )
        except MarketDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(data_load_summary(load=load))
