"""The soak's stack and its database: `manage.py` through the entrypoint, the ORM set up on the soak's database,
the users, the bootstrap, the stack's environment and processes (bench/soak.py)."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import time
from pathlib import Path

from tests.e2e import harness

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT.parent / "shared" / "data"
HISTORY_FILES = (("GC=F", "gold_data.csv"), ("^GSPC", "sp500.csv"))
DATABASE_NAME = "goldsite_soak"
HEARTBEAT_TIMEOUT = 90  # seconds: TRAINING_HEARTBEAT_TIMEOUT of the stack (production: 600)
REAPER_PERIOD = 60  # seconds: the "Reap stalled training runs" schedule (forecasts/schedules.py)
START_SECONDS = 180
ADMIN = {"username": "soak-admin", "password": secrets.token_urlsafe(16)}


def manage(env: dict[str, str], *args: str, timeout: float = 3600) -> tuple[float, str]:
    """`docker/entrypoint.sh manage ARGS...`; returns (seconds, its stdout); raises with the output if it fails."""
    started = time.monotonic()
    result = harness.entrypoint(env, "manage", *args, timeout=timeout)
    return time.monotonic() - started, result.stdout


def django_setup(env: dict[str, str]) -> None:
    """This process reads the soak's database through the ORM (the forecast snapshots, the final checks)."""
    os.environ.update({k: v for k, v in env.items() if k != "PATH"}, LOG_LEVEL="WARNING")
    import django

    django.setup()


def users_create() -> dict[str, str]:
    """A plain user (the readers) and an ML engineer (promotions, runs): group membership, not staff."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from training.permissions import ML_ENGINEERS_GROUP

    users = get_user_model()
    passwords = {"soak-reader": secrets.token_urlsafe(16), "soak-ml": secrets.token_urlsafe(16)}
    for username, password in passwords.items():
        users.objects.create_user(username, password=password)
    users.objects.get(username="soak-ml").groups.add(Group.objects.get(name=ML_ENGINEERS_GROUP))
    connection.close()
    return passwords


def bootstrap(env: dict[str, str], profile: str) -> float:
    """History loaded, a champion and its next-day forecast; returns the seconds it took."""
    started = time.monotonic()
    if profile == "quick":
        manage(env, "bootstrap", "--history-dir", str(HISTORY))
    else:
        for symbol, name in HISTORY_FILES:
            manage(env, "import_prices", symbol, str(HISTORY / name))
        manage(env, "train", "--trials", "1", "--architectures", "mlp", "--retrain-every", "63")
        manage(env, "predict_next_day")
    return time.monotonic() - started


# --- the database, read directly -----------------------------------------------------------------------------


def forecast_rows() -> dict[int, tuple]:
    from forecasts.models import Forecast

    rows = Forecast.objects.values_list("id", "model_version_id", "kind", "target_date", "predicted_close")
    return {pk: (version, kind, target, close) for pk, version, kind, target, close in rows}


def champion_pair() -> tuple[int, int] | None:
    """(the champion's id, another version's id to promote in turn): a network when the champion is not one."""
    from training.models import ModelVersion

    champion = ModelVersion.objects.filter(is_champion=True).first()
    if champion is None:
        return None
    others = ModelVersion.objects.exclude(pk=champion.pk).order_by("-id")
    networks = [v for v in others if v.architecture in ("mlp", "cnn", "lstm", "ensemble")]
    other = (networks or list(others) or [None])[0]
    return (champion.pk, other.pk) if other is not None else None


def stack_environment(stack: contextlib.ExitStack, args: argparse.Namespace, workdir: Path) -> tuple[dict, int]:
    """The soak's database, broker and cache (released when `stack` closes) and the stack's environment; prints
    where they are. Returns (the environment, gunicorn's port)."""
    postgres = harness.postgres_server_url(args.database_url)
    redis = harness.redis_server_url(args.redis_url)
    database_url = stack.enter_context(harness.temporary_database(postgres, name=DATABASE_NAME))
    broker_url = stack.enter_context(harness.claimed_redis_db(redis))
    cache_url = stack.enter_context(harness.claimed_redis_db(redis))
    port = harness.free_port()
    env = harness.stack_environment(
        database_url=database_url,
        broker_url=broker_url,
        workdir=workdir,
        CACHE_URL=cache_url,
        PORT=str(port),
        WEB_CONCURRENCY="2",
        CELERY_CONCURRENCY="2",
        TRAINING_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        TRAINING_QUEUE_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        TRAINING_RETRAIN_EVERY="63",  # the quick profile's walk-forward: 4 refits, not 12
        DJANGO_SUPERUSER_USERNAME=ADMIN["username"],
        DJANGO_SUPERUSER_EMAIL="soak@example.com",
        DJANGO_SUPERUSER_PASSWORD=ADMIN["password"],
    )
    print(f"PostgreSQL {database_url}, broker {broker_url}, cache {cache_url}, gunicorn on :{port}")
    return env, port


def processes_start(processes: dict[str, harness.Process], *, base_url: str) -> None:
    """Start web, worker and beat and wait until each says it is ready."""
    for process in processes.values():
        process.start()
    harness.wait_for_http(f"{base_url}/health/", seconds=START_SECONDS, process=processes["web"])
    processes["worker"].wait_for_output("ready.", seconds=START_SECONDS)
    processes["beat"].wait_for_output("beat: Starting...", seconds=START_SECONDS)
