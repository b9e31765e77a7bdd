"""The whole stack as it is deployed, on this machine: gunicorn, a Celery worker and Celery beat started by
`docker/entrypoint.sh web|worker|beat` (the commands docker-compose runs) with production settings, against a
fresh PostgreSQL database, a Redis db of their own and a MLflow store in a temporary folder.

One scenario, driven over HTTP like an operator and a client would: migrate, seed the schedules, import the
real history, train a tiny model through the API on the worker, forecast, read the forecast; then kill the
worker in the middle of a second training run and watch beat's reaper fail that run while the champion stays;
then train again.
"""

import logging
import time

import pytest
import requests

from tests.e2e import harness

logger = logging.getLogger(__name__)

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(420)]

HEARTBEAT_TIMEOUT = 20  # seconds; TRAINING_HEARTBEAT_TIMEOUT of every process
REAPER_INTERVAL = 60  # seconds; the "Reap stalled training runs" schedule in forecasts/schedules.py
START_SECONDS = 90
TRAINING_SECONDS = 150
ADMIN = {"username": "e2e-admin", "password": "e2e-admin-password-not-secret"}
TINY_RUN = {"kind": "tune", "trials": 1, "architectures": ["mlp"]}
# Long enough (several trials after the first) for the worker to be killed in the middle of it.
LONGER_RUN = {"kind": "tune", "trials": 8, "architectures": ["mlp"]}


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def sign_in(self, *, username: str, password: str) -> None:
        response = self.session.post(
            f"{self.base_url}/api/auth/token/", json={"username": username, "password": password}, timeout=10
        )
        assert response.status_code == 200, response.text
        self.session.headers["Authorization"] = f"Token {response.json()['token']}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{self.base_url}{path}", timeout=kwargs.pop("timeout", 10), **kwargs)

    def post(self, path: str, payload: dict, **kwargs) -> requests.Response:
        return self.session.post(f"{self.base_url}{path}", json=payload, timeout=kwargs.pop("timeout", 10), **kwargs)

    def start_run(self, payload: dict) -> int:
        response = self.post("/api/training-runs/", payload)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def run(self, run_id: int) -> dict:
        response = self.get(f"/api/training-runs/{run_id}/")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_run(self, run_id: int, *, until, seconds: float, poll: float = 1.0) -> dict:
        deadline = time.monotonic() + seconds
        while True:
            run = self.run(run_id)
            if until(run):
                return run
            if time.monotonic() > deadline:
                pytest.fail(f"Training run #{run_id} did not get there within {seconds:g} s; it is now {run}")
            time.sleep(poll)

    def champion_id(self) -> int | None:
        versions = self.get("/api/models/").json()["results"]
        return next((v["id"] for v in versions if v["is_champion"]), None)


def finished(run: dict) -> bool:
    return run["status"] in ("succeeded", "failed")


def in_the_middle_of_training(run: dict) -> bool:
    """Running, with the network's first trial done: its task is on the worker, more trials to go."""
    return run["status"] == "running" and "mlp trial" in run["message"]


def test_the_deployed_stack_trains_forecasts_and_survives_a_killed_worker(shared_data, stack_services, tmp_path):
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    port = harness.free_port()
    env = harness.stack_environment(
        database_url=stack_services.database_url,
        broker_url=stack_services.broker_url,
        workdir=tmp_path,
        TRAINING_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        PORT=str(port),
        WEB_CONCURRENCY="2",
        CELERY_CONCURRENCY="2",
        DJANGO_SUPERUSER_USERNAME=ADMIN["username"],
        DJANGO_SUPERUSER_EMAIL="e2e-admin@example.com",
        DJANGO_SUPERUSER_PASSWORD=ADMIN["password"],
    )
    processes = {
        name: harness.Process(name=name, args=(name,), env=env, logdir=tmp_path) for name in ("web", "worker", "beat")
    }
    web, worker, beat = processes.values()
    try:
        # What the compose `migrate` service runs, then the history an operator imports.
        harness.entrypoint(env, "migrate")
        harness.entrypoint(env, "manage", "setup_schedules")
        for symbol, name in (("GC=F", "gold_data.csv"), ("^GSPC", "sp500.csv")):
            harness.entrypoint(env, "manage", "import_prices", symbol, str(shared_data / name))
        lap("migrate + schedules + import")

        for process in processes.values():
            process.start()
        base_url = f"http://127.0.0.1:{port}"
        harness.wait_for_http(f"{base_url}/health/", seconds=START_SECONDS, process=web)
        worker.wait_for_output("ready.", seconds=START_SECONDS)
        beat.wait_for_output("beat: Starting...", seconds=START_SECONDS)
        lap("web, worker and beat up")

        health = requests.get(f"{base_url}/health/", timeout=10).json()
        assert (health["database"], health["broker"], health["champion"]) == ("ok", "ok", None)

        api = Api(base_url)
        api.sign_in(**ADMIN)
        assert api.get("/api/forecasts/latest/").status_code == 503  # no champion yet

        # 1. A tiny tuning run through the API, executed by the worker.
        first = api.wait_for_run(api.start_run(TINY_RUN), until=finished, seconds=TRAINING_SECONDS)
        assert first["status"] == "succeeded", first
        assert first["started_by"] == ADMIN["username"]
        champion = api.champion_id()
        assert champion in first["model_versions"]
        # Its automatic promotion committed the champion together with its forecast, made on the worker: the
        # latest-forecast API answers at once, before anyone asks for a prediction.
        latest = api.get("/api/forecasts/latest/")
        assert latest.status_code == 200, latest.text
        assert latest.json()["forecast"]["model_version"] == champion
        lap("first training run")

        # 2. The next day's forecast, made on the worker (POST /api/predict/ waits for it), then read back.
        predicted = api.post("/api/predict/", {"predict_tomorrow": True}, timeout=60)
        assert predicted.status_code == 200, predicted.text
        latest = api.get("/api/forecasts/latest/")
        assert latest.status_code == 200, latest.text
        body = latest.json()
        assert body["champion"]["id"] == champion
        assert body["forecast"]["model_version"] == champion
        assert body["forecast"]["predicted_close"] == predicted.json()["prediction"]
        assert body["naive"] is not None
        lap("forecast")

        # 3. The worker dies (SIGKILL: no warm shutdown) in the middle of a second run.
        doomed = api.start_run(LONGER_RUN)
        api.wait_for_run(doomed, until=in_the_middle_of_training, seconds=90, poll=0.2)
        worker.kill()
        assert api.run(doomed)["status"] == "running"  # nobody is left to say otherwise
        lap("second run started, worker killed")

        # The container's restart policy brings a worker back; the reaper runs on a worker too. It must not
        # resume the lost run: beat's reaper fails it once its heartbeat is older than the timeout.
        worker.start()
        worker.wait_for_output("ready.", seconds=START_SECONDS)
        reaped = api.wait_for_run(doomed, until=finished, seconds=HEARTBEAT_TIMEOUT + REAPER_INTERVAL + 30)
        assert reaped["status"] == "failed", reaped
        assert "no heartbeat" in reaped["error"], reaped  # the reaper's reason (training/services/recovery.py)
        assert api.champion_id() == champion
        assert api.get("/api/forecasts/latest/").json()["champion"]["id"] == champion
        lap("reaped")

        # 4. The restarted worker trains again.
        third = api.wait_for_run(api.start_run(TINY_RUN), until=finished, seconds=TRAINING_SECONDS)
        assert third["status"] == "succeeded", third
        lap("third training run")
    except BaseException as exc:
        for process in processes.values():
            process.stop()
        exc.add_note(f"Timings (s): {timings}")
        for process in processes.values():
            exc.add_note(process.tail())
        raise
    finally:
        for process in processes.values():
            process.stop()
    logger.info("Stack test timings (s): %s", timings)  # shown with --log-cli-level=INFO
