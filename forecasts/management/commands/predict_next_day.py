from django.core.management.base import BaseCommand, CommandError

from forecasts.exceptions import ForecastError
from forecasts.models import Forecast
from forecasts.services.daily import next_day_forecast_and_score


class Command(BaseCommand):
    help = (
        "Forecast the next trading day's gold close with the champion and the naive baseline, and store both "
        "(a forecast already stored for that day is shown, not recomputed). A forecast of a day whose gold close "
        "is already stored is stored as late, never counted as live. Runs now, in this process; the scheduled "
        "run is the Celery task predict_next_day. Then scores every forecast whose close is stored."
    )

    def handle(self, *args, **options):
        try:
            outcome = next_day_forecast_and_score()
        except ForecastError as exc:
            raise CommandError(str(exc)) from exc
        for forecast in outcome.forecasts:
            late = (
                f"  late: made after the gold close of {forecast.target_date.isoformat()} was stored, "
                "never counted as live"
                if forecast.kind == Forecast.Kind.LATE
                else ""
            )
            self.stdout.write(
                f"{forecast.target_date.isoformat()}  {forecast.model_version}: {forecast.predicted_close:,.2f} "
                f"(80% band {forecast.lower_80:,.2f} – {forecast.upper_80:,.2f}; "
                f"as of {forecast.as_of_date.isoformat()} close {forecast.last_close:,.2f}){late}"
            )
        if outcome.missing is not None:
            self.stdout.write(self.style.WARNING(f"No live forecast can be made yet: {outcome.missing.message}."))
        if outcome.scored:
            self.stdout.write(f"Scored {outcome.scored} forecast(s) against stored closes.")
