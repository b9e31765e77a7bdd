"""Choosing a method's hyperparameters on the pooled CV error of the selection period, never the test window.

How a method is tuned is its own declaration (`ReturnModel.tuning`): "none" (one configuration), "grid" (every
configuration of `grid()`, e.g. the drift's windows) or "hyperopt" (TPE over `training.ml.search`). Given
hyperparameters (a refit reusing a tune) are evaluated once, unchanged. The lowest pooled CV MAE wins; ties go
to the configuration tried first.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.ml.evaluation import OutOfSample
from training.ml.kinds import ReturnModel


@dataclass
class Trial:
    number: int  # 1-based
    hyperparameters: dict[str, Any]
    cv: OutOfSample
    mae: float  # pooled CV MAE in price space


def trials_for(method: type[ReturnModel], trials: int, *, reuse: bool) -> int:
    """How many CV evaluations `tune` makes."""
    if reuse or method.tuning == "none":
        return 1
    if method.tuning == "grid":
        return len(method.grid())
    return max(trials, 1)


def tune(
    method: type[ReturnModel],
    evaluate: Callable[[dict[str, Any], int], Trial],
    *,
    trials: int,
    seed: int,
    hyperparameters: dict[str, Any] | None = None,
) -> list[Trial]:
    """Every trial made, in order; `evaluate(hyperparameters, number)` runs one configuration's CV."""
    if hyperparameters is not None or method.tuning == "none":
        return [evaluate(dict(hyperparameters or {}), 1)]
    if method.tuning == "grid":
        return [evaluate(config, number) for number, config in enumerate(method.grid(), start=1)]
    if method.tuning != "hyperopt":
        raise ValueError(f"{method.kind} is not tuned on its own (tuning={method.tuning!r})")
    return _hyperopt(method, evaluate, trials=trials, seed=seed)


def _hyperopt(method, evaluate, *, trials: int, seed: int) -> list[Trial]:
    import hyperopt

    from training.ml.search import search_space

    made: list[Trial] = []

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        trial = evaluate(params, len(made) + 1)
        made.append(trial)
        if not math.isfinite(trial.mae):
            return {"status": hyperopt.STATUS_FAIL}
        return {"loss": trial.mae, "status": hyperopt.STATUS_OK}

    hyperopt.fmin(
        objective,
        search_space(method.kind),
        algo=lambda *args, **kwargs: hyperopt.tpe.suggest(*args, **kwargs, n_startup_jobs=max(1, min(5, trials // 2))),
        max_evals=max(trials, 1),
        trials=hyperopt.Trials(),
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    return made


def best_trial(trials: list[Trial], kind: str) -> Trial:
    finite = [t for t in trials if math.isfinite(t.mae)]
    if not finite:
        raise ValueError(f"every {kind} configuration diverged (non-finite CV error)")
    return min(finite, key=lambda t: (t.mae, t.number))
