#!/usr/bin/env bash
# The one image runs the site, the Celery worker, Celery beat and management commands:
#
#   web                 apply migrations, then serve with gunicorn on $PORT (the default command)
#   worker              Celery worker for the default and training queues
#   beat                Celery beat, schedules read from the database (django-celery-beat)
#   migrate             apply migrations (and create the DJANGO_SUPERUSER_* account when it is set)
#   manage ARGS...      python manage.py ARGS...
#   mlflow ARGS...      the MLflow CLI, e.g. the tracking server (needs no Django configuration)
#   anything else       run as given, with the same environment (e.g. `goldsite celery -A goldsite inspect ping`)
#
# Settings are always goldsite.settings.production. Without SECRET_KEY the container runs in standalone mode
# (one container, SQLite, eager Celery, MLflow under var/): a key is generated once into var/secret_key,
# ALLOWED_HOSTS defaults to the local names plus GOLDSITE_HOST (the name people reach it by, when set), and the
# HTTPS settings default to values that work over plain HTTP. Without CACHE_URL the cache is a folder, var/cache,
# so the API throttle's counters are shared by every gunicorn worker (process memory would give each its own).
# See .env.example.
set -euo pipefail

APP_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
SECRET_KEY_FILE="${GOLDSITE_SECRET_KEY_FILE:-$APP_DIR/var/secret_key}"

log() { printf 'goldsite: %s\n' "$*" >&2; }

standalone_defaults() {
    if [[ ! -s "$SECRET_KEY_FILE" ]]; then
        mkdir -p "$(dirname "$SECRET_KEY_FILE")"
        local tmp="$SECRET_KEY_FILE.$$"
        (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(50))' >"$tmp")
        ln "$tmp" "$SECRET_KEY_FILE" 2>/dev/null || true # atomic: the first container to get here wins
        rm -f "$tmp"
    fi
    SECRET_KEY="$(<"$SECRET_KEY_FILE")"
    export SECRET_KEY
    # Never "*": Django would accept any Host header and write it into absolute links (API pagination).
    local hosts="localhost,127.0.0.1,[::1]"
    if [[ -n "${GOLDSITE_HOST:-}" ]]; then
        hosts="$hosts,$GOLDSITE_HOST"
        # Forms posted from https://$GOLDSITE_HOST (a TLS proxy in front) pass Django's CSRF origin check.
        export CSRF_TRUSTED_ORIGINS="${CSRF_TRUSTED_ORIGINS:-https://$GOLDSITE_HOST}"
    fi
    export ALLOWED_HOSTS="${ALLOWED_HOSTS:-$hosts}"
    export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-false}"
    export SESSION_COOKIE_SECURE="${SESSION_COOKIE_SECURE:-false}"
    export CSRF_COOKIE_SECURE="${CSRF_COOKIE_SECURE:-false}"
    export SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
    # X-Forwarded-Proto is trusted only with USE_X_FORWARDED_PROTO=true and API_NUM_PROXIES > 0 (a proxy in front).
    log "WARNING: SECRET_KEY is not set: standalone mode. Using the key in $SECRET_KEY_FILE," \
        "ALLOWED_HOSTS=$ALLOWED_HOSTS, SECURE_SSL_REDIRECT=$SECURE_SSL_REDIRECT. Set SECRET_KEY and" \
        "ALLOWED_HOSTS for a real deployment (see .env.example)."
}

configure() {
    cd "$APP_DIR"
    export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-goldsite.settings.production}"
    # The API throttle counts in the cache: one shared by all gunicorn workers (compose sets Redis).
    export CACHE_URL="${CACHE_URL:-filecache://$APP_DIR/var/cache}"
    if [[ -z "${SECRET_KEY:-}" ]]; then
        standalone_defaults
    fi
}

require_broker() {
    if [[ -z "${CELERY_BROKER_URL:-}" ]]; then
        log "ERROR: '$1' needs CELERY_BROKER_URL (without it tasks run eagerly inside the web process)."
        exit 2
    fi
}

migrate() {
    python manage.py migrate --noinput
    if [[ -n "${DJANGO_SUPERUSER_USERNAME:-}" ]]; then
        python manage.py ensure_login  # the same service bootstrap uses; exits 1 without a password
    fi
}

command="${1:-web}"
shift || true
case "$command" in
web)
    configure
    migrate
    exec gunicorn goldsite.wsgi:application --bind "0.0.0.0:${PORT:-8000}" \
        --workers "${WEB_CONCURRENCY:-2}" --access-logfile - "$@"
    ;;
worker)
    configure
    require_broker worker
    exec celery -A goldsite worker -Q default,training --concurrency "${CELERY_CONCURRENCY:-2}" -l info "$@"
    ;;
beat)
    configure
    require_broker beat
    exec celery -A goldsite beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler "$@"
    ;;
migrate)
    configure
    migrate
    ;;
manage)
    configure
    exec python manage.py "$@"
    ;;
mlflow)
    exec mlflow "$@"
    ;;
*)
    configure
    exec "$command" "$@"
    ;;
esac
