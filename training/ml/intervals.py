"""Prediction intervals: conformal scores normalised by σ_t, adaptive conformal inference, and their choice.

**Scores.** A CV day's score is s = |r − r̂| / σ_t (return space; σ_t from a `training.ml.volatility` model
fitted on that fold's fit span). The served model's calibration set is the pooled CV scores of the selection
period; the test window never contributes.

**Adaptive conformal inference** (Gibbs & Candès 2021). For each level (80%, 95%; α = 0.20, 0.05) the band of
day t uses the empirical ⌈(n+1)(1 − α_t)⌉/n quantile q_t of the calibration scores, and after the day is
scored α_{t+1} = α_t + γ·(α − miss_t): a run of misses lowers α_t (wider bands), a calm run raises it. α_t
below 1/(n+1) uses the largest score (the whole line would be the only exact answer); α_t ≥ 1 gives a zero
width. γ = 0 is plain split conformal. Backtests replay the rule day by day from α_0 = α, exactly as live
operation does; live, the state is α_0 (where the walk-forward replay ended) plus the misses of the version's
scored live forecasts (`aci_alpha`), so it is a pure function of stored rows.

**Choice on CV** (`choose_interval_model`): every σ model × γ of the grid is replayed over the CV days in time
order with cross-conformal (leave-one-fold-out) calibration, and the pair with the lowest mean interval
(Winkler) score at 80% + 95% wins. Only CV days are read.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from training.ml.metrics import winkler

LEVELS = {"80": 0.20, "95": 0.05}  # miscoverage α of each band
GAMMAS = (0.0, 0.005, 0.01, 0.02, 0.05)


def aci_quantile(sorted_scores: np.ndarray, alpha: float) -> float:
    """The ⌈(n+1)(1 − α)⌉-th smallest score (the largest when that rank passes n; 0 when it is below 1)."""
    n = len(sorted_scores)
    # round() keeps e.g. (249 + 1) * 0.8 = 200.00000000000003 from becoming 201.
    rank = math.ceil(round((n + 1) * (1.0 - alpha), 9))
    if rank < 1:
        return 0.0
    return float(sorted_scores[min(rank, n) - 1])


@dataclass
class Calibration:
    """What a served band needs: the split-conformal multipliers at the nominal levels and, for adaptive bands,
    the sorted calibration scores, γ and the starting state α_0 of each level."""

    quantiles: dict[str, float]
    scores: np.ndarray | None = None
    gamma: float = 0.0
    alpha0: dict[str, float] = field(default_factory=lambda: dict(LEVELS))

    @classmethod
    def from_scores(cls, scores: np.ndarray, *, gamma: float = 0.0, alpha0: dict[str, float] | None = None):
        ordered = np.sort(np.asarray(scores, dtype=float))
        quantiles = {key: aci_quantile(ordered, alpha) for key, alpha in LEVELS.items()}
        return cls(quantiles=quantiles, scores=ordered, gamma=gamma, alpha0=dict(alpha0 or LEVELS))

    @property
    def adaptive(self) -> bool:
        return self.scores is not None

    def multiplier(self, key: str, alpha: float | None = None) -> float:
        """q of one level: at the live state `alpha` for adaptive bands, the split-conformal one otherwise."""
        if alpha is None or self.scores is None:
            return self.quantiles[key]
        return aci_quantile(self.scores, alpha)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantiles": self.quantiles,
            "scores": None if self.scores is None else self.scores.tolist(),
            "gamma": self.gamma,
            "alpha0": self.alpha0,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Calibration":
        scores = data.get("scores")
        return cls(
            quantiles={k: float(v) for k, v in data["quantiles"].items()},
            scores=None if scores is None else np.asarray(scores, dtype=float),
            gamma=float(data.get("gamma", 0.0)),
            alpha0={k: float(v) for k, v in (data.get("alpha0") or LEVELS).items()},
        )


@dataclass(frozen=True)
class Replay:
    """The per-day band multipliers q_t of one level and the state after the last day."""

    quantiles: np.ndarray
    misses: np.ndarray
    alpha_end: float


def aci_replay(
    scores: np.ndarray, calibration: Iterable[np.ndarray] | np.ndarray, *, alpha: float, gamma: float, alpha0=None
) -> Replay:
    """Replay the adaptive rule over days with `scores`, in order.

    `calibration` is one sorted score array for every day, or one per day (cross-conformal CV).
    """
    scores = np.asarray(scores, dtype=float)
    per_day = isinstance(calibration, list)
    current = alpha if alpha0 is None else float(alpha0)
    quantiles, misses = np.empty(len(scores)), np.empty(len(scores), dtype=bool)
    for t, score in enumerate(scores):
        q = aci_quantile(calibration[t] if per_day else calibration, current)
        quantiles[t], misses[t] = q, score > q
        current += gamma * (alpha - float(misses[t]))
    return Replay(quantiles=quantiles, misses=misses, alpha_end=current)


def aci_alpha(alpha0: float, *, alpha: float, gamma: float, misses: Iterable[bool]) -> float:
    """The live state after the scored days: α_0 + γ·Σ(α − miss_t)."""
    current = float(alpha0)
    for miss in misses:
        current += gamma * (alpha - float(bool(miss)))
    return current


def price_band(last_close, predicted_return, multiplier, sigma) -> tuple[np.ndarray, np.ndarray]:
    half = np.asarray(multiplier, dtype=float) * np.asarray(sigma, dtype=float)
    centre = np.asarray(predicted_return, dtype=float)
    last_close = np.asarray(last_close, dtype=float)
    return last_close * np.exp(centre - half), last_close * np.exp(centre + half)


def cross_conformal_sets(scores: np.ndarray, folds: np.ndarray) -> list[np.ndarray]:
    """For each day, the sorted scores of the other folds (leave-one-fold-out calibration)."""
    sets = {f: np.sort(scores[folds != f]) for f in np.unique(folds)}
    return [sets[f] for f in folds]


@dataclass(frozen=True)
class IntervalChoice:
    volatility: str
    gamma: float
    table: list[dict]  # every (volatility, gamma) tried with its CV scores


def choose_interval_model(
    *,
    actual_return: np.ndarray,
    predicted_return: np.ndarray,
    last_close: np.ndarray,
    actual_close: np.ndarray,
    folds: np.ndarray,
    sigmas: dict[str, np.ndarray],
    gammas: Iterable[float] = GAMMAS,
) -> IntervalChoice:
    """The σ model and γ with the lowest CV interval score (80% + 95%); ties go to the earlier (simpler) one."""
    residual = np.abs(np.asarray(actual_return) - np.asarray(predicted_return))
    table = []
    for kind, sigma in sigmas.items():
        scores = residual / sigma
        calibration = cross_conformal_sets(scores, folds)
        for gamma in gammas:
            row = {"volatility": kind, "gamma": gamma}
            for key, alpha in LEVELS.items():
                replay = aci_replay(scores, calibration, alpha=alpha, gamma=gamma)
                lower, upper = price_band(last_close, predicted_return, replay.quantiles, sigma)
                row[f"winkler_{key}"] = winkler(actual_close, lower, upper, int(key))
                row[f"coverage_{key}"] = float(1.0 - replay.misses.mean())
            row["score"] = row["winkler_80"] + row["winkler_95"]
            table.append(row)
    best = min(range(len(table)), key=lambda i: (table[i]["score"], i))
    return IntervalChoice(volatility=table[best]["volatility"], gamma=table[best]["gamma"], table=table)
