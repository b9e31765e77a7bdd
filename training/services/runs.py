"""Training runs: start one (only one at a time), execute it as a fan-out over architectures, finish it.

A run's life: `training_run_start` (queued) → `training_run_execute` (running; fans out one candidate per
architecture, naive included) → `training_candidate_fit` (per architecture, possibly on other machines) →
`training_run_finalize` (mirror the versions, pick the champion by validation MAE, succeeded). Any failure
marks the run failed with its error; a run whose worker died is failed by `training_runs_reap`.
"""

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Least
from django.utils import timezone

from forecasts.selectors.prices import price_closes_frame
from forecasts.services.scoring import forecast_backtest_store
from goldsite.audit import audit_actor, audit_log
from training.exceptions import TrainingError, TrainingRunActive
from training.models import ModelVersion, TrainingRun
from training.services.promotion import model_version_promote
from training.services.recovery import training_run_process, training_runs_recover
from training.services.tracking import mlflow_tracking_kwargs

logger = logging.getLogger(__name__)

NETWORK_ARCHITECTURES = ("mlp", "cnn", "lstm")
MAX_TRIALS = 500


class TrainingRunAborted(TrainingError):
    """Another part of the same run failed, so this part stopped early."""


def training_run_start(
    *,
    kind: str,
    trials: int | None = None,
    architectures: list[str] | None = None,
    test_days: int | None = None,
    promote: bool = True,
    user=None,
    inline: bool = False,
) -> TrainingRun:
    """Queue a training run and hand it to Celery. Refuses while another run is queued or running.

    `kind` is "tune" (hyperopt search, `trials` per architecture) or "train" (refit each architecture with
    its best known hyperparameters). With no broker the run executes eagerly: in a background thread of
    this process (so a page can watch its progress), or right here when `inline` is true (the CLI).
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
    test_days = test_days or settings.TRAINING_TEST_DAYS
    if test_days < 20:
        raise TrainingError("The test window needs at least 20 trading days.")

    params = {
        "trials": trials,
        "architectures": [a for a in NETWORK_ARCHITECTURES if a in architectures],
        "test_days": test_days,
        "validation_days": settings.TRAINING_VALIDATION_DAYS,
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
    _enqueue(run, inline=inline)
    run.refresh_from_db()
    return run


def _enqueue(run: TrainingRun, *, inline: bool) -> None:
    from training.tasks import training_run_execute_task

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        result = training_run_execute_task.delay(run.pk)
        TrainingRun.objects.filter(pk=run.pk).update(task_id=result.id)
        return
    if inline or not settings.TRAINING_EAGER_IN_THREAD:
        training_run_execute_task.apply(args=(run.pk,))
        return

    def execute_in_background() -> None:
        try:
            training_run_execute_task.apply(args=(run.pk,))
        finally:
            connections.close_all()  # this thread's connections; it never serves another request

    threading.Thread(target=execute_in_background, name=f"training-run-{run.pk}", daemon=True).start()


def training_run_execute(*, run_id: int, task_id: str = "") -> None:
    """Mark the run running, open its MLflow parent run and fan out one candidate task per architecture."""
    from celery import chord

    from training.ml.pipeline import steps_for
    from training.ml.tracking import start_parent_run
    from training.tasks import training_candidate_fit_task, training_run_finalize_task

    run = TrainingRun.objects.get(pk=run_id)
    if run.status != TrainingRun.Status.QUEUED:
        logger.warning("Training run #%s is %s, not queued; not executing it again", run_id, run.status)
        return
    try:
        closes = price_closes_frame()
        if closes.empty:
            raise TrainingError("No gold and S&P 500 bars in the database; import or fetch prices first.")
        data_end = closes.index[-1].date()
        architectures = ["naive", *run.params["architectures"]]
        trials = run.params["trials"]
        parent_run_id = start_parent_run(
            **mlflow_tracking_kwargs(),
            name=f"{run.kind}-run-{run.pk}",
            tags={"goldsite.training_run": str(run.pk), "goldsite.kind": run.kind},
        )
    except Exception as exc:
        training_run_fail(run_id=run.pk, error=exc)
        raise
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        **training_run_process(),  # host, pid, worker: what recovery checks when the run goes quiet
        task_id=task_id or run.task_id,
        steps_total=sum(steps_for(a, trials) for a in architectures),
        params={**run.params, "data_end": data_end.isoformat(), "mlflow_parent_run_id": parent_run_id},
        message=f"Training {', '.join(architectures)} on data up to {data_end.isoformat()}",
    )
    header = [training_candidate_fit_task.si(run.pk, architecture) for architecture in architectures]
    chord(header)(training_run_finalize_task.s(run.pk))


def training_run_step(*, run_id: int, message: str) -> None:
    """Count one finished step (a trial, a registration), refresh the heartbeat; stop if the run has failed."""
    updated = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(
        steps_done=F("steps_done") + 1,
        progress=Least(Value(99), (F("steps_done") + 1) * 100 / F("steps_total")),
        heartbeat_at=timezone.now(),
        message=message[:500],
    )
    logger.info("Training run #%s: %s", run_id, message)
    if not updated:
        raise TrainingRunAborted(f"Training run #{run_id} is no longer running; stopping this candidate.")


def _best_known_hyperparameters(architecture: str) -> dict | None:
    """The hyperparameters of the best (lowest validation MAE) version of this architecture, if any."""
    versions = ModelVersion.objects.filter(architecture=architecture).exclude(hyperparameters={})
    best = min(versions, key=lambda v: v.validation_metrics.get("mae", float("inf")), default=None)
    return best.hyperparameters if best is not None else None


def training_candidate_fit(*, run_id: int, architecture: str) -> dict:
    """Fit (or tune) one architecture, register it in MLflow, mirror it and store its backtest."""
    from training.ml.pipeline import train_candidate

    run = TrainingRun.objects.get(pk=run_id)
    if run.status != TrainingRun.Status.RUNNING:
        raise TrainingRunAborted(f"Training run #{run_id} is {run.status}; not fitting {architecture}.")
    params = run.params
    try:
        closes = price_closes_frame(end=dt.date.fromisoformat(params["data_end"]))
        trials = params["trials"] if architecture != "naive" else 0
        result = train_candidate(
            closes,
            architecture=architecture,
            trials=trials,
            hyperparameters=None if trials or architecture == "naive" else _best_known_hyperparameters(architecture),
            test_days=params["test_days"],
            val_days=params["validation_days"],
            registered_name=settings.MLFLOW_REGISTERED_MODEL,
            parent_run_id=params["mlflow_parent_run_id"],
            on_step=lambda message: training_run_step(run_id=run_id, message=f"{architecture}: {message}"),
            **mlflow_tracking_kwargs(),
        )
        with transaction.atomic():
            version = model_version_record(result=result, run=run)
            forecast_backtest_store(model_version=version, rows=result.backtest)
    except TrainingRunAborted:
        raise
    except Exception as exc:
        training_run_fail(run_id=run_id, error=exc, context=architecture)
        raise
    summary = result.to_dict()
    summary.pop("backtest", None)
    summary["model_version_id"] = version.pk
    return summary


def model_version_record(*, result, run: TrainingRun | None = None) -> ModelVersion:
    """Mirror one registered MLflow version (a `training.ml` CandidateResult) as a ModelVersion row."""
    version, _ = ModelVersion.objects.update_or_create(
        registered_name=result.registered_name,
        version=result.version,
        defaults={
            "run_id": result.run_id,
            "architecture": result.architecture,
            "hyperparameters": result.hyperparameters,
            "validation_metrics": result.validation_metrics,
            "test_metrics": result.test_metrics,
            "feature_config": {**result.feature_config, "lookback": result.lookback},
            "data_start": _date(result.data_start),
            "data_end": _date(result.data_end),
            "validation_start": _date(result.validation_start),
            "test_start": _date(result.test_start),
            "training_run": run,
        },
    )
    return version


def training_run_finalize(*, run_id: int, results: list[dict]) -> ModelVersion:
    """Pick the champion among the run's candidates by validation MAE and promote it (unless told not to)."""
    from training.ml.pipeline import CandidateResult
    from training.ml.selection import select_champion

    run = TrainingRun.objects.get(pk=run_id)
    try:
        candidates = [CandidateResult.from_dict({**r, "backtest": []}) for r in results]
        best = select_champion(candidates)
        winner = ModelVersion.objects.get(registered_name=best.registered_name, version=best.version)
        naive_mae = next((c.validation_metrics.get("mae") for c in candidates if c.architecture == "naive"), None)
        reason = (
            f"Lowest validation MAE in {run.kind} run #{run.pk}: {winner.architecture} "
            f"{best.validation_metrics.get('mae'):.2f} (naive {naive_mae:.2f})"
        )
        if run.params.get("promote", True) and not winner.is_champion:
            model_version_promote(model_version=winner, automatic=True, reason=reason)
        message = f"Best: {winner} — " + (
            "promoted to champion" if run.params.get("promote", True) else "not promoted (--no-promote)"
        )
        _finish_parent_run(run, "FINISHED")
    except Exception as exc:
        training_run_fail(run_id=run_id, error=exc, context="selecting the champion")
        raise
    TrainingRun.objects.filter(pk=run_id).update(
        status=TrainingRun.Status.SUCCEEDED, progress=100, finished_at=timezone.now(), message=message[:500]
    )
    return winner


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
    return training_runs_recover(now=now)


def _finish_parent_run(run: TrainingRun, status: str) -> None:
    parent = run.params.get("mlflow_parent_run_id")
    if not parent:
        return
    from training.ml.tracking import finish_run

    try:
        finish_run(run_id=parent, status=status, tracking_uri=settings.MLFLOW_TRACKING_URI)
    except Exception:  # closing the MLflow parent run is bookkeeping; never mask the run's own outcome
        logger.warning("Could not close MLflow run %s", parent, exc_info=True)


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)
