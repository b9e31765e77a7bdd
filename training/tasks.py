"""Thin Celery tasks for training: they take ids and call one service each.

Every task here is named `training.*`, which `CELERY_TASK_ROUTES` sends to the `training` queue, so extra
workers started with `-Q training` on other machines share the fan-out of a tuning run.
"""

from celery import shared_task
from django.conf import settings

from training.services import runs

# Seconds; a candidate's hard limit leaves the soft limit time to record the failure.
CANDIDATE_TIME_LIMIT = settings.TRAINING_TIME_LIMIT


@shared_task(bind=True, name="training.execute_run", soft_time_limit=300, time_limit=360)
def training_run_execute_task(self, run_id: int) -> None:
    runs.training_run_execute(run_id=run_id, task_id=self.request.id or "")


@shared_task(
    name="training.fit_candidate",
    soft_time_limit=CANDIDATE_TIME_LIMIT,
    time_limit=CANDIDATE_TIME_LIMIT + 60,
    acks_late=False,
    resultrepr_maxsize=160,  # the summary is for the chord callback, not for the log line
)
def training_candidate_fit_task(run_id: int, kind: str) -> dict:
    return runs.training_candidate_fit(run_id=run_id, kind=kind)


@shared_task(name="training.finalize_run", soft_time_limit=600, time_limit=660)
def training_run_finalize_task(results: list[dict], run_id: int) -> int:
    return runs.training_run_finalize(run_id=run_id, results=results).pk


@shared_task(name="training.reap_runs", soft_time_limit=60, time_limit=90)
def training_runs_reap_task() -> list[int]:
    return runs.training_runs_reap()


@shared_task(name="training.start_scheduled_run", soft_time_limit=60, time_limit=90)
def training_run_start_scheduled_task(kind: str, trials: int | None = None) -> int | None:
    """Beat's refit (when due) and monthly tune. Skips quietly when not due or a run is already active."""
    run = runs.training_run_start_scheduled(kind=kind, trials=trials)
    return run.pk if run is not None else None
