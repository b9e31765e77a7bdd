"""docker-compose.yaml is valid, runs only what the image's entrypoint offers, and takes its settings from .env."""

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_services

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yaml"
ENTRYPOINT = "/app/docker/entrypoint.sh"
APP_SERVICES = {"mlflow", "migrate", "web", "worker", "beat"}
# Settings the compose stack deliberately does not pass: the image fixes STATIC_ROOT, and the artifact folder is
# only for a local tracking store (compose uses the MLflow server's artifact proxy).
NOT_PASSED = {"STATIC_ROOT", "MLFLOW_ARTIFACT_ROOT"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def entrypoint_commands() -> set[str]:
    """The subcommands docker/entrypoint.sh handles: the labels of its `case "$command"`."""
    script = (ROOT / "docker" / "entrypoint.sh").read_text()
    block = script[script.index('case "$command" in') :]
    return set(re.findall(r"^([a-z][a-z-]*)\)$", block, re.MULTILINE))


def _entrypoint_calls(command: list[str]) -> list[str]:
    """The entrypoint subcommands a compose `command` runs: its first word, or each one an `sh -c` script calls."""
    if command[:2] == ["sh", "-c"]:
        words = shlex.split(command[2])
        return [words[i + 1] for i, word in enumerate(words) if word in (ENTRYPOINT, "goldsite")]
    return [command[0]]


def test_docker_compose_config_is_valid():
    if shutil.which("docker-compose") is None:
        if require_services():
            pytest.fail("docker-compose is not installed (apt-get install -y docker-compose)")
        pytest.skip("docker-compose is not installed")

    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr


def test_services(compose):
    assert set(compose["services"]) == {"postgres", "redis"} | APP_SERVICES


def test_app_services_use_the_app_image(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["build"] == ".", name
        assert service["image"] == "goldsite:latest", name


def test_dockerfile_runs_the_entrypoint_with_web_by_default(entrypoint_commands):
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert f'ENTRYPOINT ["{ENTRYPOINT}"]' in dockerfile
    assert 'CMD ["web"]' in dockerfile
    assert "ln -s /app/docker/entrypoint.sh /usr/local/bin/goldsite" in dockerfile
    assert {"web", "worker", "beat", "migrate", "manage", "mlflow"} <= entrypoint_commands


def test_every_service_command_is_an_entrypoint_command(compose, entrypoint_commands):
    for name in APP_SERVICES:
        calls = _entrypoint_calls(compose["services"][name]["command"])
        assert calls, name
        assert set(calls) <= entrypoint_commands, f"{name}: {calls} not in {sorted(entrypoint_commands)}"


def test_process_commands(compose):
    services = compose["services"]

    assert services["web"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"]
    assert services["beat"]["command"] == ["beat"]
    migrate = services["migrate"]["command"][2]
    assert migrate.startswith(f"{ENTRYPOINT} migrate &&")
    assert "python manage.py setup_schedules" in migrate
    mlflow = services["mlflow"]["command"]
    assert mlflow[:2] == ["mlflow", "server"]
    assert mlflow[mlflow.index("--backend-store-uri") + 1].startswith("postgresql+psycopg://")
    assert mlflow[mlflow.index("--artifacts-destination") + 1] == "/mlartifacts"
    assert "--serve-artifacts" in mlflow


def test_web_waits_for_migrations_and_healthy_services(compose):
    depends_on = compose["services"]["web"]["depends_on"]

    assert depends_on["migrate"] == {"condition": "service_completed_successfully"}
    for name in ("postgres", "redis", "mlflow"):
        assert depends_on[name] == {"condition": "service_healthy"}
        assert "test" in compose["services"][name]["healthcheck"]


def test_only_web_inherits_the_images_http_healthcheck(compose):
    """The image's HEALTHCHECK probes gunicorn; every other app service must replace or disable it."""
    for name in APP_SERVICES - {"web"}:
        healthcheck = compose["services"][name].get("healthcheck", {})
        assert healthcheck.get("disable") or "test" in healthcheck, name


def test_app_services_reach_the_other_services(compose):
    for name in APP_SERVICES - {"mlflow"}:
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"], name
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/"), name
        assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000", name
        assert compose["services"][name]["volumes"] == ["appvar:/app/var"], name


def test_every_setting_reaches_the_app_services(compose, settings_variables):
    read = (settings_variables["base.py"] | settings_variables["production.py"]) - NOT_PASSED
    for name in APP_SERVICES - {"mlflow"}:
        missing = read - set(compose["services"][name]["environment"])
        assert not missing, f"{name}: add to x-app-env in docker-compose.yaml: {sorted(missing)}"


def test_every_variable_it_reads_is_in_env_example(compose, documented_variables):
    text = COMPOSE_FILE.read_text()
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    passed_through = {
        key
        for service in compose["services"].values()
        for key, value in (service.get("environment") or {}).items()
        if value is None
    }

    assert interpolated, "expected ${VAR} references"
    assert not (interpolated | passed_through) - set(documented_variables)
