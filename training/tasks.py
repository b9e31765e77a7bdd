"""Thin Celery tasks for training: plain ids in, one service call each; each task is named after its function.

`training.dispatch` is the only module that sends them. Every task here is named `training.*`, which
`CELERY_TASK_ROUTES` sends to the `training` queue (bookkeeping ones to `default`), so workers started with
`-Q training` on other machines share the fits of a run.
"""

import socket

from celery import shared_task
from django.conf import settings

from training.services import fits, graph, runs

FIT_TIME_LIMIT = settings.TRAINING_TIME_LIMIT  # seconds; the hard limit leaves the soft one time to record it


@shared_task(bind=True, name="training.training_run_execute", soft_time_limit=300, time_limit=360)
def training_run_execute(self, run_id: int) -> None:
    graph.training_run_execute(run_id=run_id, task_id=self.request.id or "")


@shared_task(
    bind=True,
    name="training.training_fit_execute",
    soft_time_limit=FIT_TIME_LIMIT,
    time_limit=FIT_TIME_LIMIT + 60,
    acks_late=False,
)
def training_fit_execute(self, fit_id: int) -> int:
    worker = self.request.hostname or f"in-process@{socket.gethostname()}"
    return fits.training_fit_execute(fit_id=fit_id, worker=worker)


@shared_task(name="training.training_round_complete", soft_time_limit=900, time_limit=960)
def training_round_complete(candidate_id: int) -> None:
    graph.training_round_complete(candidate_id=candidate_id)


@shared_task(name="training.training_runs_reap", soft_time_limit=60, time_limit=90)
def training_runs_reap() -> list[int]:
    return runs.training_runs_reap()


@shared_task(name="training.training_run_start_scheduled", soft_time_limit=60, time_limit=90)
def training_run_start_scheduled(kind: str, trials: int | None = None) -> int | None:
    """Beat's refit (when due) and monthly tune. Skips quietly when not due or a run is already active."""
    run = runs.training_run_start_scheduled(kind=kind, trials=trials)
    return run.pk if run is not None else None
