"""Training runs: one at a time, progress and heartbeat, failure recording and the reaper."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import TrainingRunFactory
from training.exceptions import TrainingError, TrainingRunActive
from training.models import TrainingRun
from training.services import runs

pytestmark = pytest.mark.django_db


def test_a_run_is_queued_with_its_parameters(no_execution):
    run = runs.training_run_start(kind="tune", trials=3, architectures=["lstm", "mlp"], test_days=100)
    assert run.status == TrainingRun.Status.QUEUED
    assert run.params["trials"] == 3
    assert run.params["architectures"] == ["mlp", "lstm"]  # canonical order
    assert run.params["test_days"] == 100
    assert no_execution == [run.pk]


def test_a_second_run_is_refused_while_one_is_queued_or_running(no_execution):
    first = runs.training_run_start(kind="train")
    with pytest.raises(TrainingRunActive, match=f"#{first.pk}"):
        runs.training_run_start(kind="tune", trials=1)
    TrainingRun.objects.filter(pk=first.pk).update(status=TrainingRun.Status.RUNNING)
    with pytest.raises(TrainingRunActive):
        runs.training_run_start(kind="train")
    TrainingRun.objects.filter(pk=first.pk).update(status=TrainingRun.Status.SUCCEEDED)
    assert runs.training_run_start(kind="train").pk != first.pk


def test_the_database_itself_allows_one_active_run():
    TrainingRunFactory(status=TrainingRun.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingRunFactory(status=TrainingRun.Status.QUEUED)
    TrainingRunFactory(status=TrainingRun.Status.FAILED)  # finished runs never conflict


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "bake"}, "Unknown run kind"),
        ({"kind": "tune", "architectures": ["transformer"]}, "Unknown architecture"),
        ({"kind": "tune", "trials": 0}, "between 1 and"),
        ({"kind": "train", "test_days": 5}, "at least 20"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_error(no_execution, kwargs, message):
    with pytest.raises(TrainingError, match=message):
        runs.training_run_start(**kwargs)
    assert not TrainingRun.objects.exists()


def test_each_step_moves_progress_and_the_heartbeat():
    run = TrainingRunFactory(status=TrainingRun.Status.RUNNING, steps_total=4, heartbeat_at=None)
    runs.training_run_step(run_id=run.pk, message="mlp: trial 1/3")
    runs.training_run_step(run_id=run.pk, message="mlp: trial 2/3")
    run.refresh_from_db()
    assert (run.steps_done, run.progress, run.message) == (2, 50, "mlp: trial 2/3")
    assert run.heartbeat_at is not None


def test_progress_stays_below_100_until_the_run_succeeds():
    run = TrainingRunFactory(status=TrainingRun.Status.RUNNING, steps_total=1)
    runs.training_run_step(run_id=run.pk, message="done fitting")
    run.refresh_from_db()
    assert run.progress == 99


def test_a_step_of_a_failed_run_aborts_the_candidate():
    run = TrainingRunFactory(status=TrainingRun.Status.FAILED, steps_total=3)
    with pytest.raises(runs.TrainingRunAborted):
        runs.training_run_step(run_id=run.pk, message="cnn: trial 1/1")


def test_failure_records_the_first_error_only():
    run = TrainingRunFactory(status=TrainingRun.Status.RUNNING)
    runs.training_run_fail(run_id=run.pk, error=ValueError("not enough history"), context="lstm")
    runs.training_run_fail(run_id=run.pk, error="a later error")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert run.error == "lstm: ValueError: not enough history"
    assert run.finished_at is not None


def test_the_reaper_fails_runs_whose_worker_went_silent(settings):
    settings.TRAINING_HEARTBEAT_TIMEOUT = 60
    now = timezone.now()
    silent = TrainingRunFactory(status=TrainingRun.Status.RUNNING, heartbeat_at=now - dt.timedelta(seconds=61))
    reaped = runs.training_runs_reap(now=now)
    silent.refresh_from_db()
    assert reaped == [silent.pk]
    assert silent.status == TrainingRun.Status.FAILED
    assert "stopped responding" in silent.error


def test_the_reaper_leaves_healthy_and_finished_runs_alone(settings):
    settings.TRAINING_HEARTBEAT_TIMEOUT = 60
    now = timezone.now()
    healthy = TrainingRunFactory(status=TrainingRun.Status.RUNNING, heartbeat_at=now - dt.timedelta(seconds=10))
    TrainingRunFactory(status=TrainingRun.Status.SUCCEEDED, heartbeat_at=now - dt.timedelta(days=3))
    assert runs.training_runs_reap(now=now) == []
    healthy.refresh_from_db()
    assert healthy.status == TrainingRun.Status.RUNNING


def test_the_reaper_fails_runs_no_worker_ever_picked_up(settings):
    settings.TRAINING_QUEUE_TIMEOUT = 300
    run = TrainingRunFactory(status=TrainingRun.Status.QUEUED)
    TrainingRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(seconds=301))
    assert runs.training_runs_reap() == [run.pk]
    run.refresh_from_db()
    assert "is a worker running" in run.error
