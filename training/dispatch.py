"""The one module that hands training's work to Celery: services call these functions, never `training.tasks`.

With a broker the work goes to the workers of the `training` queue, any number of them on any machines; each
request made inside a transaction goes out once it commits, so a worker always sees the rows it is about to
read. Without one (the embedded default, CELERY_TASK_ALWAYS_EAGER) the same graph runs in this process: right
here for the CLI, in a background thread for a run started from a page or the API.
"""

import threading

from django.conf import settings
from django.db import connections, transaction

from training import tasks


def training_run_execute_request(*, run_id: int, inline: bool) -> str:
    """Start executing a queued run; returns the Celery task id ("" when it ran or runs in this process)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return tasks.training_run_execute.delay_on_commit(run_id) or ""
    if inline or not settings.TRAINING_EAGER_IN_THREAD:
        tasks.training_run_execute.apply(args=(run_id,))
        return ""

    def execute_in_background() -> None:
        try:
            tasks.training_run_execute.apply(args=(run_id,))
        finally:
            connections.close_all()  # this thread's connections; it never serves another request

    transaction.on_commit(
        lambda: threading.Thread(target=execute_in_background, name=f"training-run-{run_id}", daemon=True).start()
    )
    return ""


def training_fits_request(*, fit_ids: list[int], candidate_id: int) -> None:
    """Run one round of fits, each a task any worker may take, then record the round (a chord)."""
    from celery import chord, group

    header = group(tasks.training_fit_execute.si(fit_id) for fit_id in fit_ids)
    callback = tasks.training_round_complete.si(candidate_id)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        chord(header)(callback)
        return
    transaction.on_commit(lambda: chord(header)(callback))
