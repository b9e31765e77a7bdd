"""The periodic tasks Celery beat runs (django-celery-beat's DatabaseScheduler): defined here and only here.

`schedules_setup()` stores them; the `setup_schedules` management command calls it (the compose `migrate`
service runs that command on every start). Crontabs are in New York time, with the timezone stored on the
CrontabSchedule row, so beat follows daylight saving time: 17:30 New York is 22:30 UTC in winter, 21:30 in
summer.

Re-running creates the schedules that are missing and leaves existing ones exactly as they are, so a person's
edits in the admin (disabling a task, moving its time) survive every deploy. `reset=True` (`--reset`) puts
every schedule back to the definition here.
"""

import json
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

logger = logging.getLogger(__name__)

NEW_YORK = "America/New_York"


@dataclass(frozen=True)
class Schedule:
    name: str  # PeriodicTask.name, unique: how a stored schedule is recognised
    task: str
    description: str
    crontab: dict[str, str] | None = None  # minute, hour, day_of_week, day_of_month, month_of_year (New York)
    every_seconds: int | None = None
    kwargs: dict = field(default_factory=dict)


SCHEDULES = [
    Schedule(
        name="Daily pipeline: fetch prices, score, forecast",
        task="forecasts.run_daily_pipeline",
        description="After the New York close on weekdays: fetch → score → predict the next trading day.",
        crontab={"minute": "30", "hour": "17", "day_of_week": "1-5", "day_of_month": "*", "month_of_year": "*"},
    ),
    Schedule(
        name="Refit when due",
        task="training.training_run_start_scheduled",
        description=(
            "Weekday evenings after the daily pipeline: refit every candidate with the latest tune's settings once "
            "the champion is TRAINING_RETRAIN_EVERY trading days old (the cadence the walk-forward test reports)."
        ),
        crontab={"minute": "30", "hour": "18", "day_of_week": "1-5", "day_of_month": "*", "month_of_year": "*"},
        kwargs={"kind": "train"},
    ),
    Schedule(
        name="Monthly tune",
        task="training.training_run_start_scheduled",
        description="The 1st of each month: a hyperopt search over every architecture.",
        crontab={"minute": "0", "hour": "2", "day_of_week": "*", "day_of_month": "1", "month_of_year": "*"},
        kwargs={"kind": "tune"},
    ),
    Schedule(
        name="Reap stalled training runs",
        task="training.training_runs_reap",
        description="Fail training runs whose worker stopped sending heartbeats.",
        every_seconds=60,
    ),
]


# Schedules an earlier release stored and this one replaces: removed by every setup.
RETIRED = ("Weekly retrain",)
# Tasks an earlier release named otherwise: stored schedules (edited ones included) are pointed at the new name.
RENAMED_TASKS = {
    "training.start_scheduled_run": "training.training_run_start_scheduled",
    "training.reap_runs": "training.training_runs_reap",
}


def schedules_setup(*, reset: bool = False) -> dict[str, str]:
    """Store every schedule in SCHEDULES, remove the RETIRED ones. Returns {name: "created" | "kept" | "reset" |
    "removed"}. Idempotent."""
    outcome = {}
    with transaction.atomic():
        for name in RETIRED:
            if PeriodicTask.objects.filter(name=name).delete()[0]:
                outcome[name] = "removed"
        for old, new in RENAMED_TASKS.items():
            PeriodicTask.objects.filter(task=old).update(task=new)
        for schedule in SCHEDULES:
            existing = PeriodicTask.objects.filter(name=schedule.name).first()
            if existing is not None and not reset:
                outcome[schedule.name] = "kept"
                continue
            task = existing or PeriodicTask(name=schedule.name)
            task.task = schedule.task
            task.description = schedule.description
            task.kwargs = json.dumps(schedule.kwargs)
            task.args = "[]"
            task.enabled = True
            task.one_off = False
            task.crontab, task.interval = None, None
            if schedule.crontab is not None:
                task.crontab = _first_or_create(CrontabSchedule, **schedule.crontab, timezone=NEW_YORK)
            else:
                task.interval = _first_or_create(
                    IntervalSchedule, every=schedule.every_seconds, period=IntervalSchedule.SECONDS
                )
            task.save()
            outcome[schedule.name] = "reset" if existing is not None else "created"
            logger.info("Schedule %r %s", schedule.name, outcome[schedule.name])
    return outcome


def _first_or_create(model, **fields):
    """Schedule rows have no unique constraint (the admin can add twins); reuse the first match."""
    return model.objects.filter(**fields).first() or model.objects.create(**fields)
