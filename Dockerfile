# One image for every Goldsite process: web (default), worker, beat, migrate, manage, and the MLflow server.
#   docker build -t goldsite .
#   docker run -p 7860:7860 -e PORT=7860 goldsite      # standalone: SQLite, eager Celery, MLflow under /app/var
#   docker compose up                                  # PostgreSQL, Redis, MLflow server, worker and beat
# See docker/entrypoint.sh for the commands and .env.example for the settings.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --gid 1000 goldsite \
    && useradd --uid 1000 --gid goldsite --create-home --shell /usr/sbin/nologin goldsite

WORKDIR /app

# The pinned runtime dependencies from pyproject.toml (no dev extras) in their own layer, so a code change does
# not reinstall TensorFlow.
COPY pyproject.toml ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, installed in place: settings find templates/, static/ and var/ beside the packages
# (goldsite/env.py BASE_DIR), which a plain `pip install .` into site-packages would lose.
COPY . .
RUN pip install --no-deps -e . \
    && chmod 0755 docker/entrypoint.sh \
    && ln -s /app/docker/entrypoint.sh /usr/local/bin/goldsite

# Static files are collected into the image (outside var/, which is a volume) with production settings and
# throwaway values for the two variables production requires; neither value is kept in the image's environment.
ARG DUMMY_SECRET_KEY=collectstatic-only-not-a-secret-key-never-used-at-runtime
ARG DUMMY_ALLOWED_HOSTS=localhost
ENV STATIC_ROOT=/app/staticfiles
RUN DJANGO_SETTINGS_MODULE=goldsite.settings.production \
    SECRET_KEY="$DUMMY_SECRET_KEY" ALLOWED_HOSTS="$DUMMY_ALLOWED_HOSTS" \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var /mlartifacts \
    && chown goldsite:goldsite /app/var /mlartifacts

USER goldsite

ENV DJANGO_SETTINGS_MODULE=goldsite.settings.production \
    PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
