"""A training run as a graph of fits that any number of workers share (`training.ml.plan` decides the fits).

For each candidate kind of a run: `training_candidates_open` opens its MLflow run and plan; each round
(`training_round_dispatch`) stores one `TrainingFit` row per unit and hands them to the workers as one chord
(`training.dispatch`), fold-major; each worker runs `training.services.fits.training_fit_execute` on whichever
fit it takes, then the same configuration's folds no one has started (its network is built). The chord's callback
`training_round_complete` (on the default queue, never behind other candidates' fits) records the round in the
plan (in fit order, whatever order they finished in) and dispatches the next round, or, when the plan is
complete, refits the served model, fits its bands and registers it. When the last candidate of the run is
registered, the run is finalised (the ensemble of the networks, then the champion rule:
`training.services.runs.training_run_finalize`).
"""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from forecasts.selectors.prices import price_closes_frame
from training import dispatch
from training.models import TrainingCandidate, TrainingFit, TrainingRun
from training.services import runs
from training.services.fits import run_closes
from training.services.mlflow_settings import mlflow_tracking_kwargs
from training.services.recovery import training_run_process

logger = logging.getLogger(__name__)


def _mlflow() -> dict[str, Any]:
    kwargs = mlflow_tracking_kwargs()
    return {key: kwargs[key] for key in ("tracking_uri", "experiment", "artifact_root")}


def training_run_execute(*, run_id: int, task_id: str = "") -> None:
    """Mark the run running, open its MLflow parent run and every candidate, and dispatch their first rounds."""
    from training.ml.tracking import start_parent_run

    run = TrainingRun.objects.get(pk=run_id)
    if run.status != TrainingRun.Status.QUEUED:
        logger.warning("Training run #%s is %s, not queued; not executing it again", run_id, run.status)
        return
    try:
        closes = price_closes_frame()
        if closes.empty:
            raise runs.TrainingError("No gold and S&P 500 bars in the database; import or fetch prices first.")
        data_end = closes.index[-1].date()
        kinds = [*runs.BASELINE_KINDS, *run.params["architectures"]]
        reuse = None
        if run.kind == TrainingRun.Kind.TRAIN:
            test_days = run.params["protocol"]["test_days"]
            # Too short a history fails in the candidates with the full "not enough history" message.
            test_start = closes.index[-test_days].date() if len(closes) >= test_days else closes.index[0].date()
            reuse = runs.training_tuned_hyperparameters(protocol=run.params["protocol"], test_start=test_start)
        parent_run_id = start_parent_run(
            **mlflow_tracking_kwargs(),
            name=f"{run.kind}-run-{run.pk}",
            tags={"goldsite.training_run": str(run.pk), "goldsite.kind": run.kind},
            params=run.params["protocol"],
        )
        run.params = {
            **run.params,
            "data_end": data_end.isoformat(),
            "mlflow_parent_run_id": parent_run_id,
            "hyperparameters": reuse["hyperparameters"] if reuse is not None else None,
            "hyperparameters_from_run": reuse["run"] if reuse is not None else None,
        }
        now = timezone.now()
        TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingRun.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            task_id=task_id or run.task_id,
            **training_run_process(),  # host, pid, worker: what recovery checks when the run goes quiet
            params=run.params,
            message=f"Opening {', '.join(kinds)} on data up to {data_end.isoformat()}",
        )
        candidates = training_candidates_open(
            run=run, kinds=kinds, reuse=reuse["hyperparameters"] if reuse is not None else None
        )
    except Exception as exc:
        runs.training_run_fail(run_id=run.pk, error=exc)
        raise
    ensemble = len(run.params["architectures"]) >= 2
    steps = training_run_units_total(candidates=candidates) + len(candidates) + (1 if ensemble else 0)
    reused = ""
    if reuse is not None:
        reused = f"; hyperparameters of tune run #{reuse['run']}" if reuse["run"] else "; default hyperparameters"
    TrainingRun.objects.filter(pk=run.pk).update(
        steps_total=steps,
        message=f"Evaluating {', '.join(kinds)} on data up to {data_end.isoformat()}{reused}: {steps} steps",
    )
    for candidate in candidates:
        training_round_dispatch(candidate_id=candidate.pk)


def training_candidates_open(*, run: TrainingRun, kinds: list[str], reuse: dict | None) -> list[TrainingCandidate]:
    """Open every candidate's MLflow run and plan (failing early on too short a history)."""
    from training.ml.dataset import Protocol
    from training.ml.pipeline import candidate_open

    closes = run_closes(run)
    opened = []
    for kind in kinds:
        candidate = candidate_open(
            closes,
            kind=kind,
            trials=run.params["trials"],
            hyperparameters=None if reuse is None else reuse.get(kind, {}),
            protocol=Protocol(**run.params["protocol"]),
            batch_size=run.params.get("batch_size", settings.TRAINING_TRIAL_BATCH),
            gammas=run.params.get("gammas"),
            parent_run_id=run.params["mlflow_parent_run_id"],
            **_mlflow(),
        )
        opened.append(TrainingCandidate.objects.create(run=run, kind=kind, state=candidate.to_dict()))
    return opened


def training_run_units_total(*, candidates: list[TrainingCandidate]) -> int:
    from training.ml.plan import CandidatePlan

    return sum(CandidatePlan.from_dict(c.state["plan"]).total_units() for c in candidates)


def training_round_dispatch(*, candidate_id: int) -> list[int]:
    """Store the candidate's next round of fits and hand them to the workers; their ids."""
    from training.ml.pipeline import Candidate

    with transaction.atomic():
        row = TrainingCandidate.objects.select_for_update().get(pk=candidate_id)
        candidate = Candidate.from_dict(row.state)
        units = candidate.plan.next_units()
        row.round += 1
        row.state = candidate.to_dict()
        row.save(update_fields=["round", "state", "updated_at"])
        TrainingFit.objects.bulk_create(
            TrainingFit(
                run_id=row.run_id,
                candidate=row,
                round=row.round,
                stage=unit.stage,
                trial=unit.trial,
                fold=unit.fold,
                unit=unit.to_dict(),
            )
            for unit in units
        )
        # Fold-major (trial 1 fold 1, trial 2 fold 1, …): workers start on different configurations.
        fit_ids = list(
            TrainingFit.objects.filter(candidate=row, round=row.round)
            .order_by("fold", "trial")
            .values_list("pk", flat=True)
        )
    # Outside the block: with a broker the chord goes out on commit; without one it runs right here, and each
    # fit's own writes must not hang on this round's transaction.
    dispatch.training_fits_request(fit_ids=fit_ids, candidate_id=candidate_id)
    return fit_ids


def training_round_complete(*, candidate_id: int) -> None:
    """Record a finished round in the candidate's plan; dispatch the next round or register the candidate."""
    from training.ml.pipeline import Candidate, candidate_record
    from training.ml.plan import UnitResult

    row = TrainingCandidate.objects.select_related("run").get(pk=candidate_id)
    run = row.run
    if run.status != TrainingRun.Status.RUNNING:
        logger.warning("Training run #%s is %s; not recording %s", run.pk, run.status, row)
        return
    fits = list(row.fits.filter(round=row.round))
    unfinished = [fit for fit in fits if fit.status != TrainingFit.Status.DONE]
    if unfinished:
        runs.training_run_fail(run_id=run.pk, error=f"{len(unfinished)} fits of {row} did not finish")
        return
    candidate = Candidate.from_dict(row.state)
    try:
        candidate_record(
            run_closes(run),
            candidate,
            [UnitResult.from_dict(fit.result) for fit in fits],
            on_step=lambda message: runs.training_run_note(run_id=run.pk, message=message),
            **_mlflow(),
        )
    except Exception as exc:
        runs.training_run_fail(run_id=run.pk, error=exc, context=row.kind)
        raise
    TrainingCandidate.objects.filter(pk=row.pk).update(state=candidate.to_dict())
    if candidate.plan.complete:
        _candidate_register(row=row, candidate=candidate)
    else:
        training_round_dispatch(candidate_id=row.pk)


def _candidate_register(*, row: TrainingCandidate, candidate) -> None:
    from training.ml.pipeline import candidate_complete

    run = row.run
    try:
        result = candidate_complete(
            run_closes(run),
            candidate,
            registered_name=settings.MLFLOW_REGISTERED_MODEL,
            on_step=lambda message: runs.training_run_note(run_id=run.pk, message=message),
            **_mlflow(),
        )
        version = runs.training_candidate_record(result=result, run=run)
    except Exception as exc:
        runs.training_run_fail(run_id=run.pk, error=exc, context=row.kind)
        raise
    summary = result.to_dict()
    summary.pop("backtest", None)
    summary.pop("cv_forecasts", None)
    summary["model_version_id"] = version.pk
    TrainingCandidate.objects.filter(pk=row.pk).update(
        status=TrainingCandidate.Status.COMPLETE,
        model_version=version,
        state={**candidate.to_dict(), "result": summary},
    )
    runs.training_run_step(run_id=run.pk, message=f"{row.kind} registered as {version}", log_level=logging.DEBUG)
    _finalize_when_all_registered(run_id=run.pk)


def _finalize_when_all_registered(*, run_id: int) -> None:
    """The last candidate to register finalises the run, once (the run row lock decides who is last)."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        counts = run.candidates.aggregate(
            total=Count("id"), open=Count("id", filter=~Q(status=TrainingCandidate.Status.COMPLETE))
        )
        if counts["open"] or run.params.get("finalizing"):
            return
        TrainingRun.objects.filter(pk=run_id).update(params={**run.params, "finalizing": True})
    results = [c.state["result"] for c in TrainingCandidate.objects.filter(run_id=run_id).order_by("id")]
    runs.training_run_finalize(run_id=run_id, results=results)
