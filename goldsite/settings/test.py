"""Settings for the test suite.

The database comes from `DATABASE_URL` when it is set (CI: PostgreSQL), else SQLite. Celery always runs
eagerly here; the tests that need a real worker start one themselves against `CELERY_BROKER_URL`.
MLflow writes into a per-process temporary folder so tests never touch `var/`.
"""

import tempfile

from goldsite.settings.base import *  # noqa: F403
from goldsite.settings.base import env

DEBUG = False
CONTENT_SECURITY_POLICY = CSP_POLICY  # noqa: F405 - as in production: pages and the browser test run under it
SECRET_KEY = "test-only-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if not env.str("DATABASE_URL", default=""):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# The broker URL a real-worker test uses; the rest of the suite runs tasks eagerly.
REAL_CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

_mlflow_dir = tempfile.mkdtemp(prefix="goldsite-mlflow-")
MLFLOW_TRACKING_URI = f"sqlite:///{_mlflow_dir}/mlflow.db"
MLFLOW_ARTIFACT_ROOT = f"{_mlflow_dir}/artifacts"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/min", "user": "10000/min"}}  # noqa: F405
AXES_ENABLED = env.bool("AXES_ENABLED", default=False)
API_LATEST_CACHE_SECONDS = 0  # a test reads what it just stored; tests/e2e/test_api_cache.py turns it on
LOGGING = {"version": 1, "disable_existing_loggers": False}
TRAINING_EAGER_IN_THREAD = False
# WhiteNoise warns about a missing STATIC_ROOT at every request; tests never collect static files.
STATIC_ROOT = tempfile.mkdtemp(prefix="goldsite-static-")
