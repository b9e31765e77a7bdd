"""Evaluate one candidate end to end under the rolling-origin protocol, and register its served model.

For a candidate kind (`training.ml.kinds`):

1. **Tune on CV.** Every configuration tried is scored by rolling-origin cross-validation over the selection
   period (`training.ml.dataset.Windows`): per fold, fit on every earlier target, forecast the fold. The lowest
   pooled CV MAE in price space wins (`training.ml.plan`). Each trial is a nested MLflow run with its
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
from dataclasses import dataclass
from typing import Any, Unpack

import pandas as pd

from training.ml.candidate_tracking import CandidateTracker, MlflowStore, description_tags, stepper
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.ensembling import ensemble_candidate  # noqa: E402  (the ensemble's own step, re-exported)
from training.ml.evaluation import cv_metrics
from training.ml.features import FeatureConfig
from training.ml.kinds import ReturnModel, method_class
from training.ml.plan import DEFAULT_BATCH, STAGE_CV, CandidatePlan, Unit, UnitResult, run_unit
from training.ml.registration import CandidateFits, register_candidate
from training.ml.results import STAGES, CandidateResult

__all__ = [
    "STAGES",
    "Candidate",
    "CandidateResult",
    "candidate_complete",
    "candidate_open",
    "candidate_record",
    "ensemble_candidate",
    "evaluate_candidate",
    "steps_for",
]

logger = logging.getLogger(__name__)


def steps_for(kind: str, trials: int, *, reuse: bool = False) -> int:
    """How many times a candidate calls `on_step`: once per CV trial, walk-forward, refit, registration."""
    method = method_class(kind)
    if method.tuning == "derived":
        return 1
    plan = CandidatePlan(kind=kind, protocol=Protocol().to_dict(), trials=trials, hyperparameters={} if reuse else None)
    return plan.total_trials + 3


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
    gammas: list[float] | None = None,
) -> Candidate:
    """Check the request and the history, open the candidate's MLflow run and plan its fits. `gammas`: the
    adaptive-conformal γ values its bands choose from on CV (None: `training.ml.intervals.GAMMAS`)."""
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
        gammas=None if gammas is None else [float(g) for g in gammas],
    )
    tags = {**description_tags(samples, windows, kind, protocol), "run_kind": "train" if plan.reuse else "tune"}
    tracker = CandidateTracker(
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
    feature_config: FeatureConfig | None = None,
    on_step: Callable[[str], None] | None = None,
    **store: Unpack[MlflowStore],
) -> None:
    """Record one round's fits (any order) in the plan; log each finished trial as a nested MLflow run."""
    plan, step = candidate.plan, stepper(on_step)
    samples = Samples.from_closes(closes, feature_config)
    stage, before = plan.stage, len(plan.done)
    plan.record(samples, results)
    fit_seconds = sum(r.seconds for r in results)
    candidate.stage_seconds["cv" if stage == STAGE_CV else "walk_forward"] += round(fit_seconds, 3)
    if stage == STAGE_CV:
        tracker = _tracker(candidate, store)
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
    registered_name: str = "gold-next-day",
    feature_config: FeatureConfig | None = None,
    on_step: Callable[[str], None] | None = None,
    **store: Unpack[MlflowStore],
) -> CandidateResult:
    """Refit the chosen configuration on every target, fit its bands, register it."""
    plan, step = candidate.plan, stepper(on_step)
    if not plan.complete:
        raise ValueError(f"the {plan.kind} candidate still has fits to make")
    samples = Samples.from_closes(closes, feature_config)
    windows = Windows.for_samples(samples, Protocol(**plan.protocol))
    tracker = _tracker(candidate, store)
    stage_seconds = dict(candidate.stage_seconds)
    try:
        t0 = time.perf_counter()
        served = _served_refit(plan, samples)
        stage_seconds["refit"] = round(time.perf_counter() - t0, 3)
        step(f"{plan.kind}: refitted on every target through {samples.target_date(samples.n_targets - 1)}")
        fits = CandidateFits(
            kind=plan.kind,
            hyperparameters=plan.chosen["hyperparameters"],
            samples=samples,
            windows=windows,
            served=served,
            cv=plan.chosen_cv(),
            walk=plan.walk_forward(),
            epochs=plan.epochs,
            trials=0 if plan.reuse else len(plan.done),
        )
        result = register_candidate(
            fits,
            tracker=tracker,
            registered_name=registered_name,
            started=time.perf_counter() - (time.time() - candidate.started),
            stage_seconds=stage_seconds,
            step=step,
            gammas=plan.gammas,
        )
        result.stage_seconds["mlflow"] = round(stage_seconds["mlflow"] + tracker.seconds, 3)
        return result
    except BaseException:
        tracker.fail()
        raise


def _tracker(candidate: Candidate, store: MlflowStore) -> CandidateTracker:
    """The candidate's MLflow run, resumed by id."""
    return CandidateTracker(**store, tags=candidate.tags, run_id=candidate.run_id)


def _served_refit(plan: CandidatePlan, samples: Samples) -> ReturnModel:
    """The chosen configuration refitted on every target, for the plan's epochs (the median CV early stop)."""
    chosen = plan.chosen
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
    return served


def candidate_fail(candidate: Candidate, *, tracking_uri: str) -> None:
    from training.ml.tracking import finish_run

    finish_run(candidate.run_id, "FAILED", tracking_uri=tracking_uri)


def evaluate_candidate(
    closes: pd.DataFrame,
    *,
    registered_name: str = "gold-next-day",
    on_step: Callable[[str], None] | None = None,
    **options: Any,
) -> CandidateResult:
    """Tune (or, given `hyperparameters`, just cross-validate) one kind, walk it forward over the test window,
    refit it on all data and register the refit: every unit of its plan run here, one after another (a
    training run spreads the same units over its workers). See the module docstring for the protocol.

    `options` are `candidate_open`'s keywords (kind, trials, hyperparameters, protocol, batch_size, feature_config,
    max_epochs, patience, seed, gammas, parent_run_id and the MLflow store), with its defaults."""
    candidate = candidate_open(closes, **options)
    feature_config = options.get("feature_config")
    store = MlflowStore(
        tracking_uri=options["tracking_uri"],
        experiment=options["experiment"],
        artifact_root=options.get("artifact_root"),
    )
    try:
        samples = Samples.from_closes(closes, feature_config)
        windows = Windows.for_samples(samples, Protocol(**candidate.plan.protocol))
        while not candidate.plan.complete:
            results = [run_unit(samples, windows, unit) for unit in candidate.plan.next_units()]
            candidate_record(closes, candidate, results, feature_config=feature_config, on_step=on_step, **store)
    except BaseException:
        candidate_fail(candidate, tracking_uri=store["tracking_uri"])
        raise
    return candidate_complete(
        closes, candidate, registered_name=registered_name, feature_config=feature_config, on_step=on_step, **store
    )
