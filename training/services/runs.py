"""Training runs: start one (only one at a time), record its candidates, apply the champion rule, finish it.

A run's life: `training_run_start` (queued) → `training.services.graph` (running: every candidate kind —
naive, drift and the networks — as rounds of fits any worker may take: rolling-origin CV, walk-forward test,
served refit on all data, registration) → `training_run_finalize` (the ensemble of the networks, then the
champion rule: lowest pooled CV MAE, and only with Diebold–Mariano evidence against naive). Any failure marks
the run failed with its error; a run whose worker died is failed by `training_runs_recover` (at the next start,
and by the reaper).

A "tune" run searches hyperparameters (hyperopt on CV); a "train" run (the scheduled refit) reuses those of the
latest succeeded tune made with the same window settings, so it never compares errors across windows.

Modules beside this one: `run_params` (what a start may ask for, checked; the hyperparameters a "train" run
reuses), `run_schedule` (whether the served model is due a refit) and `version_records` (the ModelVersion row
mirroring each registered candidate). The names the rest of the code uses are importable from here.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Least
from django.utils import timezone

from forecasts.selectors.prices import price_closes_frame
from goldsite.audit import audit_actor, audit_log
from training import dispatch
from training.exceptions import TrainingError, TrainingRunActive
from training.ml.kinds import NETWORK_KINDS
from training.ml.results import as_date
from training.models import ModelVersion, TrainingRun
from training.services.mlflow_settings import mlflow_tracking_kwargs
from training.services.promotion import model_version_promote
from training.services.recovery import training_runs_recover
from training.services.run_params import (
    BASELINE_KINDS,
    MAX_TRIALS,
    NETWORK_ARCHITECTURES,
    bands_gammas,
    checked_architectures,
    checked_kind,
    checked_trials,
    training_protocol,
    training_tuned_hyperparameters,
)
from training.services.run_schedule import training_refit_due
from training.services.version_records import model_version_record, training_candidate_record

__all__ = [
    "BASELINE_KINDS",
    "MAX_TRIALS",
    "NETWORK_ARCHITECTURES",
    "TrainingError",
    "TrainingRunAborted",
    "bands_gammas",
    "model_version_record",
    "training_candidate_record",
    "training_protocol",
    "training_refit_due",
    "training_run_fail",
    "training_run_finalize",
    "training_run_note",
    "training_run_start",
    "training_run_start_scheduled",
    "training_run_step",
    "training_runs_reap",
    "training_tuned_hyperparameters",
]

logger = logging.getLogger(__name__)  # the train command listens to this name for the progress lines


class TrainingRunAborted(TrainingError):
    """Another part of the same run failed, so this part stopped early."""


def training_run_start(
    *,
    kind: str,
    trials: int | None = None,
    architectures: list[str] | None = None,
    test_days: int | None = None,
    selection_days: int | None = None,
    folds: int | None = None,
    retrain_every: int | None = None,
    promote: bool = True,
    user=None,
    inline: bool = False,
) -> TrainingRun:
    """Queue a training run and hand it to Celery. Refuses while another run is queued or running.

    `kind` is "tune" (hyperopt search, `trials` per network) or "train" (the same protocol with the
    hyperparameters of the latest tune made with the same window settings). With no broker the run executes
    eagerly: in a background thread of this process (so a page can watch its progress), or right here when
    `inline` is true (the CLI).
    """
    training_runs_recover()  # first fail any run whose process died or went silent: it would block this one
    kind = checked_kind(kind)
    architectures = checked_architectures(architectures)
    trials = checked_trials(kind=kind, trials=trials)
    protocol = training_protocol(
        test_days=test_days, selection_days=selection_days, folds=folds, retrain_every=retrain_every
    )
    params = {
        "trials": trials,
        "architectures": architectures,
        "protocol": protocol.to_dict(),
        "max_p": settings.CHAMPION_MAX_P,
        "gammas": bands_gammas(),
        "promote": promote,
    }
    run = _queued_run(kind=kind, params=params, user=user)
    audit_log("training_run.start", actor=audit_actor(user), run=run.pk, kind=kind, params=params)
    task_id = dispatch.training_run_execute_request(run_id=run.pk, inline=inline)
    if task_id:
        TrainingRun.objects.filter(pk=run.pk).update(task_id=task_id)
    run.refresh_from_db()
    return run


def _queued_run(*, kind: str, params: dict, user) -> TrainingRun:
    """The new queued run, or TrainingRunActive while another is queued or running."""
    try:
        with transaction.atomic():
            active = TrainingRun.objects.filter(status__in=TrainingRun.ACTIVE_STATUSES).first()
            if active is not None:
                raise TrainingRunActive(f"Training run #{active.pk} is {active.status}; wait for it to finish.")
            return TrainingRun.objects.create(
                kind=kind,
                params=params,
                started_by=user if user is not None and user.is_authenticated else None,
                message="Queued",
            )
    except IntegrityError as exc:  # the database's one-active-run constraint: a concurrent start won
        raise TrainingRunActive("Another training run was started at the same moment; wait for it.") from exc


def training_run_start_scheduled(*, kind: str, trials: int | None = None) -> TrainingRun | None:
    """What beat starts: a tune, or a "train" refit only when `training_refit_due`; None when skipped."""
    if kind == TrainingRun.Kind.TRAIN:
        due, why = training_refit_due()
        if not due:
            logger.info("Scheduled refit skipped: %s", why)
            return None
    try:
        return training_run_start(kind=kind, trials=trials)
    except TrainingRunActive:
        logger.info("Scheduled %s run skipped: a run is already active", kind)
        return None


def training_run_note(*, run_id: int, message: str) -> None:
    """Say what the run is doing and refresh its heartbeat, without counting a step."""
    TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(
        heartbeat_at=timezone.now(), message=message[:500]
    )
    logger.info("Training run #%s: %s", run_id, message)


def training_run_step(*, run_id: int, message: str, log_level: int = logging.INFO) -> None:
    """Count one finished step (a fit, a registration), refresh the heartbeat; stop if the run has failed.
    A fit's step logs at DEBUG: the trial and round lines (`training_run_note`) tell the story."""
    updated = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(
        steps_done=F("steps_done") + 1,
        progress=Least(Value(99), (F("steps_done") + 1) * 100 / F("steps_total")),
        heartbeat_at=timezone.now(),
        message=message[:500],
    )
    logger.log(log_level, "Training run #%s: %s", run_id, message)
    if not updated:
        raise TrainingRunAborted(f"Training run #{run_id} is no longer running; stopping this candidate.")


def training_run_finalize(*, run_id: int, results: list[dict]) -> ModelVersion:
    """Build the networks' ensemble, apply the champion rule and promote the champion (unless told not to)."""
    from training.ml.pipeline import CandidateResult
    from training.ml.selection import select_champion

    run = TrainingRun.objects.get(pk=run_id)
    try:
        candidates = [CandidateResult.from_dict({**r, "backtest": [], "cv_forecasts": []}) for r in results]
        networks = [c for c in candidates if c.kind in NETWORK_KINDS]
        if len(networks) >= 2:
            candidates.append(_ensemble(run=run, members=networks))
        decision = select_champion(candidates, max_p=run.params.get("max_p", settings.CHAMPION_MAX_P))
        winner = ModelVersion.objects.get(
            registered_name=decision.champion.registered_name, version=decision.champion.version
        )
        reason = f"{run.get_kind_display()} run #{run.pk}: {decision.reason}"
        promote = run.params.get("promote", True)
        if promote and not winner.is_champion:
            model_version_promote(model_version=winner, automatic=True, reason=reason)
        message = (
            f"Champion rule: {winner} — "
            + ("promoted. " if promote else "not promoted (--no-promote). ")
            + decision.reason
        )
        _finish_parent_run(run, "FINISHED")
    except Exception as exc:
        training_run_fail(run_id=run_id, error=exc, context="selecting the champion")
        raise
    TrainingRun.objects.filter(pk=run_id).update(
        status=TrainingRun.Status.SUCCEEDED, progress=100, finished_at=timezone.now(), message=message[:500]
    )
    return winner


def _ensemble(*, run: TrainingRun, members: list):
    """Register and mirror the equal-weight ensemble of the run's networks (no extra fits)."""
    from training.ml.pipeline import ensemble_candidate

    closes = price_closes_frame(end=as_date(run.params["data_end"]))
    result = ensemble_candidate(
        closes,
        members=members,
        registered_name=settings.MLFLOW_REGISTERED_MODEL,
        parent_run_id=run.params.get("mlflow_parent_run_id"),
        on_step=lambda message: training_run_step(run_id=run.pk, message=message),
        **mlflow_tracking_kwargs(),
    )
    training_candidate_record(result=result, run=run)
    return result


def training_run_fail(*, run_id: int, error: BaseException | str, context: str = "") -> None:
    """Mark a run failed with a readable error (first failure wins; a finished run is left alone)."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    if context:
        text = f"{context}: {text}"
    updated = TrainingRun.objects.filter(pk=run_id, status__in=TrainingRun.ACTIVE_STATUSES).update(
        status=TrainingRun.Status.FAILED, finished_at=timezone.now(), error=text, message="Failed"
    )
    if updated:
        logger.error("Training run #%s failed: %s", run_id, text)
        run = TrainingRun.objects.get(pk=run_id)
        _finish_parent_run(run, "FAILED")


def training_runs_reap(*, now: dt.datetime | None = None) -> list[int]:
    """Fail runs that can no longer finish (process gone, no heartbeat, never picked up): beat's reaper."""
    return training_runs_recover(now=now, by="the reaper")


def _finish_parent_run(run: TrainingRun, status: str) -> None:
    parent = run.params.get("mlflow_parent_run_id")
    if not parent:
        return
    from training.ml.tracking import finish_run

    try:
        finish_run(run_id=parent, status=status, tracking_uri=settings.MLFLOW_TRACKING_URI)
    except Exception:  # closing the MLflow parent run is bookkeeping; never mask the run's own outcome
        logger.warning("Could not close MLflow run %s", parent, exc_info=True)
