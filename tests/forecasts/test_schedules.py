"""Celery beat's schedules: stored once, in New York time, and never overwriting a person's edits."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from forecasts.schedules import SCHEDULES, schedules_setup
from goldsite.celery import app as celery_app

pytestmark = pytest.mark.django_db

UTC = dt.UTC
PIPELINE = "Daily pipeline: fetch prices, score, forecast"


def next_run(task: PeriodicTask, after: dt.datetime) -> dt.datetime:
    """When beat next runs `task` after the moment `after`, computed by the stored schedule itself, in UTC."""
    schedule = task.schedule
    schedule.nowfun = lambda: after.astimezone(schedule.tz)
    remaining = schedule.remaining_estimate(after)
    return (after + remaining).astimezone(UTC).replace(microsecond=0)


def test_stores_the_four_schedules():
    outcome = schedules_setup()

    assert set(outcome.values()) == {"created"}
    tasks = {t.name: t for t in PeriodicTask.objects.all()}
    assert set(tasks) == {s.name for s in SCHEDULES}
    assert tasks[PIPELINE].task == "forecasts.run_daily_pipeline"
    crontab = tasks[PIPELINE].crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, str(crontab.timezone)) == (
        "30",
        "17",
        "1-5",
        "America/New_York",
    )
    retrain, tune = tasks["Refit when due"], tasks["Monthly tune"]
    assert (retrain.task, json.loads(retrain.kwargs)) == ("training.training_run_start_scheduled", {"kind": "train"})
    assert (retrain.crontab.hour, retrain.crontab.minute, retrain.crontab.day_of_week) == ("18", "30", "1-5")
    assert (tune.task, json.loads(tune.kwargs)) == ("training.training_run_start_scheduled", {"kind": "tune"})
    assert (tune.crontab.hour, tune.crontab.day_of_month) == ("2", "1")
    reaper = tasks["Reap stalled training runs"]
    assert (reaper.task, reaper.interval.every, reaper.interval.period) == (
        "training.training_runs_reap",
        60,
        "seconds",
    )
    assert all(t.enabled for t in tasks.values())


def test_every_scheduled_task_exists():
    celery_app.loader.import_default_modules()
    for schedule in SCHEDULES:
        assert schedule.task in celery_app.tasks, schedule.task


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Winter (EST, UTC-5): 17:30 New York is 22:30 UTC.
        (dt.datetime(2025, 1, 15, 12, 0, tzinfo=UTC), dt.datetime(2025, 1, 15, 22, 30, tzinfo=UTC)),
        # Summer (EDT, UTC-4): 21:30 UTC.
        (dt.datetime(2025, 7, 15, 12, 0, tzinfo=UTC), dt.datetime(2025, 7, 15, 21, 30, tzinfo=UTC)),
        # Friday evening: next is Monday, weekends are skipped.
        (dt.datetime(2025, 1, 17, 23, 0, tzinfo=UTC), dt.datetime(2025, 1, 20, 22, 30, tzinfo=UTC)),
        # Across the March change (Sunday 9 March 2025): Friday in EST, Monday in EDT.
        (dt.datetime(2025, 3, 7, 23, 0, tzinfo=UTC), dt.datetime(2025, 3, 10, 21, 30, tzinfo=UTC)),
    ],
)
def test_the_daily_pipeline_runs_at_half_past_five_in_new_york_all_year(after, expected):
    schedules_setup()
    task = PeriodicTask.objects.get(name=PIPELINE)

    assert next_run(task, after) == expected
    assert expected.astimezone(ZoneInfo("America/New_York")).time() == dt.time(17, 30)


def test_the_refit_check_runs_on_weekday_evenings_after_the_daily_pipeline_in_new_york():
    schedules_setup()
    task = PeriodicTask.objects.get(name="Refit when due")

    assert next_run(task, dt.datetime(2025, 1, 15, tzinfo=UTC)) == dt.datetime(2025, 1, 15, 23, 30, tzinfo=UTC)
    assert next_run(task, dt.datetime(2025, 7, 18, 23, 0, tzinfo=UTC)) == dt.datetime(2025, 7, 21, 22, 30, tzinfo=UTC)


def test_the_weekly_retrain_of_an_earlier_release_is_removed():
    sunday = CrontabSchedule.objects.create(minute="0", hour="6", day_of_week="0", timezone="America/New_York")
    PeriodicTask.objects.create(name="Weekly retrain", task="training.start_scheduled_run", crontab=sunday)
    outcome = schedules_setup()
    assert outcome["Weekly retrain"] == "removed"
    assert not PeriodicTask.objects.filter(name="Weekly retrain").exists()


def test_running_again_duplicates_nothing():
    schedules_setup()
    counts = (PeriodicTask.objects.count(), CrontabSchedule.objects.count(), IntervalSchedule.objects.count())

    outcome = schedules_setup()

    assert set(outcome.values()) == {"kept"}
    assert (PeriodicTask.objects.count(), CrontabSchedule.objects.count(), IntervalSchedule.objects.count()) == counts


def test_a_persons_edits_survive_running_again_until_reset():
    schedules_setup()
    task = PeriodicTask.objects.get(name=PIPELINE)
    task.enabled = False
    task.crontab = CrontabSchedule.objects.create(minute="0", hour="18", day_of_week="1-5", timezone="America/New_York")
    task.save()

    schedules_setup()
    task.refresh_from_db()
    assert (task.enabled, task.crontab.hour) == (False, "18")

    outcome = schedules_setup(reset=True)
    task.refresh_from_db()
    assert outcome[PIPELINE] == "reset"
    assert (task.enabled, task.crontab.hour, task.crontab.minute) == (True, "17", "30")
    assert PeriodicTask.objects.count() == len(SCHEDULES)


def test_a_deleted_schedule_is_recreated():
    schedules_setup()
    PeriodicTask.objects.filter(name="Monthly tune").delete()

    outcome = schedules_setup()

    assert outcome["Monthly tune"] == "created"
    assert PeriodicTask.objects.count() == len(SCHEDULES)


def test_the_command_reports_each_schedule(capsys):
    call_command("setup_schedules")
    call_command("setup_schedules", "--reset")

    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 * len(SCHEDULES)
    assert out[0].split() == ["created", *SCHEDULES[0].name.split()]
    assert out[-1].split()[0] == "reset"


def test_a_stored_schedule_of_a_renamed_task_follows_the_new_name():
    every_minute = IntervalSchedule.objects.create(every=120, period=IntervalSchedule.SECONDS)  # edited by a person
    PeriodicTask.objects.create(name="Reap stalled training runs", task="training.reap_runs", interval=every_minute)
    schedules_setup()
    task = PeriodicTask.objects.get(name="Reap stalled training runs")
    assert (task.task, task.interval.every) == ("training.training_runs_reap", 120)
