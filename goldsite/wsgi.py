"""WSGI entry point (gunicorn goldsite.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goldsite.settings.base")

application = get_wsgi_application()
