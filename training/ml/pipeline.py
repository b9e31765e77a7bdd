"""Evaluate one candidate end to end under the rolling-origin protocol, and register its served model.

For a candidate kind (`training.ml.kinds`):

1. **Tune on CV.** Every configuration tried is scored by rolling-origin cross-validation over the selection
   period (`training.ml.dataset.Windows`): per fold, fit on every earlier target, forecast the fold. The lowest
   pooled CV MAE in price space wins (`training.ml.tuning`). Each trial is a nested MLflow run with its
   per-fold metrics.
2. **Evidence.** Pooled and per-fold CV MAE/rMAE and the one-sided Diebold–Mariano test against naive over the
   pooled CV days (`training.ml.evidence`).
3. **Bands.** Conformal quantiles from the pooled CV residuals in return space, normalised by σ_t.
4. **The served model** is the winning configuration refitted on every target up to the last common day, for
   the median CV early-stopping epoch (nothing is early-stopped on data it then predicts).
5. **The test report** is a walk-forward over the test window at the live refit cadence (`retrain_every`):
   each block forecast by the same recipe refitted on every target before it. It feeds no decision.

The ensemble (`ensemble_candidate`) is built from its members' results: the mean of their CV and walk-forward
forecasts, and their served refits as its served model. No step before the walk-forward reads a test-window
price: a test perturbs them all and checks that no decision, hyperparameter, CV metric or quantile moves.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

import pandas as pd

from training.ml.calibration import fit_bands
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.evaluation import OutOfSample, backtest_rows, cv_metrics, window_scores
from training.ml.features import FeatureConfig, feature_names
from training.ml.forecaster import Forecaster
from training.ml.kinds import ReturnModel, method_class
from training.ml.kinds.ensemble import Ensemble
from training.ml.plan import DEFAULT_BATCH, STAGE_CV, CandidatePlan, Unit, UnitResult, run_unit

logger = logging.getLogger(__name__)

_DATE_FIELDS = ("data_start", "data_end", "selection_start", "test_start", "fitted_through")
STAGES = ("cv", "refit", "walk_forward", "bands", "mlflow")


@dataclass
class CandidateResult:
    """What one registered candidate is, how it scored on CV (decides) and on the walk-forward test (reports)."""

    kind: str
    hyperparameters: dict[str, Any]
    cv_metrics: dict[str, Any]
    test_metrics: dict[str, Any]
    registered_name: str
    version: int
    run_id: str
    model_uri: str
    feature_config: dict[str, Any]
    protocol: dict[str, Any]
    data_start: date
    data_end: date
    selection_start: date  # first CV target date
    test_start: date  # first test target date
    fitted_through: date  # last target date the served model learnt from
    trials: int
    refit_epochs: int | None = None
    intervals: dict[str, Any] = field(default_factory=dict)  # σ model, γ, α_0, split-conformal multipliers
    backtest: list[dict[str, Any]] = field(default_factory=list)  # walk-forward test forecasts
    cv_forecasts: list[dict[str, Any]] = field(default_factory=list)  # out-of-fold CV forecasts, same shape
    cv: dict[str, Any] = field(default_factory=dict)  # OutOfSample.to_dict() of the chosen configuration
    walk_forward: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return self.kind

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in _DATE_FIELDS:
            data[name] = data[name].isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CandidateResult":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for name in _DATE_FIELDS:
            values[name] = date.fromisoformat(values[name])
        return cls(**values)


def steps_for(kind: str, trials: int, *, reuse: bool = False) -> int:
    """How many times a candidate calls `on_step`: once per CV trial, walk-forward, refit, registration."""
    method = method_class(kind)
    if method.tuning == "derived":
        return 1
    plan = CandidatePlan(kind=kind, protocol=Protocol().to_dict(), trials=trials, hyperparameters={} if reuse else None)
    return plan.total_trials + 3


class _Tracker:
    """The MLflow side of one candidate: its run, its trial runs, its registered version; timed.

    Opened once (`run_id=None`: a new candidate run), then resumed by id by whichever worker records a round or
    completes the candidate."""

    def __init__(self, *, tracking_uri, experiment, artifact_root, parent_run_id=None, run_name="", tags, run_id=None):
        from training.ml import tracking

        self.tracking = tracking
        self.tracking_uri = tracking_uri
        self.seconds = 0.0
        started = time.perf_counter()
        self.experiment_id = tracking.configure_tracking(tracking_uri, experiment, artifact_root)
        self.tags = tags
        self.run_id = run_id or tracking.create_run(
            tracking_uri=tracking_uri,
            experiment_id=self.experiment_id,
            run_name=run_name,
            parent_run_id=parent_run_id,
            tags=tags,
        )
        self.seconds += time.perf_counter() - started

    def log_trial(self, kind: str, number: int, hyperparameters: dict[str, Any], metrics: dict[str, Any]) -> None:
        started = time.perf_counter()
        trial_run = self.tracking.create_run(
            tracking_uri=self.tracking_uri,
            experiment_id=self.experiment_id,
            run_name=f"{kind}-trial-{number:02d}",
            parent_run_id=self.run_id,
            tags={"kind": kind, "trial": number},
        )
        self.tracking.log_run_data(
            trial_run,
            tracking_uri=self.tracking_uri,
            params=hyperparameters,
            metrics={
                "cv_mae": metrics["mae"],
                "cv_rmae": metrics["rmae"],
                **{f"cv_fold{f['fold']}_mae": f["mae"] for f in metrics["folds"]},
                **{f"cv_fold{f['fold']}_rmae": f["rmae"] for f in metrics["folds"]},
                **{f"cv_fold{f['fold']}_best_epoch": f["best_epoch"] for f in metrics["folds"]},
            },
        )
        self.tracking.finish_run(trial_run, tracking_uri=self.tracking_uri)
        self.seconds += time.perf_counter() - started

    def register(self, forecaster, *, params, metrics, registered_name, input_example) -> tuple[int, str]:
        from training.ml import registry

        started = time.perf_counter()
        self.tracking.log_run_data(self.run_id, tracking_uri=self.tracking_uri, params=params, metrics=metrics)
        version, uri = registry.log_forecaster(
            forecaster,
            tracking_uri=self.tracking_uri,
            run_id=self.run_id,
            registered_name=registered_name,
            version_tags=self.tags,
            input_example=input_example,
        )
        self.tracking.finish_run(self.run_id, tracking_uri=self.tracking_uri)
        self.seconds += time.perf_counter() - started
        return version, uri

    def fail(self) -> None:
        self.tracking.finish_run(self.run_id, "FAILED", tracking_uri=self.tracking_uri)


def _description_tags(samples: Samples, windows: Windows, kind: str, protocol: Protocol) -> dict[str, Any]:
    from training.ml import tracking

    return {
        "kind": kind,
        "architecture": kind,
        "data_start": samples.data_start.isoformat(),
        "data_end": samples.data_end.isoformat(),
        "fitted_through": samples.target_date(samples.n_targets - 1).isoformat(),
        "selection_start": samples.target_date(windows.selection_start).isoformat(),
        "test_start": samples.target_date(windows.test_start).isoformat(),
        "features": ",".join(feature_names(samples.feature_config)),
        **{f"protocol_{key}": value for key, value in protocol.to_dict().items()},
        **tracking.library_versions(),
        "code_commit": tracking.code_commit(),
    }


def _flat_metrics(prefix: str, metrics: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{key}": value for key, value in metrics.items() if isinstance(value, int | float)}


def _complete(
    *,
    kind: str,
    hyperparameters: dict[str, Any],
    samples: Samples,
    windows: Windows,
    served: ReturnModel,
    cv: OutOfSample,
    walk: OutOfSample,
    epochs: int | None,
    trials: int,
    tracker: _Tracker,
    registered_name: str,
    started: float,
    stage_seconds: dict[str, float],
    step: Callable[[str], None],
) -> CandidateResult:
    """Bands, metrics and registration, the same for every kind."""
    t0 = time.perf_counter()
    bands = fit_bands(samples, cv=cv, cv_folds=windows.folds, walk=walk, walk_folds=windows.walk_forward)
    stage_seconds["bands"] = round(time.perf_counter() - t0, 3)
    forecaster = Forecaster(
        model=served, feature_config=samples.feature_config, volatility=bands.volatility, calibration=bands.calibration
    )
    cv_scores = {
        **window_scores(samples, cv, bands.cv),
        **cv_metrics(samples, cv),
        "best_epochs": cv.best_epochs,
        "fit_seconds": round(cv.fit_seconds, 3),
        "interval_choice": bands.choice["table"],
    }
    cv_scores.pop("refits", None)
    test_scores = {**window_scores(samples, walk, bands.walk_forward), "fit_seconds": round(walk.fit_seconds, 3)}
    intervals = {
        "volatility": bands.volatility.kind,
        "volatility_label": bands.volatility.label,
        "gamma": bands.calibration.gamma,
        "alpha0": bands.calibration.alpha0,
        "quantiles": bands.calibration.quantiles,
        "calibration_days": len(cv.rows),
    }
    protocol = windows.protocol
    params = {
        **hyperparameters,
        "kind": kind,
        "trials": trials,
        "refit_epochs": epochs,
        "volatility": bands.volatility.kind,
        "aci_gamma": bands.calibration.gamma,
        **protocol.to_dict(),
        **{f"feature_{key}": value for key, value in samples.feature_config.to_dict().items()},
    }
    metrics = {
        **_flat_metrics("cv", cv_scores),
        **{f"cv_fold{f['fold']}_mae": f["mae"] for f in cv_scores["folds"]},
        **{f"cv_fold{f['fold']}_rmae": f["rmae"] for f in cv_scores["folds"]},
        **_flat_metrics("test", test_scores),
        "conformal_q80": forecaster.quantiles["80"],
        "conformal_q95": forecaster.quantiles["95"],
        "aci_alpha0_80": bands.calibration.alpha0["80"],
        "aci_alpha0_95": bands.calibration.alpha0["95"],
    }
    version, model_uri = tracker.register(
        forecaster,
        params=params,
        metrics=metrics,
        registered_name=registered_name,
        input_example=samples.closes.iloc[-forecaster.min_history :].rename_axis("date").reset_index(),
    )
    stage_seconds["mlflow"] = round(tracker.seconds, 3)
    step(f"{kind} registered as {registered_name} v{version}")
    return CandidateResult(
        kind=kind,
        hyperparameters=hyperparameters,
        cv_metrics=cv_scores,
        test_metrics=test_scores,
        registered_name=registered_name,
        version=version,
        run_id=tracker.run_id,
        model_uri=model_uri,
        feature_config=samples.feature_config.to_dict(),
        protocol=protocol.to_dict(),
        data_start=samples.data_start,
        data_end=samples.data_end,
        selection_start=samples.target_date(windows.selection_start),
        test_start=samples.target_date(windows.test_start),
        fitted_through=samples.target_date(samples.n_targets - 1),
        trials=trials,
        refit_epochs=epochs,
        intervals=intervals,
        backtest=backtest_rows(samples, walk, bands.walk_forward),
        cv_forecasts=backtest_rows(samples, cv, bands.cv),
        cv=cv.to_dict(),
        walk_forward=walk.to_dict(),
        seconds=round(time.perf_counter() - started, 3),
        stage_seconds=stage_seconds,
    )


def _stepper(on_step: Callable[[str], None] | None) -> Callable[[str], None]:
    def step(message: str) -> None:
        logger.info(message)
        if on_step is not None:
            on_step(message)

    return step


@dataclass
class Candidate:
    """An open candidate: its plan (what to fit next), its MLflow run and what it was opened with."""

    plan: CandidatePlan
    run_id: str
    tags: dict[str, Any]
    started: float
    stage_seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "run_id": self.run_id,
            "tags": self.tags,
            "started": self.started,
            "stage_seconds": self.stage_seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Candidate":
        return cls(**{**data, "plan": CandidatePlan.from_dict(data["plan"])})


def candidate_open(
    closes: pd.DataFrame,
    *,
    kind: str,
    trials: int = 0,
    hyperparameters: dict[str, Any] | None = None,
    protocol: Protocol | None = None,
    batch_size: int = DEFAULT_BATCH,
    feature_config: FeatureConfig | None = None,
    max_epochs: int = 100,
    patience: int = 10,
    seed: int = 42,
    tracking_uri: str,
    experiment: str,
    artifact_root: str | None = None,
    parent_run_id: str | None = None,
) -> Candidate:
    """Check the request and the history, open the candidate's MLflow run and plan its fits."""
    method = method_class(kind)
    if method.tuning == "derived":
        raise ValueError(f"a {kind} is built from its members' results: use ensemble_candidate")
    if trials < 0:
        raise ValueError("trials must be 0 or positive")
    if max_epochs < 1 or patience < 1:
        raise ValueError("max_epochs and patience must be positive")
    if method.tuning == "hyperopt" and hyperparameters is None and trials == 0:
        hyperparameters = {}  # a plain fit of the defaults
    protocol = protocol or Protocol()
    samples = Samples.from_closes(closes, feature_config)
    windows = Windows.for_samples(samples, protocol)  # fails here, before anything is logged, on short history
    plan = CandidatePlan(
        kind=kind,
        protocol=protocol.to_dict(),
        trials=trials,
        batch_size=batch_size,
        hyperparameters=hyperparameters,
        seed=seed,
        max_epochs=max_epochs,
        patience=patience,
    )
    tags = {**_description_tags(samples, windows, kind, protocol), "run_kind": "train" if plan.reuse else "tune"}
    tracker = _Tracker(
        tracking_uri=tracking_uri,
        experiment=experiment,
        artifact_root=artifact_root,
        parent_run_id=parent_run_id,
        run_name=kind,
        tags=tags,
    )
    stage_seconds = {**dict.fromkeys(STAGES, 0.0), "mlflow": tracker.seconds}
    return Candidate(plan=plan, run_id=tracker.run_id, tags=tags, started=time.time(), stage_seconds=stage_seconds)


def candidate_record(
    closes: pd.DataFrame,
    candidate: Candidate,
    results: list[UnitResult],
    *,
    tracking_uri: str,
    experiment: str,
    artifact_root: str | None = None,
    feature_config: FeatureConfig | None = None,
    on_step: Callable[[str], None] | None = None,
) -> None:
    """Record one round's fits (any order) in the plan; log each finished trial as a nested MLflow run."""
    plan, step = candidate.plan, _stepper(on_step)
    samples = Samples.from_closes(closes, feature_config)
    stage, before = plan.stage, len(plan.done)
    plan.record(samples, results)
    fit_seconds = sum(r.seconds for r in results)
    candidate.stage_seconds["cv" if stage == STAGE_CV else "walk_forward"] += round(fit_seconds, 3)
    if stage == STAGE_CV:
        tracker = _Tracker(
            tracking_uri=tracking_uri,
            experiment=experiment,
            artifact_root=artifact_root,
            tags=candidate.tags,
            run_id=candidate.run_id,
        )
        for trial in plan.done[before:]:
            cv = plan.trial_cv(trial)
            metrics = cv_metrics(samples, cv)
            tracker.log_trial(plan.kind, trial["trial"], trial["hyperparameters"], metrics)
            step(
                f"{plan.kind} trial {trial['trial']}/{plan.total_trials}: CV MAE {trial['mae']:.2f} "
                f"(rMAE {metrics['rmae']:.3f})"
            )
        candidate.stage_seconds["mlflow"] += round(tracker.seconds, 3)
    else:
        windows = Windows.for_samples(samples, Protocol(**plan.protocol))
        every = windows.protocol.retrain_every
        step(f"{plan.kind}: walk-forward test, {len(windows.walk_forward)} refits every {every} days")


def candidate_complete(
    closes: pd.DataFrame,
    candidate: Candidate,
    *,
    tracking_uri: str,
    experiment: str,
    artifact_root: str | None = None,
    registered_name: str = "gold-next-day",
    feature_config: FeatureConfig | None = None,
    on_step: Callable[[str], None] | None = None,
) -> CandidateResult:
    """Refit the chosen configuration on every target, fit its bands, register it."""
    plan, step = candidate.plan, _stepper(on_step)
    if not plan.complete:
        raise ValueError(f"the {plan.kind} candidate still has fits to make")
    samples = Samples.from_closes(closes, feature_config)
    windows = Windows.for_samples(samples, Protocol(**plan.protocol))
    tracker = _Tracker(
        tracking_uri=tracking_uri,
        experiment=experiment,
        artifact_root=artifact_root,
        tags=candidate.tags,
        run_id=candidate.run_id,
    )
    stage_seconds = dict(candidate.stage_seconds)
    try:
        chosen = plan.chosen
        t0 = time.perf_counter()
        served = Unit(
            kind=plan.kind,
            stage="served",
            trial=chosen["trial"],
            fold=0,
            hyperparameters=chosen["hyperparameters"],
            epochs=plan.epochs,
            seed=plan.seed,
            max_epochs=plan.max_epochs,
            patience=plan.patience,
            lookback=plan.protocol["lookback"],
        ).make()
        served.fit(samples, samples.all_targets, seed=plan.seed)
        stage_seconds["refit"] = round(time.perf_counter() - t0, 3)
        step(f"{plan.kind}: refitted on every target through {samples.target_date(samples.n_targets - 1)}")
        result = _complete(
            kind=plan.kind,
            hyperparameters=chosen["hyperparameters"],
            samples=samples,
            windows=windows,
            served=served,
            cv=plan.chosen_cv(),
            walk=plan.walk_forward(),
            epochs=plan.epochs,
            trials=0 if plan.reuse else len(plan.done),
            tracker=tracker,
            registered_name=registered_name,
            started=time.perf_counter() - (time.time() - candidate.started),
            stage_seconds=stage_seconds,
            step=step,
        )
        result.stage_seconds["mlflow"] = round(stage_seconds["mlflow"] + tracker.seconds, 3)
        return result
    except BaseException:
        tracker.fail()
        raise


def candidate_fail(candidate: Candidate, *, tracking_uri: str) -> None:
    from training.ml.tracking import finish_run

    finish_run(candidate.run_id, "FAILED", tracking_uri=tracking_uri)


def evaluate_candidate(
    closes: pd.DataFrame,
    *,
    kind: str,
    trials: int = 0,
    hyperparameters: dict[str, Any] | None = None,
    protocol: Protocol | None = None,
    batch_size: int = DEFAULT_BATCH,
    feature_config: FeatureConfig | None = None,
    max_epochs: int = 100,
    patience: int = 10,
    seed: int = 42,
    tracking_uri: str,
    experiment: str,
    artifact_root: str | None = None,
    registered_name: str = "gold-next-day",
    parent_run_id: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> CandidateResult:
    """Tune (or, given `hyperparameters`, just cross-validate) one kind, walk it forward over the test window,
    refit it on all data and register the refit: every unit of its plan run here, one after another (a
    training run spreads the same units over its workers). See the module docstring for the protocol."""
    mlflow = {"tracking_uri": tracking_uri, "experiment": experiment, "artifact_root": artifact_root}
    candidate = candidate_open(
        closes,
        kind=kind,
        trials=trials,
        hyperparameters=hyperparameters,
        protocol=protocol,
        batch_size=batch_size,
        feature_config=feature_config,
        max_epochs=max_epochs,
        patience=patience,
        seed=seed,
        parent_run_id=parent_run_id,
        **mlflow,
    )
    try:
        samples = Samples.from_closes(closes, feature_config)
        windows = Windows.for_samples(samples, Protocol(**candidate.plan.protocol))
        while not candidate.plan.complete:
            results = [run_unit(samples, windows, unit) for unit in candidate.plan.next_units()]
            candidate_record(closes, candidate, results, feature_config=feature_config, on_step=on_step, **mlflow)
    except BaseException:
        candidate_fail(candidate, tracking_uri=tracking_uri)
        raise
    return candidate_complete(
        closes, candidate, registered_name=registered_name, feature_config=feature_config, on_step=on_step, **mlflow
    )


def ensemble_candidate(
    closes: pd.DataFrame,
    *,
    members: list[CandidateResult],
    feature_config: FeatureConfig | None = None,
    tracking_uri: str,
    experiment: str,
    artifact_root: str | None = None,
    registered_name: str = "gold-next-day",
    parent_run_id: str | None = None,
    on_step: Callable[[str], None] | None = None,
    load_member: Callable[[str], Any] | None = None,
) -> CandidateResult:
    """The equal-weight ensemble of `members` (registered network candidates of the same closes and protocol).

    Its CV and walk-forward forecasts are the mean of the members'; its served model holds the members' served
    refits, loaded from the registry (`load_member(model_uri)` -> Forecaster).
    """
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two members")
    protocols = {tuple(sorted(m.protocol.items())) for m in members}
    if len(protocols) != 1 or len({m.data_end for m in members}) != 1:
        raise ValueError("an ensemble's members must share their protocol and data")
    started = time.perf_counter()
    protocol = Protocol(**members[0].protocol)
    samples = Samples.from_closes(closes, feature_config)
    windows = Windows.for_samples(samples, protocol)
    if samples.data_end != members[0].data_end:
        raise ValueError("the ensemble's closes are not its members' closes")
    if load_member is None:
        from training.ml.registry import load_forecaster

        def load_member(uri: str):
            return load_forecaster(uri, tracking_uri=tracking_uri)

    step = _stepper(on_step)
    tracker = _Tracker(
        tracking_uri=tracking_uri,
        experiment=experiment,
        artifact_root=artifact_root,
        parent_run_id=parent_run_id,
        run_name=Ensemble.kind,
        tags={
            **_description_tags(samples, windows, Ensemble.kind, protocol),
            "run_kind": "ensemble",
            "members": ", ".join(f"{m.kind} v{m.version}" for m in members),
        },
    )
    try:
        served = Ensemble(members=[load_member(m.model_uri).model for m in members])
        cv = OutOfSample.mean([OutOfSample.from_dict(m.cv) for m in members])
        walk = OutOfSample.mean([OutOfSample.from_dict(m.walk_forward) for m in members])
        return _complete(
            kind=Ensemble.kind,
            hyperparameters={"members": [m.kind for m in members]},
            samples=samples,
            windows=windows,
            served=served,
            cv=cv,
            walk=walk,
            epochs=None,
            trials=0,
            tracker=tracker,
            registered_name=registered_name,
            started=started,
            stage_seconds=dict.fromkeys(STAGES, 0.0),
            step=step,
        )
    except BaseException:
        tracker.fail()
        raise
