from django.core.management.base import BaseCommand

from forecasts.schedules import schedules_setup


class Command(BaseCommand):
    help = (
        "Store Celery beat's periodic tasks (daily pipeline, refit when due, monthly tune, training reaper). "
        "Creates the missing ones and keeps existing ones as they are (admin edits survive); --reset puts every "
        "one back to its definition in forecasts/schedules.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="overwrite existing schedules with the defaults")

    def handle(self, *args, reset: bool, **options):
        for name, outcome in schedules_setup(reset=reset).items():
            self.stdout.write(f"{outcome:>7}  {name}")
