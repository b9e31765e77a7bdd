"""A candidate's evaluation as a graph of independent fits, and the plan that decides what to fit next.

A **unit** is one fit: one configuration on one CV fold, or one walk-forward block of the chosen one. It takes
plain parameters (`Unit`), reads only the closes, and returns its out-of-sample forecasts (`UnitResult`), so
any worker can run any unit in any order. A `CandidatePlan` hands out units in rounds and records what comes
back: each tuning round is one batch of configurations × every fold (the next batch is proposed only from
finished batches), then one round of walk-forward blocks. It sorts what it records, so the outcome is the same
whatever the number of workers and the order in which fits finish. Its state is plain JSON, so it can live in
a database row between rounds.

Hyperopt's TPE proposes each batch (`training.ml.proposals.BatchProposer`).
"""

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from training.ml.dataset import Protocol, Samples, Windows
from training.ml.early_stopping import bounded
from training.ml.evaluation import OutOfSample, refit_epochs
from training.ml.kinds import NETWORK_KINDS, method_class
from training.ml.proposals import BatchProposer

DEFAULT_BATCH = 5
STAGE_CV, STAGE_WALK = "cv", "walk"


@dataclass(frozen=True)
class Unit:
    """One fit, as plain data: which method and configuration, on which fold of which stage."""

    kind: str
    stage: str  # "cv" (a selection fold) or "walk" (a walk-forward block)
    trial: int  # 1-based trial number of the configuration (walk-forward: the chosen trial)
    fold: int  # fold (cv) or block (walk) index
    hyperparameters: dict[str, Any]
    epochs: int | None  # None: early stopping on the fit span's end (CV); else a refit's fixed epochs
    seed: int
    max_epochs: int = 100
    patience: int = 10
    lookback: int = 20

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Unit":
        return cls(**data)

    @property
    def key(self) -> tuple:
        return (self.stage, self.trial, self.fold)

    def make(self):
        method = method_class(self.kind)
        if self.kind in NETWORK_KINDS:
            return method(
                self.hyperparameters,
                lookback=self.lookback,
                epochs=self.epochs,
                max_epochs=self.max_epochs,
                patience=self.patience,
                seed=self.seed,
            )
        return method(self.hyperparameters)


@dataclass
class UnitResult:
    unit: Unit
    rows: list[int]
    predicted: list[float]
    best_epoch: int | None
    epochs: int | None
    seconds: float
    worker: str = ""
    longest_wait: int | None = None  # early stopping's longest wait that paid off (None: no early stopping)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "unit": self.unit.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "UnitResult":
        return cls(**{**data, "unit": Unit.from_dict(data["unit"])})


def run_unit(samples: Samples, windows: Windows, unit: Unit, *, worker: str = "") -> UnitResult:
    """Fit `unit` on its fold's fit span and forecast the fold one step ahead."""
    folds = windows.folds if unit.stage == STAGE_CV else windows.walk_forward
    fold = folds[unit.fold]
    started = time.perf_counter()
    model = unit.make()
    report = model.fit(samples, fold.fit_rows, seed=unit.seed + fold.index)
    predicted = model.predict(samples, fold.rows)
    if not np.all(np.isfinite(predicted)):
        raise ValueError(f"a {unit.kind} fit on {unit.stage} fold {unit.fold + 1} forecast non-finite returns")
    return UnitResult(
        unit=unit,
        rows=fold.rows.tolist(),
        predicted=np.asarray(predicted, dtype=float).tolist(),
        best_epoch=report.best_epoch,
        epochs=report.epochs,
        longest_wait=report.longest_wait,
        seconds=round(time.perf_counter() - started, 4),
        worker=worker,
    )


def assemble(results: list[UnitResult]) -> OutOfSample:
    """The out-of-sample forecasts of one configuration's units, in fold order."""
    from training.ml.kinds import FitReport

    ordered = sorted(results, key=lambda r: r.unit.fold)
    return OutOfSample(
        rows=np.concatenate([np.asarray(r.rows, dtype=int) for r in ordered]),
        predicted=np.concatenate([np.asarray(r.predicted, dtype=float) for r in ordered]),
        fold=np.concatenate([np.full(len(r.rows), r.unit.fold) for r in ordered]),
        reports=[
            FitReport(seconds=r.seconds, epochs=r.epochs, best_epoch=r.best_epoch, longest_wait=r.longest_wait)
            for r in ordered
        ],
    )


@dataclass
class CandidatePlan:
    """What one candidate fits, round by round; JSON state (`to_dict`) between rounds. See the module docstring."""

    kind: str
    protocol: dict[str, int]
    trials: int = 0  # hyperopt budget (ignored by non-hyperopt methods)
    batch_size: int = DEFAULT_BATCH
    hyperparameters: dict[str, Any] | None = None  # given: reuse them, no search
    seed: int = 42
    max_epochs: int = 100
    patience: int = 10
    done: list[dict[str, Any]] = field(default_factory=list)  # finished trials, in trial order
    best: int | None = None  # the chosen trial number
    epochs: int | None = None  # refit epochs of the chosen configuration
    stage: str = STAGE_CV  # "cv", then "walk", then "complete"
    pending: list[dict[str, Any]] = field(default_factory=list)  # the configurations of the round out
    walk: list[dict[str, Any]] = field(default_factory=list)  # the walk-forward units' results
    gammas: list[float] | None = None  # the adaptive-conformal γ values the bands choose from (None: the grid)

    # -- what to fit ----------------------------------------------------------------------------------------
    @property
    def method(self):
        return method_class(self.kind)

    @property
    def reuse(self) -> bool:
        return self.hyperparameters is not None

    @property
    def total_trials(self) -> int:
        method = self.method
        if self.reuse or method.tuning == "none":
            return 1
        if method.tuning == "grid":
            return len(method.grid())
        return max(self.trials, 1)

    def total_units(self) -> int:
        windows = self._windows_shape()
        return self.total_trials * windows["folds"] + windows["blocks"]

    def _windows_shape(self) -> dict[str, int]:
        protocol = Protocol(**self.protocol)
        blocks = math.ceil(protocol.test_days / protocol.retrain_every)
        return {"folds": protocol.folds, "blocks": blocks}

    def _configs(self) -> list[dict[str, Any]]:
        """The next round's configurations: {"trial", "hyperparameters", "vals"}."""
        start = len(self.done) + 1
        method = self.method
        if self.reuse or method.tuning == "none":
            return [{"trial": 1, "hyperparameters": dict(self.hyperparameters or {}), "vals": None}]
        if method.tuning == "grid":
            return [{"trial": i, "hyperparameters": c, "vals": None} for i, c in enumerate(method.grid(), start=1)]
        if self.batch_size < 1:
            raise ValueError("the trial batch size must be positive")
        n = min(self.batch_size, self.total_trials - len(self.done))
        proposer = BatchProposer(self.kind, seed=self.seed, startup=max(1, min(5, self.total_trials // 2)))
        history = [(t["vals"], t["mae"]) for t in self.done]
        batch = len(self.done) // self.batch_size
        proposals = proposer.propose(history, n, batch=batch)
        return [
            {"trial": start + i, "hyperparameters": proposer.hyperparameters(vals), "vals": vals}
            for i, vals in enumerate(proposals)
        ]

    def _resolved(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        """The method's full hyperparameters (defaults filled in) for a configuration."""
        if self.kind in NETWORK_KINDS:
            from training.ml.kinds.networks import resolve_hyperparameters

            return resolve_hyperparameters(self.kind, hyperparameters)
        return self.method(hyperparameters).hyperparameters

    def _unit(self, *, stage: str, trial: int, fold: int, hyperparameters, epochs) -> Unit:
        max_epochs, patience = self._early_stopping()
        return Unit(
            kind=self.kind,
            stage=stage,
            trial=trial,
            fold=fold,
            hyperparameters=self._resolved(hyperparameters),
            epochs=epochs,
            seed=self.seed,
            max_epochs=max_epochs,
            patience=patience,
            lookback=self.protocol["lookback"],
        )

    def _early_stopping(self) -> tuple[int, int]:
        """(max_epochs, patience) of the next CV fits: the defaults, bounded by the CV fits already recorded
        (`training.ml.early_stopping.bounded`); walk-forward refits run fixed epochs and use neither."""
        return bounded(
            max_epochs=self.max_epochs, patience=self.patience, fits=[u for t in self.done for u in t["units"]]
        )

    def next_units(self) -> list[Unit]:
        """The units of the next round (none once complete). Call `record` with all their results before the
        next call."""
        shape = self._windows_shape()
        if self.stage == STAGE_CV:
            self.pending = [{**c, "hyperparameters": self._resolved(c["hyperparameters"])} for c in self._configs()]
            return [
                self._unit(stage=STAGE_CV, trial=c["trial"], fold=f, hyperparameters=c["hyperparameters"], epochs=None)
                for c in self.pending
                for f in range(shape["folds"])
            ]
        if self.stage == STAGE_WALK:
            chosen = self.chosen
            return [
                self._unit(
                    stage=STAGE_WALK,
                    trial=chosen["trial"],
                    fold=b,
                    hyperparameters=chosen["hyperparameters"],
                    epochs=self.epochs,
                )
                for b in range(shape["blocks"])
            ]
        return []

    # -- what came back --------------------------------------------------------------------------------------
    def record(self, samples: Samples, results: list[UnitResult]) -> None:
        """Record a whole round's results (any order); moves the plan to its next stage when it is time."""
        if self.stage == STAGE_CV:
            by_trial: dict[int, list[UnitResult]] = {}
            for result in results:
                by_trial.setdefault(result.unit.trial, []).append(result)
            for config in self.pending:
                trial_results = by_trial[config["trial"]]
                cv = assemble(trial_results)
                ordered = sorted(trial_results, key=lambda r: r.unit.fold)
                self.done.append({**config, "mae": cv.mae(samples), "units": [r.to_dict() for r in ordered]})
            self.pending = []
            if len(self.done) >= self.total_trials:
                finite = [t for t in self.done if math.isfinite(t["mae"])]
                if not finite:
                    raise ValueError(f"every {self.kind} configuration diverged (non-finite CV error)")
                self.best = min(finite, key=lambda t: (t["mae"], t["trial"]))["trial"]
                self.epochs = refit_epochs(self.chosen_cv().best_epochs)
                self.stage = STAGE_WALK
        elif self.stage == STAGE_WALK:
            self.walk = [r.to_dict() for r in sorted(results, key=lambda r: r.unit.fold)]
            self.stage = "complete"

    @property
    def complete(self) -> bool:
        return self.stage == "complete"

    @property
    def chosen(self) -> dict[str, Any]:
        return next(t for t in self.done if t["trial"] == self.best)

    def trial_cv(self, trial: dict[str, Any]) -> OutOfSample:
        return assemble([UnitResult.from_dict(u) for u in trial["units"]])

    def chosen_cv(self) -> OutOfSample:
        return self.trial_cv(self.chosen)

    def walk_forward(self) -> OutOfSample:
        return assemble([UnitResult.from_dict(u) for u in self.walk])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CandidatePlan":
        return cls(**data)
