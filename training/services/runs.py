"""Training runs: start one (only one at a time), record its candidates, apply the champion rule, finish it.

A run's life: `training_run_start` (queued) → `training.services.graph` (running: every candidate kind —
naive, drift and the networks — as rounds of fits any worker may take: rolling-origin CV, walk-forward test,
served refit on all data, registration) → `training_run_finalize` (the ensemble of the networks, then the
champion rule: lowest pooled CV MAE, and only with Diebold–Mariano evidence against naive). Any failure marks
the run failed with its error; a run whose worker died is failed by `training_runs_recover` (at the next start,
and by the reaper).

A "tune" run searches hyperparameters (hyperopt on CV); a "train" run (the scheduled refit) reuses those of the
latest succeeded tune made with the same window settings, so it never compares errors across windows.
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
from training.models import ModelVersion, TrainingRun
from training.services.mlflow_settings import mlflow_tracking_kwargs
from training.services.promotion import model_version_promote
from training.services.recovery import training_runs_recover
from training.signals import model_version_registered

logger = logging.getLogger(__name__)

NETWORK_ARCHITECTURES = NETWORK_KINDS
BASELINE_KINDS = ("naive", "drift")
MAX_TRIALS = 500


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
    if kind not in TrainingRun.Kind.values:
        raise TrainingError(f"Unknown run kind {kind!r}; choose one of {', '.join(TrainingRun.Kind.values)}.")
    architectures = list(architectures or NETWORK_ARCHITECTURES)
    unknown = sorted(set(architectures) - set(NETWORK_ARCHITECTURES))
    if unknown:
        raise TrainingError(
            f"Unknown architecture(s) {', '.join(unknown)}; choose from {', '.join(NETWORK_ARCHITECTURES)}."
        )
    if trials is None:
        trials = settings.TRAINING_DEFAULT_TRIALS if kind == TrainingRun.Kind.TUNE else 0
    if kind == TrainingRun.Kind.TUNE and not 1 <= trials <= MAX_TRIALS:
        raise TrainingError(f"A tuning run needs between 1 and {MAX_TRIALS} trials per architecture.")
    if kind == TrainingRun.Kind.TRAIN:
        trials = 0
    protocol = training_protocol(
        test_days=test_days, selection_days=selection_days, folds=folds, retrain_every=retrain_every
    )
    params = {
        "trials": trials,
        "architectures": [a for a in NETWORK_ARCHITECTURES if a in architectures],
        "protocol": protocol.to_dict(),
        "max_p": settings.CHAMPION_MAX_P,
        "gammas": bands_gammas(),
        "promote": promote,
    }
    try:
        with transaction.atomic():
            active = TrainingRun.objects.filter(status__in=TrainingRun.ACTIVE_STATUSES).first()
            if active is not None:
                raise TrainingRunActive(f"Training run #{active.pk} is {active.status}; wait for it to finish.")
            run = TrainingRun.objects.create(
                kind=kind,
                params=params,
                started_by=user if user is not None and user.is_authenticated else None,
                message="Queued",
            )
    except IntegrityError as exc:  # the database's one-active-run constraint: a concurrent start won
        raise TrainingRunActive("Another training run was started at the same moment; wait for it.") from exc
    audit_log("training_run.start", actor=audit_actor(user), run=run.pk, kind=kind, params=params)
    task_id = dispatch.training_run_execute_request(run_id=run.pk, inline=inline)
    if task_id:
        TrainingRun.objects.filter(pk=run.pk).update(task_id=task_id)
    run.refresh_from_db()
    return run


def bands_gammas() -> list[float] | None:
    """The adaptive-conformal γ a run's bands choose from on CV: BANDS_ACI_GAMMA "cv" (the default) lets CV
    choose from the grid; a number fixes it (0: plain split conformal)."""
    value = str(settings.BANDS_ACI_GAMMA).strip().lower()
    if value == "cv":
        return None
    try:
        gamma = float(value)
    except ValueError:
        raise TrainingError(f"BANDS_ACI_GAMMA must be 'cv' or a number from 0 to 0.2, not {value!r}.") from None
    if not 0.0 <= gamma <= 0.2:
        raise TrainingError(f"BANDS_ACI_GAMMA must be 'cv' or a number from 0 to 0.2, not {value!r}.")
    return [gamma]


def training_refit_due() -> tuple[bool, str]:
    """Is the served model due a refit? Yes when the champion learnt from no target in the last
    TRAINING_RETRAIN_EVERY common trading days (the cadence the walk-forward test reports), or there is none."""
    champion = ModelVersion.objects.filter(is_champion=True).first()
    if champion is None or champion.fitted_through is None:
        return True, "no champion fitted on all data yet"
    closes = price_closes_frame()
    newer = int((closes.index.date > champion.fitted_through).sum()) if not closes.empty else 0
    every = settings.TRAINING_RETRAIN_EVERY
    if newer >= every:
        return True, f"{newer} common trading days since {champion} was fitted (refit every {every})"
    return False, f"{champion} was fitted {newer} common trading days ago; the next refit is after {every}"


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


def training_protocol(
    *,
    test_days: int | None = None,
    selection_days: int | None = None,
    folds: int | None = None,
    retrain_every: int | None = None,
):
    """The evaluation protocol from the given values, else the settings; a clear error when they do not fit."""
    from training.ml.dataset import Protocol

    test_days = test_days or settings.TRAINING_TEST_DAYS
    if test_days < 20:
        raise TrainingError("The test window needs at least 20 trading days.")
    try:
        return Protocol(
            test_days=test_days,
            selection_days=selection_days or settings.TRAINING_SELECTION_DAYS,
            folds=folds or settings.TRAINING_FOLDS,
            retrain_every=retrain_every or settings.TRAINING_RETRAIN_EVERY,
        )
    except ValueError as exc:
        raise TrainingError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from exc


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


def training_tuned_hyperparameters(*, protocol: dict, test_start: dt.date) -> dict:
    """The hyperparameters a "train" run reuses: those of the latest succeeded tune run made with the same
    window settings whose selection period ended before `test_start` (the new run's test window), so no
    test-window error can have chosen them. {"run": tune run id or None, "hyperparameters": {kind: values}}.
    With no such tune, every kind keeps its defaults (run None)."""
    from training.ml.dataset import Protocol

    window = Protocol(**protocol).window_settings()
    tunes = TrainingRun.objects.filter(kind=TrainingRun.Kind.TUNE, status=TrainingRun.Status.SUCCEEDED)
    for tune in tunes.order_by("-finished_at", "-id"):
        if Protocol(**tune.params.get("protocol", {"folds": 4, "test_days": 0})).window_settings() != window:
            continue
        versions = list(tune.model_versions.exclude(architecture=ModelVersion.Architecture.ENSEMBLE))
        if not versions or any(v.test_start is None or v.test_start > test_start for v in versions):
            continue
        return {"run": tune.pk, "hyperparameters": {v.architecture: v.hyperparameters for v in versions}}
    return {"run": None, "hyperparameters": {}}


def training_candidate_record(*, result, run: TrainingRun | None) -> ModelVersion:
    """Mirror a registered candidate and announce it with its walk-forward and CV forecasts (the forecasts app
    stores them), in one transaction."""
    with transaction.atomic():
        version = model_version_record(result=result, run=run)
        model_version_registered.send(
            sender=ModelVersion, model_version=version, backtest=result.backtest, cv_forecasts=result.cv_forecasts
        )
    return version


def model_version_record(*, result, run: TrainingRun | None = None) -> ModelVersion:
    """Mirror one registered MLflow version (a `training.ml` CandidateResult) as a ModelVersion row, with the
    library versions and code commit its MLflow version tags carry (so pages never ask MLflow)."""
    from training.ml.tracking import code_commit, library_versions

    version, _ = ModelVersion.objects.update_or_create(
        registered_name=result.registered_name,
        version=result.version,
        defaults={
            "run_id": result.run_id,
            "architecture": result.kind,
            "hyperparameters": result.hyperparameters,
            "cv_metrics": result.cv_metrics,
            "test_metrics": result.test_metrics,
            "feature_config": result.feature_config,
            "protocol": result.protocol,
            "refit_epochs": result.refit_epochs,
            "intervals": result.intervals,
            "data_start": result.data_start,
            "data_end": result.data_end,
            "selection_start": result.selection_start,
            "test_start": result.test_start,
            "fitted_through": result.fitted_through,
            "provenance": {"library_versions": library_versions(), "code_commit": code_commit()},
            "training_run": run,
        },
    )
    return version


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

    closes = price_closes_frame(end=dt.date.fromisoformat(run.params["data_end"]))
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
