"""Settings shared by every environment; `test.py` and `production.py` adjust them."""

from goldsite.env import BASE_DIR, VAR_DIR, env

VAR_DIR.mkdir(exist_ok=True)

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "goldsite",  # the project's shared template filters (goldsite.templatetags)
    "forecasts",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "goldsite.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "goldsite.middleware.HtmxLoginRedirectMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "goldsite.urls"
WSGI_APPLICATION = "goldsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'goldsite.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a lock instead of failing at once when the worker and the web process both write.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "goldsite.staticfiles.PackagedAssetFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Content-Security-Policy (goldsite.middleware.ContentSecurityPolicyMiddleware) ---------------------------
# Every script and style comes from this site's static files: htmx from django-htmx ({% htmx_script %}), Plotly
# from the plotly package (goldsite/staticfiles.py), Swagger UI from drf-spectacular-sidecar, and static/js,
# static/css; no template has inline script or style (a test checks). Plotly itself adds <style> elements: empty
# ones that it fills through the CSSOM (allowed: the hash of ""), and one fixed block of map CSS (its hash, checked
# against the installed bundle by tests/test_middleware.py). img-src allows data: for the inline SVG favicon and
# Swagger UI's icons. Sent by production and the test settings (the browser test runs under it); off with DEBUG,
# whose error pages are inline HTML, CSS and JavaScript.
PLOTLY_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # "": plotly.js-style-* rules, inserted via CSSOM
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",  # plotly.js 4.1.1's bundled maplibre-gl CSS
]
CSP_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", *PLOTLY_STYLE_HASHES],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
CONTENT_SECURITY_POLICY = {} if DEBUG else CSP_POLICY

LOGIN_URL = "forecasts:login"
LOGIN_REDIRECT_URL = "forecasts:dashboard"
LOGOUT_REDIRECT_URL = "forecasts:login"

# --- Login rate limiting (django-axes) -------------------------------------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# JSON (429, {"detail", "code"}) on /api/auth/token/, the template above on the sign-in page.
AXES_LOCKOUT_CALLABLE = "goldsite.error_views.lockout"
# The address a lockout counts is the client's by the API throttle's rule (REMOTE_ADDR unless API_NUM_PROXIES > 0).
AXES_CLIENT_IP_CALLABLE = "goldsite.api.client_ip"

# --- Cache ----------------------------------------------------------------------------------------
# The API throttle's counters and the latest-forecast answer live here. The embedded default (one runserver
# process) keeps them in process memory; every multi-process server points CACHE_URL at a shared cache (compose:
# its Redis, db 1; the standalone container: a folder under var/) so all gunicorn workers count together.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://goldsite")}

# --- Django REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    # JSON with non-finite numbers rendered as null (never a 500), and the browsable API.
    "DEFAULT_RENDERER_CLASSES": [
        "goldsite.api_renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "goldsite.api.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "goldsite.throttling.AnonRateThrottle",  # one counter per client and window (DRF's keep every request's time)
        "goldsite.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="100000/hour"),
    },
    "EXCEPTION_HANDLER": "goldsite.api.exception_handler",
    # Reverse proxies in front of gunicorn that append the client's address to X-Forwarded-For. 0 (the default):
    # clients are told apart by the peer address alone and X-Forwarded-For is ignored, so it cannot be forged.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
}
# A forecast (and /health/'s data) is stale when its data is more than this many trading days behind the last
# completed session; the API says so (`stale`, `data_age_days`) and /health/ reports "degraded".
FORECAST_STALE_AFTER_DAYS = env.int("FORECAST_STALE_AFTER_DAYS", default=3)
# Seconds GET /api/forecasts/latest/ is served from the cache (0: never cached).
API_LATEST_CACHE_SECONDS = env.int("API_LATEST_CACHE_SECONDS", default=5)

SPECTACULAR_SETTINGS = {
    "TITLE": "Goldsite API",
    "DESCRIPTION": "Next-trading-day forecasts of COMEX gold futures (GC=F), scored against actual closes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's JavaScript comes from the drf-spectacular-sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ForecastKindEnum": "forecasts.models.Forecast.Kind",
        "NextDayForecastKindEnum": "forecasts.models.NEXT_DAY_KIND_CHOICES",
        "TrainingRunKindEnum": "training.models.TrainingRun.Kind",
        "DataLoadKindEnum": "forecasts.models.DataLoad.Kind",
        "VerdictCodeEnum": "training.evidence.VerdictCode",
    },
}

# --- Celery ----------------------------------------------------------------------------------------
# No broker configured means the embedded default: every task runs eagerly, in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or "cache+memory://")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # Quick bookkeeping stays on the default queue, never behind hour-long candidate fits.
    "training.training_runs_reap": {"queue": "default"},
    "training.training_run_start_scheduled": {"queue": "default"},
    "training.training_run_execute": {"queue": "default"},
    # A round's callback records it and sends the next round: queued behind the other candidates' fits it would
    # hold every candidate's next round until the slowest one's round had finished (bench/scale.py).
    "training.training_round_complete": {"queue": "default"},
    # Fits go to `training`, which extra machines serve.
    "training.*": {"queue": "training"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Market data -----------------------------------------------------------------------------------
GOLD_SYMBOL = "GC=F"
SPX_SYMBOL = "^GSPC"
MARKET_SYMBOLS = [GOLD_SYMBOL, SPX_SYMBOL]
# Plausible prices (open, high, low, close) per symbol, in its currency; a bar outside is refused at the door.
MARKET_PRICE_BOUNDS = {GOLD_SYMBOL: (1.0, 100_000.0), SPX_SYMBOL: (1.0, 1_000_000.0)}
# A load whose close moves more than this (percent) from the neighbouring bar is refused unless --allow-jumps.
# The largest moves in ../shared/data are 5% (gold) and 12% (S&P 500); the S&P 500's worst day ever was -20.5%.
PRICE_MAX_DAILY_MOVE_PCT = {
    GOLD_SYMBOL: env.float("PRICE_MAX_DAILY_MOVE_GOLD_PCT", default=25.0),
    SPX_SYMBOL: env.float("PRICE_MAX_DAILY_MOVE_SPX_PCT", default=25.0),
}
# A load that changes stored closes by more than this (percent) is refused unless --overwrite.
PRICE_OVERWRITE_TOLERANCE_PCT = env.float("PRICE_OVERWRITE_TOLERANCE_PCT", default=0.5)
FETCH_OVERLAP_DAYS = env.int("FETCH_OVERLAP_DAYS", default=5)
FETCH_DEFAULT_START = env.str("FETCH_DEFAULT_START", default="2020-01-01")
GOLDSITE_HISTORY_DIR = env.str("GOLDSITE_HISTORY_DIR", default="")
TRADING_CALENDAR = env.str("TRADING_CALENDAR", default="XNYS")

# --- Training and MLflow ---------------------------------------------------------------------------
MLFLOW_TRACKING_URI = env.str("MLFLOW_TRACKING_URI", default=f"sqlite:///{VAR_DIR / 'mlflow.db'}")
MLFLOW_ARTIFACT_ROOT = env.str("MLFLOW_ARTIFACT_ROOT", default=str(VAR_DIR / "mlartifacts"))
MLFLOW_EXPERIMENT = env.str("MLFLOW_EXPERIMENT", default="goldsite")
MLFLOW_REGISTERED_MODEL = env.str("MLFLOW_REGISTERED_MODEL", default="gold-next-day")
TRAINING_TEST_DAYS = env.int("TRAINING_TEST_DAYS", default=250)
# The rolling-origin protocol: CV folds over the selection period choose; the walk-forward test reports.
TRAINING_SELECTION_DAYS = env.int("TRAINING_SELECTION_DAYS", default=500)
TRAINING_FOLDS = env.int("TRAINING_FOLDS", default=5)
TRAINING_RETRAIN_EVERY = env.int("TRAINING_RETRAIN_EVERY", default=21)  # trading days: walk-forward and live refits
# Adaptive conformal γ of the bands: "cv" chooses it on the CV interval score from 0, 0.005, 0.01, 0.02, 0.05
# (with the σ model); a number fixes it (0: split conformal).
BANDS_ACI_GAMMA = env.str("BANDS_ACI_GAMMA", default="cv")
# Hyperopt configurations proposed together (batched TPE); each batch's folds are fitted in parallel.
TRAINING_TRIAL_BATCH = env.int("TRAINING_TRIAL_BATCH", default=5)
# A candidate other than naive is champion only if its one-sided Diebold–Mariano p against naive is below this.
CHAMPION_MAX_P = env.float("CHAMPION_MAX_P", default=0.10)
TRAINING_DEFAULT_TRIALS = env.int("TRAINING_DEFAULT_TRIALS", default=10)
TRAINING_HEARTBEAT_TIMEOUT = env.int("TRAINING_HEARTBEAT_TIMEOUT", default=600)  # seconds
TRAINING_TIME_LIMIT = env.int("TRAINING_TIME_LIMIT", default=3 * 60 * 60)  # seconds
# What training needs of the forecasts app, named here so that training never imports it (dependencies run one
# way: forecasts -> training). A promotion computes, stores and then requests the new champion's next-day forecast
# through TRAINING_CHAMPION_FORECASTS (a class: prepare(model_version=...), store(values=...), request()); a
# version's page adds the context each of TRAINING_VERSION_PAGE_PROVIDERS returns for it (its backtest and edge).
TRAINING_CHAMPION_FORECASTS = "forecasts.dispatch.ChampionForecasts"
TRAINING_VERSION_PAGE_PROVIDERS = ["forecasts.views.version_forecasts.version_forecasts_context"]
# The function (model_uri -> forecaster) that loads a model version's forecaster for next-day forecasts; read
# each time one is loaded, so a test (or a worker without MLflow) can name its own.
FORECASTS_FORECASTER_LOADER = "forecasts.services.prediction.forecaster_registry_load"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "alembic": {"level": "WARNING"},
        "mlflow": {"level": "WARNING"},
        "hyperopt": {"level": "WARNING"},
    },
}
TRAINING_QUEUE_TIMEOUT = env.int("TRAINING_QUEUE_TIMEOUT", default=60 * 60)  # seconds
# With no broker, a run started from a page or the API executes in a background thread of the web process.
TRAINING_EAGER_IN_THREAD = env.bool("TRAINING_EAGER_IN_THREAD", default=True)
# `manage.py bootstrap` (make run): the quick profile of the first champion's tune. Fewer trials and fewer
# walk-forward refits than a full tune; the same CV folds, so the scheduled refits reuse its hyperparameters.
BOOTSTRAP_TRIALS = env.int("BOOTSTRAP_TRIALS", default=3)
BOOTSTRAP_RETRAIN_EVERY = env.int("BOOTSTRAP_RETRAIN_EVERY", default=63)
