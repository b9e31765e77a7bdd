"""Fitting a candidate's bands from its out-of-sample forecasts: σ_t per fold, the choice on CV, the served
calibration and the walk-forward replay (see `training.ml.intervals` for the method).

Every volatility model is fitted on the same span as the point model it scales: per CV fold on the fold's fit
span, per walk-forward block on the targets before the block, for the served model on everything. The σ
model and γ are chosen on the CV days only; the walk-forward replays the chosen rule over the test days from
the nominal α and hands its final state to live operation.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from training.ml.dataset import Fold, Samples
from training.ml.evaluation import OutOfSample
from training.ml.intervals import LEVELS, Calibration, aci_replay, choose_interval_model, cross_conformal_sets
from training.ml.volatility import VOLATILITY_MODELS, VolatilityModel, volatility_class


def fold_sigma(samples: Samples, oos: OutOfSample, folds: list[Fold], kind: str) -> np.ndarray:
    """σ_t of every forecast row, from a `kind` model fitted on that row's fold fit span."""
    returns = samples.gold_returns
    sigma = np.empty(len(oos.rows))
    for fold in folds:
        mask = oos.fold == fold.index
        if not mask.any():
            continue
        # The fit span's last target is the return into the fold's first as-of day.
        model = volatility_class(kind)().fit(returns, int(samples.positions(fold.rows[:1])[0]))
        sigma[mask] = model.sigma(returns, samples.positions(oos.rows[mask]))
    return sigma


@dataclass
class Bands:
    """A window's bands: σ_t and the per-day multipliers of each level."""

    sigma: np.ndarray
    multipliers: dict[str, np.ndarray]


@dataclass
class FittedBands:
    volatility: VolatilityModel  # the served model's, fitted on all data
    calibration: Calibration
    cv: Bands
    walk_forward: Bands
    choice: dict[str, Any]


def fit_bands(
    samples: Samples,
    *,
    cv: OutOfSample,
    cv_folds: list[Fold],
    walk: OutOfSample,
    walk_folds: list[Fold],
    gammas=None,
) -> FittedBands:
    actual = samples.returns[cv.rows]
    sigmas = {kind: fold_sigma(samples, cv, cv_folds, kind) for kind in VOLATILITY_MODELS}
    kwargs = {} if gammas is None else {"gammas": gammas}
    choice = choose_interval_model(
        actual_return=actual,
        predicted_return=cv.predicted,
        last_close=samples.last_close[cv.rows],
        actual_close=samples.actual_close[cv.rows],
        folds=cv.fold,
        sigmas=sigmas,
        **kwargs,
    )
    sigma_cv = sigmas[choice.volatility]
    scores = np.abs(actual - cv.predicted) / sigma_cv
    lofo = cross_conformal_sets(scores, cv.fold)
    cv_multipliers = {
        key: aci_replay(scores, lofo, alpha=alpha, gamma=choice.gamma).quantiles for key, alpha in LEVELS.items()
    }

    calibration = Calibration.from_scores(scores, gamma=choice.gamma)
    sigma_walk = fold_sigma(samples, walk, walk_folds, choice.volatility)
    walk_scores = np.abs(samples.returns[walk.rows] - walk.predicted) / sigma_walk
    walk_multipliers, alpha_end = {}, {}
    for key, alpha in LEVELS.items():
        replay = aci_replay(walk_scores, calibration.scores, alpha=alpha, gamma=choice.gamma)
        walk_multipliers[key], alpha_end[key] = replay.quantiles, replay.alpha_end
    calibration.alpha0 = alpha_end  # live operation goes on from where the walk-forward left the state

    served = volatility_class(choice.volatility)().fit(samples.gold_returns, len(samples.closes) - 1)
    return FittedBands(
        volatility=served,
        calibration=calibration,
        cv=Bands(sigma=sigma_cv, multipliers=cv_multipliers),
        walk_forward=Bands(sigma=sigma_walk, multipliers=walk_multipliers),
        choice={"volatility": choice.volatility, "gamma": choice.gamma, "table": choice.table},
    )
