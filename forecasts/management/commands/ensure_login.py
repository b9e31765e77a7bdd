"""`manage.py ensure_login`: create the DJANGO_SUPERUSER_* administrator unless it exists (the container's
`migrate` runs it). Exits 1 when the username is set without a password."""

from django.core.management.base import BaseCommand, CommandError

from forecasts.services.accounts import LoginSettingsIncomplete, superuser_from_environment


class Command(BaseCommand):
    help = "Create the DJANGO_SUPERUSER_USERNAME / _PASSWORD / _EMAIL administrator unless it exists."

    def handle(self, *args, **options):
        try:
            login = superuser_from_environment()
        except LoginSettingsIncomplete as exc:
            raise CommandError(str(exc)) from exc
        if login is None:
            self.stdout.write("No DJANGO_SUPERUSER_USERNAME: no login to ensure.")
            return
        username, created = login
        self.stdout.write(f"Login: {username} ({'created from DJANGO_SUPERUSER_*' if created else 'exists'}).")
