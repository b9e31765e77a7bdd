"""The daily chain through a real broker and a real Celery worker process, against the test database.

Needs PostgreSQL (DATABASE_URL) and a broker (CELERY_BROKER_URL): skipped without them, failed instead when
GOLDSITE_REQUIRE_SERVICES=1 (CI). The worker is `celery -A tests.integration.worker_app`, goldsite's app with
Yahoo and the model registry replaced (see that module); the test dispatches `run_daily_pipeline` through the
broker, the worker runs it and the fetch → score → predict chain it sends, and the forecasts appear here.
"""

import datetime as dt
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from kombu import Connection

from forecasts import tasks
from forecasts.calendar import last_completed_trading_day, next_trading_day
from forecasts.models import Forecast, PriceBar
from goldsite.celery import app as celery_app
from tests.conftest import require_services
from tests.factories import ForecastFactory, ModelVersionFactory, TrainingRunFactory
from tests.forecasts.forecasters import gold_close, store_closes, trading_days
from training.models import ModelVersion

pytestmark = [pytest.mark.slow, pytest.mark.services]

ROOT = Path(__file__).resolve().parent.parent.parent
WORKER_START_SECONDS = 60
CHAIN_SECONDS = 60
PIPELINE_TASKS = (
    "forecasts.run_daily_pipeline",
    "forecasts.fetch_market_data",
    "forecasts.score_forecasts",
    "forecasts.predict_next_day",
)


@pytest.fixture
def broker_url() -> str:
    missing = []
    if not django_settings.REAL_CELERY_BROKER_URL:
        missing.append("CELERY_BROKER_URL")
    if connection.vendor != "postgresql":
        missing.append("DATABASE_URL (PostgreSQL)")
    if missing:
        message = f"a real worker needs {' and '.join(missing)}"
        if require_services():
            pytest.fail(f"GOLDSITE_REQUIRE_SERVICES=1 but {message}")
        pytest.skip(message)
    return django_settings.REAL_CELERY_BROKER_URL


def worker_database_url() -> str:
    """A URL of the database pytest-django created for this run, for the worker to use."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(*, broker_url: str, log: Path, purge: bool = True) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": broker_url,
        "MLFLOW_TRACKING_URI": django_settings.MLFLOW_TRACKING_URI,
        "MLFLOW_ARTIFACT_ROOT": django_settings.MLFLOW_ARTIFACT_ROOT,
        "GOLDSITE_TF_THREADS": "1",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.integration.worker_app",
        "worker",
        "-Q",
        "default,training",
        "--pool",
        "solo",
        "-l",
        "info",
        "-n",
        f"goldsite-test-{uuid.uuid4().hex[:8]}@%h",
        *(["--purge"] if purge else []),  # drop messages a previous, interrupted run may have left in the queues
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_for(condition, *, seconds: float, worker: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            pytest.fail(f"The worker exited ({worker.returncode}) before {what}:\n{log.read_text()}")
        time.sleep(0.5)
    pytest.fail(f"Timed out after {seconds} s waiting for {what}. Worker log:\n{log.read_text()}")


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def test_the_daily_chain_runs_on_a_real_worker(transactional_db, broker_url, tmp_path):
    run = TrainingRunFactory()
    naive = ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, training_run=run)
    champion = ModelVersionFactory(architecture=ModelVersion.Architecture.MLP, training_run=run, is_champion=True)
    newest = last_completed_trading_day()
    store_closes(trading_days(newest - dt.timedelta(days=60), newest - dt.timedelta(days=14)))
    scored_by_the_chain = trading_days(newest - dt.timedelta(days=10), newest)[0]
    pending = ForecastFactory(
        model_version=champion,
        target_date=scored_by_the_chain,
        predicted_close=2000.0,
        lower_80=1900.0,
        upper_80=2100.0,
        lower_95=1800.0,
        upper_95=2200.0,
    )
    target = next_trading_day(newest)

    log = tmp_path / "worker.log"
    worker = start_worker(broker_url=broker_url, log=log)
    try:
        wait_for(
            lambda: b"ready." in log.read_bytes(),
            seconds=WORKER_START_SECONDS,
            worker=worker,
            log=log,
            what="the worker to be ready",
        )

        # send_task always publishes (it never runs eagerly), here to the real broker the worker listens on;
        # the process-wide eager setting the rest of the suite relies on stays untouched.
        with Connection(broker_url) as broker:
            celery_app.send_task(tasks.run_daily_pipeline.name, connection=broker)

        wait_for(
            lambda: Forecast.objects.live().filter(target_date=target).count() == 2,
            seconds=CHAIN_SECONDS,
            worker=worker,
            log=log,
            what=f"the champion's and the naive forecast of {target}",
        )
    finally:
        stop_worker(worker)

    stored = Forecast.objects.live().filter(target_date=target)
    assert {f.model_version for f in stored} == {champion, naive}
    assert {f.as_of_date for f in stored} == {newest}
    assert PriceBar.objects.filter(symbol="^GSPC").latest("date").date == newest  # fetched by the worker
    pending.refresh_from_db()
    assert pending.actual_close == gold_close(scored_by_the_chain)  # scored by the worker
    output = log.read_text()
    for task in PIPELINE_TASKS:
        assert re.search(rf"Task {re.escape(task)}\[[^\]]+\] succeeded", output), output


def test_a_training_run_spreads_its_fits_over_two_real_workers(transactional_db, broker_url, tmp_path, monkeypatch):
    """A small tune run on two worker processes over the broker: every fit is a task either may take, both do,
    the run succeeds with a champion decided by the rule, and the run's fits say who ran each."""
    from training import dispatch
    from training.models import TrainingFit, TrainingRun
    from training.services import runs

    store_closes(trading_days(dt.date(2023, 1, 3), dt.date(2024, 6, 28)))  # ~375 common days
    monkeypatch.setattr(dispatch, "training_run_execute_request", lambda *, run_id, inline: "")
    run = runs.training_run_start(
        kind="tune", trials=2, architectures=["mlp"], test_days=40, selection_days=80, folds=4, retrain_every=20
    )
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [
        start_worker(broker_url=broker_url, log=logs[0]),
        start_worker(broker_url=broker_url, log=logs[1], purge=False),
    ]
    try:
        for worker, log in zip(workers, logs, strict=True):
            wait_for(
                lambda log=log: b"ready." in log.read_bytes(),
                seconds=WORKER_START_SECONDS,
                worker=worker,
                log=log,
                what="the worker to be ready",
            )
        with Connection(broker_url) as broker:
            celery_app.send_task("training.training_run_execute", args=[run.pk], connection=broker)
        wait_for(
            lambda: TrainingRun.objects.get(pk=run.pk).status not in TrainingRun.ACTIVE_STATUSES,
            seconds=600,
            worker=workers[0],
            log=logs[0],
            what="the training run to finish",
        )
    finally:
        for worker in workers:
            stop_worker(worker)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, (run.error, logs[0].read_text()[-3000:])
    fits = TrainingFit.objects.filter(run=run)
    assert fits.count() == run.fits.filter(status=TrainingFit.Status.DONE).count() > 0
    assert len(set(fits.values_list("worker", flat=True))) == 2  # both workers fitted
    assert sorted(run.model_versions.values_list("architecture", flat=True)) == ["drift", "mlp", "naive"]
    assert ModelVersion.objects.filter(is_champion=True, training_run=run).exists()
