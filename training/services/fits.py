"""The fits of a training run as workers execute them: one task per fit, and the configuration's other folds
while its network is built (see `training.services.graph`, which plans and dispatches the rounds)."""

import logging
from typing import Any

from django.utils import timezone

from forecasts.selectors.prices import price_closes_frame
from training.ml.results import as_date
from training.models import TrainingFit, TrainingRun
from training.services import runs

_closes_cache: dict[tuple[int, str], Any] = {}  # this process's closes of the run it last fitted for


def run_closes(run: TrainingRun):
    """The closes of the run (every common day up to its data_end), read once per process and run."""
    key = (run.pk, run.params["data_end"])
    if key not in _closes_cache:
        _closes_cache.clear()
        _closes_cache[key] = price_closes_frame(end=as_date(run.params["data_end"]))
    return _closes_cache[key]


def training_fit_execute(*, fit_id: int, worker: str) -> int:
    """Run one fit, then, while its network is built, every fit of the same configuration no task has started.

    Each fit is its own task, and a round's tasks go out fold-major (trial 1 fold 1, trial 2 fold 1, …), so
    workers start on different configurations; the worker that starts one takes its remaining folds in turn
    (a claimed fit's own task then finds it taken and returns), and builds and traces each network once. With
    more workers than configurations the spare ones take the folds nobody has started. Skipped when the run is
    no longer running."""
    fit = TrainingFit.objects.select_related("run", "candidate").get(pk=fit_id)
    if fit.run.status != TrainingRun.Status.RUNNING and fit.status != TrainingFit.Status.DONE:
        TrainingFit.objects.filter(pk=fit.pk, status=TrainingFit.Status.QUEUED).update(
            status=TrainingFit.Status.SKIPPED, worker=worker
        )
        raise runs.TrainingRunAborted(f"Training run #{fit.run.pk} is {fit.run.status}; fit {fit} skipped.")
    if not _fit_claim(fit_id=fit.pk, worker=worker):
        return fit.pk  # done, or being run by the task that claimed it
    _fit_run(fit=fit, worker=worker)
    siblings = TrainingFit.objects.select_related("run").filter(
        candidate_id=fit.candidate_id,
        round=fit.round,
        stage=fit.stage,
        trial=fit.trial,
        status=TrainingFit.Status.QUEUED,
    )
    for sibling in siblings.order_by("fold"):
        if _fit_claim(fit_id=sibling.pk, worker=worker):
            _fit_run(fit=sibling, worker=worker)
    return fit.pk


def _fit_claim(*, fit_id: int, worker: str) -> bool:
    """Take a queued fit for this worker (one conditional UPDATE: of two takers, one wins)."""
    taken = TrainingFit.objects.filter(pk=fit_id, status=TrainingFit.Status.QUEUED).update(
        status=TrainingFit.Status.RUNNING, worker=worker
    )
    return taken == 1


def _fit_run(*, fit: TrainingFit, worker: str) -> None:
    """Fit a claimed unit and store its out-of-sample forecasts; a failure fails the run."""
    from training.ml.dataset import Protocol, Samples, Windows
    from training.ml.plan import Unit, run_unit

    run = fit.run
    unit = Unit.from_dict(fit.unit)
    try:
        closes = run_closes(run)
        samples = Samples.from_closes(closes)
        windows = Windows.for_samples(samples, Protocol(**run.params["protocol"]))
        result = run_unit(samples, windows, unit, worker=worker)
    except Exception as exc:
        runs.training_run_fail(run_id=run.pk, error=exc, context=f"{fit}")
        raise
    TrainingFit.objects.filter(pk=fit.pk).update(
        status=TrainingFit.Status.DONE,
        result=result.to_dict(),
        worker=worker,
        seconds=result.seconds,
        finished_at=timezone.now(),
    )
    what = f"fold {unit.fold + 1}" if unit.stage == "cv" else f"walk-forward block {unit.fold + 1}"
    runs.training_run_step(
        run_id=run.pk,
        message=f"{unit.kind} trial {unit.trial} {what}: {result.seconds:.1f} s on {worker}",
        log_level=logging.DEBUG,
    )
