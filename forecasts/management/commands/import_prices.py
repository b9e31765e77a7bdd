from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forecasts.exceptions import MarketDataError
from forecasts.services.prices import data_load_summary, prices_import_csv


class Command(BaseCommand):
    help = (
        "Import one symbol's daily bars from a CSV file: Yahoo's history download (dd/mm/yyyy or ISO dates), "
        "a yfinance .to_csv() export, or a FRED two-column file. All or nothing; safe to repeat."
    )

    def add_arguments(self, parser):
        parser.add_argument("symbol", help="GC=F or ^GSPC")
        parser.add_argument("path", type=Path, help="the CSV file")

    def handle(self, *args, symbol: str, path: Path, **options):
        try:
            load = prices_import_csv(symbol=symbol, path=path)
        except MarketDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(data_load_summary(load=load))
