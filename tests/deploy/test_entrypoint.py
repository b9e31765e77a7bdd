"""docker/entrypoint.sh, run here with the project's virtualenv in place of the image's Python."""

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
ENTRYPOINT = str(ROOT / "docker" / "entrypoint.sh")
SHOW_ENV = (
    "import json, os; print(json.dumps({k: os.environ.get(k) for k in ("
    "'SECRET_KEY', 'ALLOWED_HOSTS', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE',"
    "'SECURE_HSTS_SECONDS', 'USE_X_FORWARDED_PROTO', 'DJANGO_SETTINGS_MODULE', 'CACHE_URL', 'CSRF_TRUSTED_ORIGINS')}))"
)


def _run(env: dict[str, str], *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ENTRYPOINT, *args], cwd="/", env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def _environment(env: dict[str, str]) -> dict:
    result = _run(env, "python", "-c", SHOW_ENV)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def key_file(tmp_path) -> Path:
    return tmp_path / "var" / "secret_key"


def test_without_secret_key_it_generates_one_and_keeps_it(clean_env, key_file):
    env = clean_env(GOLDSITE_SECRET_KEY_FILE=str(key_file))

    first = _environment(env)
    second = _environment(env)

    assert len(first["SECRET_KEY"]) >= 50
    assert second["SECRET_KEY"] == first["SECRET_KEY"] == key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o077 == 0
    assert first["DJANGO_SETTINGS_MODULE"] == "goldsite.settings.production"


def test_standalone_mode_defaults_to_plain_http_on_the_local_host_names_and_warns(clean_env, key_file):
    env = clean_env(GOLDSITE_SECRET_KEY_FILE=str(key_file))

    result = _run(env, "python", "-c", "")
    values = _environment(env)

    assert "WARNING: SECRET_KEY is not set" in result.stderr
    assert values["ALLOWED_HOSTS"] == "localhost,127.0.0.1,[::1]"  # never "*": any Host would be echoed in links
    assert values["SECURE_SSL_REDIRECT"] == values["SESSION_COOKIE_SECURE"] == values["CSRF_COOKIE_SECURE"] == "false"
    assert values["SECURE_HSTS_SECONDS"] == "0"
    assert values["USE_X_FORWARDED_PROTO"] is None  # no proxy is trusted unless one is configured
    assert values["CSRF_TRUSTED_ORIGINS"] is None


def test_standalone_mode_adds_the_host_it_is_reached_by(clean_env, key_file):
    values = _environment(clean_env(GOLDSITE_SECRET_KEY_FILE=str(key_file), GOLDSITE_HOST="demo.example.com"))

    assert values["ALLOWED_HOSTS"] == "localhost,127.0.0.1,[::1],demo.example.com"
    # Sign-in forms posted from https://demo.example.com pass the CSRF origin check behind a TLS proxy too.
    assert values["CSRF_TRUSTED_ORIGINS"] == "https://demo.example.com"


STANDALONE_REQUESTS = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client, RequestFactory
client = Client(raise_request_exception=False)
forged_host = client.get("/api/prices/?page=2", HTTP_HOST="evil.example.com")
print(json.dumps({
    "proxy_ssl_header": settings.SECURE_PROXY_SSL_HEADER,
    "forged_proto_is_secure": RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https").is_secure(),
    "forged_host": [forged_host.status_code, forged_host["Content-Type"], forged_host.content.decode()],
}))
"""


def test_standalone_mode_trusts_neither_a_forwarded_proto_nor_a_foreign_host(clean_env, key_file, tmp_path):
    env = clean_env(
        GOLDSITE_SECRET_KEY_FILE=str(key_file),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CACHE_URL=f"filecache://{tmp_path / 'cache'}",
    )

    result = _run(env, "python", "-c", STANDALONE_REQUESTS)

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["proxy_ssl_header"] is None
    assert answers["forged_proto_is_secure"] is False
    status, content_type, body = answers["forged_host"]
    assert (status, content_type) == (400, "application/json")
    assert "evil.example.com" not in body


@pytest.mark.parametrize("secret_key", ["", "k" * 50], ids=["standalone", "with-secret-key"])
def test_the_container_shares_its_cache_between_gunicorn_workers(clean_env, key_file, secret_key):
    """Throttle counters live in the cache: without CACHE_URL, every process of the container uses a folder in var/."""
    env = clean_env(GOLDSITE_SECRET_KEY_FILE=str(key_file), **({"SECRET_KEY": secret_key} if secret_key else {}))

    assert _environment(env)["CACHE_URL"] == f"filecache://{ROOT / 'var' / 'cache'}"
    assert _environment({**env, "CACHE_URL": "redis://redis:6379/1"})["CACHE_URL"] == "redis://redis:6379/1"


def test_standalone_mode_keeps_what_is_set(clean_env, key_file):
    values = _environment(
        clean_env(GOLDSITE_SECRET_KEY_FILE=str(key_file), ALLOWED_HOSTS="demo.example.com", SECURE_SSL_REDIRECT="true")
    )

    assert values["ALLOWED_HOSTS"] == "demo.example.com"
    assert values["SECURE_SSL_REDIRECT"] == "true"


def test_with_secret_key_it_adds_nothing(clean_env, key_file):
    values = _environment(clean_env(GOLDSITE_SECRET_KEY_FILE=str(key_file), SECRET_KEY="k" * 50))

    assert values["SECRET_KEY"] == "k" * 50
    assert values["ALLOWED_HOSTS"] is None
    assert values["SECURE_SSL_REDIRECT"] is None
    assert not key_file.exists()


def test_with_secret_key_but_no_allowed_hosts_production_settings_fail_fast(clean_env, key_file):
    result = _run(clean_env(GOLDSITE_SECRET_KEY_FILE=str(key_file), SECRET_KEY="k" * 50), "manage", "check")

    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_refuse_to_start_without_a_broker(clean_env, key_file, command):
    result = _run(clean_env(GOLDSITE_SECRET_KEY_FILE=str(key_file)), command)

    assert result.returncode == 2
    assert "needs CELERY_BROKER_URL" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_web_migrates_creates_the_superuser_and_serves_a_healthy_site(clean_env, tmp_path, key_file):
    """The image's default command, standalone: SQLite, no broker, no SECRET_KEY; the HEALTHCHECK then passes."""
    port = _free_port()
    (tmp_path / "static").mkdir()
    env = clean_env(
        GOLDSITE_SECRET_KEY_FILE=str(key_file),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        CACHE_URL=f"filecache://{tmp_path / 'cache'}",
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
        MLFLOW_ARTIFACT_ROOT=str(tmp_path / "mlartifacts"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_EMAIL="admin@example.com",
        DJANGO_SUPERUSER_PASSWORD="a-long-test-password",
    )
    log = tmp_path / "web.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [ENTRYPOINT, "web"], cwd="/", env=env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/admin/login/")
                status = connection.getresponse().status
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)

        assert status == 200, log.read_text()
        health = subprocess.run(
            [sys.executable, str(ROOT / "docker" / "healthcheck.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.returncode == 0, health.stderr
        # Running migrate again (as the compose migrate service does) keeps the existing superuser.
        again = _run(env, "migrate")
        assert again.returncode == 0, again.stderr
        count = "from django.contrib.auth.models import User; print(User.objects.filter(is_superuser=True).count())"
        users = _run(env, "manage", "shell", "-c", count)
        assert users.stdout.strip().splitlines()[-1] == "1", users.stdout + users.stderr
        # The server log never holds the account's password.
        assert "a-long-test-password" not in log.read_text() + again.stdout + again.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
