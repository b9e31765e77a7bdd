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
    assert run.params["protocol"] == {
        "test_days": 100,
        "selection_days": 500,
        "folds": 5,
        "retrain_every": 21,
        "lookback": 20,
    }
    assert run.params["max_p"] == 0.10
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
        ({"kind": "train", "folds": 3}, "at least 4 folds"),
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


# --- Reusing a tune's hyperparameters -------------------------------------------------------------------

PROTOCOL = {"test_days": 250, "selection_days": 500, "folds": 5, "retrain_every": 21, "lookback": 20}


def tune_run(*, finished: dt.datetime, protocol=PROTOCOL, test_start=dt.date(2024, 9, 25), mae=15.0, units=16):
    from tests.factories import ModelVersionFactory

    run = TrainingRunFactory(kind=TrainingRun.Kind.TUNE, params={"protocol": protocol}, finished_at=finished)
    for kind in ("naive", "drift", "mlp"):
        ModelVersionFactory(
            training_run=run,
            architecture=kind,
            hyperparameters={"units": units} if kind == "mlp" else ({"window": 60} if kind == "drift" else {}),
            cv_metrics={"mae": mae},
            test_start=test_start,
        )
    return run


def test_a_refit_reuses_the_latest_tune_with_the_same_windows_never_the_lowest_error_across_windows():
    now = timezone.now()
    tune_run(finished=now - dt.timedelta(days=60), mae=9.0, units=8)  # calmer old window: lowest error
    latest = tune_run(finished=now - dt.timedelta(days=30), mae=15.0, units=32)
    tune_run(finished=now - dt.timedelta(days=1), protocol={**PROTOCOL, "test_days": 20}, mae=5.0, units=64)
    TrainingRunFactory(kind=TrainingRun.Kind.TUNE, status=TrainingRun.Status.FAILED, params={"protocol": PROTOCOL})

    reuse = runs.training_tuned_hyperparameters(protocol=PROTOCOL, test_start=dt.date(2024, 10, 25))

    assert reuse["run"] == latest.pk
    assert reuse["hyperparameters"] == {"naive": {}, "drift": {"window": 60}, "mlp": {"units": 32}}


def test_a_tune_whose_selection_period_reaches_into_the_new_test_window_is_never_reused():
    tune_run(finished=timezone.now(), test_start=dt.date(2024, 11, 1))
    reuse = runs.training_tuned_hyperparameters(protocol=PROTOCOL, test_start=dt.date(2024, 10, 25))
    assert reuse == {"run": None, "hyperparameters": {}}


# --- The scheduled refit at the live cadence ---------------------------------------------------------------


def store_common_days(days):
    from tests.forecasts.forecasters import store_closes, trading_days

    store_closes(trading_days(dt.date(2025, 1, 2), dt.date(2025, 1, 2) + dt.timedelta(days=days)))


def test_a_refit_is_due_once_the_champion_is_retrain_every_trading_days_old(settings, no_execution):
    from forecasts.models import PriceBar
    from tests.factories import ModelVersionFactory

    settings.TRAINING_RETRAIN_EVERY = 21
    store_common_days(60)
    dates = sorted(set(PriceBar.objects.values_list("date", flat=True)))
    champion = ModelVersionFactory(is_champion=True, fitted_through=dates[-21])
    assert runs.training_refit_due()[0] is False  # 20 newer days
    assert runs.training_run_start_scheduled(kind="train") is None
    assert no_execution == []

    champion.fitted_through = dates[-22]
    champion.save()
    due, why = runs.training_refit_due()
    assert due and "21 common trading days" in why
    run = runs.training_run_start_scheduled(kind="train")
    assert run is not None and no_execution == [run.pk]
    assert runs.training_run_start_scheduled(kind="tune", trials=2) is None  # one run at a time, quietly


def test_without_a_champion_fitted_on_all_data_a_refit_is_due():
    assert runs.training_refit_due() == (True, "no champion fitted on all data yet")


@pytest.mark.parametrize(("value", "expected"), [("cv", None), ("0", [0.0]), ("0.01", [0.01])])
def test_the_bands_gamma_is_chosen_on_cv_unless_a_setting_fixes_it(settings, no_execution, value, expected):
    settings.BANDS_ACI_GAMMA = value
    assert runs.training_run_start(kind="tune", trials=1).params["gammas"] == expected


@pytest.mark.parametrize("value", ["sometimes", "0.5", "-1"])
def test_a_bands_gamma_that_makes_no_sense_is_refused(settings, no_execution, value):
    settings.BANDS_ACI_GAMMA = value
    with pytest.raises(TrainingError, match="BANDS_ACI_GAMMA"):
        runs.training_run_start(kind="tune", trials=1)
    assert not TrainingRun.objects.exists()
