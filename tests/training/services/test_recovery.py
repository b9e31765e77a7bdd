"""Lost training runs are failed without a person: a run whose process is provably gone, or silent, or never picked up.

A run records where it executes (host, pid, worker and the process's start marker). Starting a run first fails
every active run that can no longer finish, so the embedded default (no broker, no beat, no reaper) recovers on
the next start; the reaper applies the same rule for the distributed case.
"""

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import TrainingRunFactory
from training.exceptions import TrainingRunActive
from training.models import TrainingRun
from training.services import recovery, runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def killed_process():
    """Where a process ran that was then killed with SIGKILL (and reaped), as TrainingRun fields."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        where = {
            **recovery.training_run_process(),
            "pid": child.pid,
            "process_start": recovery.process_start(child.pid),
        }
    finally:
        child.kill()
        child.wait()
    return where


def active_run(**where) -> TrainingRun:
    now = timezone.now()
    return TrainingRunFactory(status=TrainingRun.Status.RUNNING, started_at=now, heartbeat_at=now, **where)


def test_a_run_records_where_it_executes(monkeypatch):
    import pandas as pd

    import training.ml.tracking
    from training.services import graph

    run = TrainingRunFactory(status=TrainingRun.Status.QUEUED, kind=TrainingRun.Kind.TUNE)
    closes = pd.DataFrame({"gold": [2000.0], "spx": [5000.0]}, index=pd.to_datetime(["2025-01-02"]))
    monkeypatch.setattr(graph, "price_closes_frame", lambda **kwargs: closes)
    monkeypatch.setattr(training.ml.tracking, "start_parent_run", lambda **kwargs: "parent-run")
    monkeypatch.setattr(graph, "training_candidates_open", lambda **kwargs: [])  # no candidates fitted

    graph.training_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.RUNNING
    assert (run.host, run.pid, run.worker) == (socket.gethostname(), os.getpid(), "in-process")
    assert run.process_start == recovery.process_start(os.getpid())


def test_a_start_fails_a_run_whose_process_was_killed_and_goes_ahead(no_execution, killed_process):
    lost = active_run(**killed_process)

    run = runs.training_run_start(kind="train")

    lost.refresh_from_db()
    assert lost.status == TrainingRun.Status.FAILED
    assert f"process {killed_process['pid']} on {killed_process['host']} is gone" in lost.error
    assert lost.finished_at is not None
    assert run.status == TrainingRun.Status.QUEUED and no_execution == [run.pk]


def test_a_run_whose_pid_now_belongs_to_another_process_is_failed(killed_process):
    # This process has the pid now; the run's start marker says it was another process.
    reused = active_run(**{**killed_process, "pid": os.getpid()})

    assert recovery.training_runs_recover() == [reused.pk]
    reused.refresh_from_db()
    assert f"pid {os.getpid()} now belongs to another process" in reused.error


def test_a_run_whose_process_is_alive_is_left_alone(no_execution):
    alive = active_run(**recovery.training_run_process())

    assert recovery.training_runs_recover() == []
    with pytest.raises(TrainingRunActive, match=f"#{alive.pk}"):
        runs.training_run_start(kind="train")
    alive.refresh_from_db()
    assert alive.status == TrainingRun.Status.RUNNING


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"host": "another-machine"},  # its pids mean nothing here
        {"process_start": "another-boot/4026531836/123"},  # same hostname, another machine, boot or container
        {"worker": "celery@worker-1"},  # a Celery run's candidates may be fitting on other workers
        {"pid": None, "host": "", "worker": ""},  # recorded before runs said where they execute
    ],
)
def test_a_run_whose_process_cannot_be_checked_from_here_waits_for_its_heartbeat(killed_process, elsewhere):
    run = active_run(**{**killed_process, **elsewhere})

    assert recovery.training_runs_recover() == []
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.RUNNING


def test_a_silent_run_is_failed_wherever_it_runs(settings):
    settings.TRAINING_HEARTBEAT_TIMEOUT = 60
    now = timezone.now()
    silent = active_run(host="another-machine", pid=1, worker="celery@worker-1")
    TrainingRun.objects.filter(pk=silent.pk).update(heartbeat_at=now - dt.timedelta(seconds=61))

    assert recovery.training_runs_recover(now=now) == [silent.pk]
    silent.refresh_from_db()
    assert silent.status == TrainingRun.Status.FAILED and "stopped responding" in silent.error


def test_a_queued_run_no_worker_picked_up_is_failed(settings):
    settings.TRAINING_QUEUE_TIMEOUT = 300
    queued = TrainingRunFactory(status=TrainingRun.Status.QUEUED)
    TrainingRun.objects.filter(pk=queued.pk).update(created_at=timezone.now() - dt.timedelta(seconds=301))

    assert recovery.training_runs_recover() == [queued.pk]


def test_the_reaper_applies_the_same_rule(killed_process):
    lost = active_run(**killed_process)

    assert runs.training_runs_reap() == [lost.pk]
    lost.refresh_from_db()
    assert "is gone" in lost.error


# --- The finding, end to end: `manage.py train` killed with SIGKILL -----------------------------------------

ROOT = Path(__file__).resolve().parents[3]

# `manage.py train` for real, on a few stored bars, with the fit of each candidate replaced by a long sleep: the
# run is marked running by the real code, then the process is killed while it "trains".
TRAIN_AND_HANG = """
import datetime as dt, time, django
django.setup()
from forecasts.models import PriceBar
days = [dt.date(2021, 1, 4) + dt.timedelta(days=i) for i in range(950)]  # enough for the windows
PriceBar.objects.bulk_create(
    PriceBar(symbol=symbol, date=day, close=close, source="csv")
    for i, day in enumerate(days) for symbol, close in (("GC=F", 2000.0 + i % 7), ("^GSPC", 5000.0 + i % 5))
)
import training.ml.plan
def fit_forever(*args, **kwargs):
    print("fitting", flush=True)
    time.sleep(600)
training.ml.plan.run_unit = fit_forever
from django.core.management import call_command
call_command("train", trials=0, architectures="mlp")
"""

# The next start, as the training page or the API makes it (the new run itself is not executed).
START = """
import json, django
django.setup()
from training.exceptions import TrainingRunActive
from training import dispatch
from training.services import runs
dispatch.training_run_execute_request = lambda *, run_id, inline: ""
try:
    print(json.dumps({"started": runs.training_run_start(kind="train").pk}))
except TrainingRunActive as exc:
    print(json.dumps({"refused": str(exc)}))
"""


@pytest.mark.slow
def test_after_kill_9_of_manage_py_train_the_next_start_succeeds(tmp_path):
    database = tmp_path / "goldsite.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "goldsite.settings.test",
        "DATABASE_URL": f"sqlite:///{database}",  # a file both processes share (the embedded default)
        "PYTHONPATH": str(ROOT),
    }

    def python(*args, **kwargs):
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, **kwargs)

    def start() -> dict:
        completed = python("-c", START, check=True, timeout=120)
        return json.loads(completed.stdout.strip().splitlines()[-1])

    python("manage.py", "migrate", "--noinput", check=True, timeout=300)
    train = subprocess.Popen(
        [sys.executable, "-c", TRAIN_AND_HANG],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = []
        for line in train.stdout:
            output.append(line)
            if line.strip() == "fitting":
                break
        else:
            pytest.fail("manage.py train ended before fitting:\n" + "".join(output))
        with sqlite3.connect(database) as db:
            [(run_id, status, pid, worker)] = db.execute("SELECT id, status, pid, worker FROM training_trainingrun")
        assert (status, pid, worker) == ("running", train.pid, "in-process")
        assert "refused" in start()  # while it trains, a second run waits its turn

        os.kill(train.pid, signal.SIGKILL)
        train.wait(timeout=60)
    finally:
        if train.poll() is None:
            train.kill()
            train.wait()
        train.stdout.close()

    assert "started" in start()
    with sqlite3.connect(database) as db:
        [(status, error)] = db.execute("SELECT status, error FROM training_trainingrun WHERE id = ?", [run_id])
    assert status == "failed" and f"process {train.pid} on" in error
