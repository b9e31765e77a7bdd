"""Run the real stack on this machine: a throw-away PostgreSQL database and Redis db, and the processes
`docker/entrypoint.sh` starts (web, worker, beat) with the project's virtualenv in place of the image's Python.

Used by `tests/e2e/test_stack.py` and by the benchmarks in `bench/`. The services come from the usual variables:
DATABASE_URL names the PostgreSQL server (its database is not touched: a new one is created beside it) and
CELERY_BROKER_URL the Redis server (an empty db number other than 0, 1 and 15 is claimed and flushed).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent
# Redis dbs never claimed: compose uses 0 (broker) and 1 (cache); .ci/run reserves 15 for the suite.
RESERVED_REDIS_DBS = {0, 1, 15}
CLAIM_KEY = "goldsite:e2e:claimed-by"
CLAIM_SECONDS = 30 * 60


class ServiceUnavailable(Exception):
    """PostgreSQL or Redis is not configured or not reachable."""


def postgres_server_url(url: str | None = None) -> str:
    """The PostgreSQL server of `url` (default: DATABASE_URL), as a URL of its `postgres` maintenance database."""
    parts = urlsplit(url if url is not None else os.environ.get("DATABASE_URL", ""))
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ServiceUnavailable("needs DATABASE_URL pointing at PostgreSQL")
    return urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))


def redis_server_url(url: str | None = None) -> str:
    """The Redis server of `url` (default: CELERY_BROKER_URL), without a db number."""
    parts = urlsplit(url if url is not None else os.environ.get("CELERY_BROKER_URL", ""))
    if parts.scheme != "redis":
        raise ServiceUnavailable("needs CELERY_BROKER_URL pointing at Redis")
    return urlunsplit(("redis", parts.netloc, "", "", ""))


@contextlib.contextmanager
def temporary_database(server_url: str, *, name: str | None = None) -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL (django-environ form), drop it afterwards."""
    import psycopg
    from psycopg import sql

    name = name or f"goldsite_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = psycopg.connect(server_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise ServiceUnavailable(f"PostgreSQL is not reachable at {server_url}: {exc}") from exc
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            parts = urlsplit(server_url)
            yield urlunsplit(("postgres", parts.netloc, f"/{name}", "", ""))
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def claimed_redis_db(server_url: str) -> Iterator[str]:
    """Claim an empty Redis db (not 0, 1 or 15), flush it, yield its URL; flush it again afterwards.

    The claim is a key in the db itself, set only if absent, so two runs on one machine never share a db, and a
    db holding someone else's keys is never chosen.
    """
    import redis

    probe = redis.Redis.from_url(server_url, socket_timeout=5)
    try:
        probe.ping()
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"Redis is not reachable at {server_url}: {exc}") from exc
    try:
        databases = int(probe.config_get("databases").get("databases", 16))
    except redis.ResponseError:  # CONFIG may be disabled (managed Redis): assume the default
        databases = 16
    owner = f"{os.getpid()}-{secrets.token_hex(4)}"
    for number in range(2, databases):
        if number in RESERVED_REDIS_DBS:
            continue
        client = redis.Redis.from_url(f"{server_url}/{number}", socket_timeout=5)
        if client.dbsize() != 0 or not client.set(CLAIM_KEY, owner, nx=True, ex=CLAIM_SECONDS):
            continue
        if client.dbsize() != 1:  # someone wrote between the check and the claim: leave their db alone
            client.delete(CLAIM_KEY)
            continue
        try:
            yield f"{server_url}/{number}"
        finally:
            client.flushdb()
        return
    raise ServiceUnavailable(f"no empty Redis db to claim on {server_url}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_environment(*, database_url: str, broker_url: str | None, workdir: Path, **overrides: str) -> dict[str, str]:
    """A clean environment for the entrypoint: production settings over plain HTTP, services from the arguments.

    Secrets, hosts and the HTTPS switches are set the way an operator sets them, so the entrypoint's standalone
    defaults stay out of the way. MLflow writes a SQLite store and artifacts under `workdir`.
    """
    env = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "goldsite.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
        "MLFLOW_ARTIFACT_ROOT": str(workdir / "mlartifacts"),
        "STATIC_ROOT": str(workdir / "static"),
        # Shared by the stack's processes, as the entrypoint's default (var/cache) would be, but not the repo's var/.
        "CACHE_URL": f"filecache://{workdir / 'cache'}",
        "GOLDSITE_SECRET_KEY_FILE": str(workdir / "secret_key"),
        "LOG_LEVEL": "INFO",
    }
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    env.update(overrides)
    (workdir / "static").mkdir(parents=True, exist_ok=True)
    return env


def entrypoint(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `docker/entrypoint.sh ARGS...` to completion; raise with its output if it fails."""
    result = subprocess.run(
        [str(ENTRYPOINT), *args],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        command = " ".join(args)
        raise RuntimeError(f"entrypoint.sh {command} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


@dataclass
class Process:
    """A long-running `docker/entrypoint.sh <command>` in its own process group, output in a log file."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    logdir: Path
    popen: subprocess.Popen | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.logs[-1]

    def start(self) -> Process:
        """Start it (again): each start writes a new log file, `<name>-<n>.log`."""
        self.logs.append(self.logdir / f"{self.name}-{len(self.logs) + 1}.log")
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [str(ENTRYPOINT), *self.args],
                cwd="/",
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: a kill reaches the Celery pool too
            )
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.logs and self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group at once: no warm shutdown, no chance to record anything."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, *, grace: float = 10) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after `grace` seconds."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):  # pool children that outlived their parent
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def wait_for_output(self, text: str, *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output():
            if not self.running:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}) before printing {text!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not print {text!r} within {seconds:g} s")
            time.sleep(0.2)

    def tail(self, lines: int = 80) -> str:
        shown = []
        for log in self.logs:
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            shown.append(f"----- {log.name} (last {min(lines, len(text))} of {len(text)} lines) -----")
            shown.extend(text[-lines:])
        return "\n".join(shown)


def wait_for_http(url: str, *, seconds: float, process: Process | None = None, status: int = 200) -> float:
    """Poll `url` until it answers `status`; returns the seconds waited."""
    import requests

    started = time.monotonic()
    while True:
        try:
            if requests.get(url, timeout=5).status_code == status:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        if process is not None and not process.running:
            raise RuntimeError(f"{process.name} exited ({process.popen.returncode}) before {url} answered")
        if time.monotonic() - started > seconds:
            raise TimeoutError(f"{url} did not answer {status} within {seconds:g} s")
        time.sleep(0.1)
