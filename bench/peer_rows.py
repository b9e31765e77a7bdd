"""bench/peers.py's rows: one method's walk-forward test forecasts and 80% bands, how they score, and the peers'
rows (ridge tuned on the CV folds, the statsforecast models with their own bands)."""

import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from bench.peer_models import STATSFORECAST_PEERS, RidgePeer, StatsForecastPeer
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.evaluation import OutOfSample, rolling_origin
from training.ml.evidence import diebold_mariano

SEED = 42
WINKLER_ALPHA = 0.20  # the 80% band
OWN, CONFORMAL = "own", "conformal"


@dataclass
class Row:
    """One line of the table: a method's walk-forward test forecasts and 80% bands (prices), and its cost."""

    name: str
    source: str  # "project" or "peer"
    interval: str  # OWN or CONFORMAL
    rows: np.ndarray  # sample numbers (the test window)
    predicted: np.ndarray  # predicted log returns
    lower_80: np.ndarray
    upper_80: np.ndarray
    fit_seconds: float
    total_seconds: float
    notes: list[str] = field(default_factory=list)
    champion: bool = False  # the project's champion rule chose it

    @classmethod
    def of_walk(cls, name: str, walk: OutOfSample, lower_80, upper_80, **row) -> "Row":
        """The row of a walk-forward made here: its test rows, predictions and fit seconds are `walk`'s."""
        return cls(
            name=name,
            rows=walk.rows,
            predicted=walk.predicted,
            lower_80=lower_80,
            upper_80=upper_80,
            fit_seconds=row.pop("fit_seconds", walk.fit_seconds),
            **row,
        )


@dataclass
class Project:
    """The project's side of the table: the closes and protocol its candidates were evaluated on, and them."""

    closes: object  # the joined closes frame
    protocol: Protocol
    feature_config: object
    rows: list[Row]
    decision: str  # the champion rule's reason
    source: str


def winkler_scores(actual, lower, upper, *, alpha: float = WINKLER_ALPHA) -> np.ndarray:
    """The interval (Winkler) score of each day: width, plus 2/α times the distance by which the band missed."""
    actual, lower, upper = (np.asarray(x, dtype=float) for x in (actual, lower, upper))
    below = np.maximum(lower - actual, 0.0)
    above = np.maximum(actual - upper, 0.0)
    return (upper - lower) + (2.0 / alpha) * (below + above)


def scores(samples: Samples, row: Row) -> dict[str, float | int | None]:
    """Test MAE, rMAE, DM p against naive (None for naive itself), 80% coverage and mean Winkler 80% of a row."""
    errors = samples.price_errors(row.rows, row.predicted)
    naive = samples.price_errors(row.rows, np.zeros(len(row.rows)))
    actual = samples.actual_close[row.rows]
    mae, naive_mae = float(errors.mean()), float(naive.mean())
    return {
        "n": len(row.rows),
        "mae": mae,
        "rmae": mae / naive_mae if naive_mae > 0 else None,
        "p_value": None if row.name == "naive" else diebold_mariano(errors, naive).p_value,
        "coverage_80": float(np.mean((actual >= row.lower_80) & (actual <= row.upper_80))),
        "winkler_80": float(winkler_scores(actual, row.lower_80, row.upper_80).mean()),
    }


def band_edges(backtest: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The 80% band edges of backtest rows (training.ml.evaluation.backtest_rows), as arrays."""
    return np.array([b["lower_80"] for b in backtest]), np.array([b["upper_80"] for b in backtest])


# -- the peers -------------------------------------------------------------------------------------------------
def statsforecast_walk(
    peer: type[StatsForecastPeer], samples: Samples, windows: Windows
) -> tuple[OutOfSample, np.ndarray, np.ndarray, list[str]]:
    """A statsforecast peer's walk-forward forecasts, its own 80% bands, and the model each refit selected."""
    fitted: list[StatsForecastPeer] = []

    def make() -> StatsForecastPeer:
        fitted.append(peer())
        return fitted[-1]

    walk = rolling_origin(make, samples, windows.walk_forward, seed=SEED)
    lower = np.concatenate([model.lower_80 for model in fitted])
    upper = np.concatenate([model.upper_80 for model in fitted])
    return walk, lower, upper, [model.description for model in fitted]


def statsforecast_row(peer: type[StatsForecastPeer], samples: Samples, windows: Windows) -> Row:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsforecast/statsmodels optimiser chatter
        walk, lower, upper, chosen = statsforecast_walk(peer, samples, windows)
    total = time.perf_counter() - started
    forms = ", ".join(f"{form} ×{count}" for form, count in Counter(chosen).most_common())
    notes = [f"selected at the {len(chosen)} refits: {forms}"]
    return Row.of_walk(
        peer.model_name, walk, lower, upper, source="peer", interval=OWN, total_seconds=total, notes=notes
    )


def ridge_tune(samples: Samples, windows: Windows):
    """Every alpha of the grid scored by rolling-origin CV over the selection folds; the lowest pooled CV MAE
    wins (ties: the first), as the project chooses a grid method's configuration."""
    from types import SimpleNamespace

    trials = []
    for config in RidgePeer.grid():
        cv = rolling_origin(lambda config=config: RidgePeer(config), samples, windows.folds, seed=SEED)
        trials.append(SimpleNamespace(hyperparameters=RidgePeer(config).hyperparameters, cv=cv, mae=cv.mae(samples)))
    return min(trials, key=lambda t: t.mae), trials


def conformal_walk(make, samples: Samples, windows: Windows, cv: OutOfSample):
    """Walk-forward forecasts and the 80% bands the project would give them: σ model and adaptive γ chosen on
    `cv`'s residuals, replayed over the test days (training.ml.calibration.fit_bands)."""
    from training.ml.calibration import fit_bands
    from training.ml.evaluation import backtest_rows

    walk = rolling_origin(make, samples, windows.walk_forward, seed=SEED)
    bands = fit_bands(samples, cv=cv, cv_folds=windows.folds, walk=walk, walk_folds=windows.walk_forward)
    lower, upper = band_edges(backtest_rows(samples, walk, bands.walk_forward))
    return walk, lower, upper


def ridge_row(samples: Samples, windows: Windows) -> Row:
    started = time.perf_counter()
    best, trials = ridge_tune(samples, windows)
    cv_rmae = [t.mae / np.mean(samples.price_errors(t.cv.rows, np.zeros(len(t.cv.rows)))) for t in trials]
    walk, lower, upper = conformal_walk(lambda: RidgePeer(best.hyperparameters), samples, windows, best.cv)
    total = time.perf_counter() - started
    grid = ", ".join(f"{t.hyperparameters['alpha']:g}: {r:.4f}" for t, r in zip(trials, cv_rmae, strict=True))
    notes = [f"alpha {best.hyperparameters['alpha']:g} chosen on CV (pooled CV rMAE by alpha: {grid})"]
    return Row.of_walk("ridge", walk, lower, upper, source="peer", interval=CONFORMAL, total_seconds=total, notes=notes)


def peer_rows(samples: Samples, windows: Windows) -> list[Row]:
    rows = [ridge_row(samples, windows)]
    for peer in STATSFORECAST_PEERS:
        rows.append(statsforecast_row(peer, samples, windows))
    return rows
