"""Out-of-sample forecasts from an expanding window, and what they score.

`rolling_origin` is the one loop of the protocol: for each fold, fit a fresh method on every target before
the fold and forecast the fold one step ahead. Cross-validation runs it over the selection folds; the
walk-forward test over the test blocks at the live refit cadence. Same loop, different folds.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from training.ml.dataset import Fold, Samples
from training.ml.evidence import diebold_mariano
from training.ml.kinds import FitReport, ReturnModel
from training.ml.metrics import window_metrics


@dataclass
class OutOfSample:
    """One candidate's one-step-ahead forecasts of `rows`, each from a fit that never saw its target."""

    rows: np.ndarray
    predicted: np.ndarray  # predicted log returns, one per row
    fold: np.ndarray  # the fold index of each row
    reports: list[FitReport] = field(default_factory=list)

    def abs_errors(self, samples: Samples) -> np.ndarray:
        return samples.price_errors(self.rows, self.predicted)

    def mae(self, samples: Samples) -> float:
        return float(np.mean(self.abs_errors(samples)))

    @property
    def best_epochs(self) -> list[int]:
        return [r.best_epoch for r in self.reports if r.best_epoch is not None]

    @property
    def fit_seconds(self) -> float:
        return float(sum(r.seconds for r in self.reports))

    @classmethod
    def mean(cls, parts: list["OutOfSample"]) -> "OutOfSample":
        """The equal-weight mean of several candidates' forecasts of the same rows (an ensemble's)."""
        first = parts[0]
        if any(not np.array_equal(p.rows, first.rows) for p in parts):
            raise ValueError("an ensemble's members must forecast the same rows")
        return cls(rows=first.rows, predicted=np.mean([p.predicted for p in parts], axis=0), fold=first.fold)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows.tolist(), "predicted": self.predicted.tolist(), "fold": self.fold.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OutOfSample":
        return cls(
            rows=np.asarray(data["rows"], dtype=int),
            predicted=np.asarray(data["predicted"], dtype=float),
            fold=np.asarray(data["fold"], dtype=int),
        )


def rolling_origin(
    make: Callable[[], ReturnModel],
    samples: Samples,
    folds: list[Fold],
    *,
    seed: int,
    after_fold: Callable[[Fold, FitReport], None] | None = None,
) -> OutOfSample:
    """Fit `make()` on each fold's fit span and forecast the fold; the forecasts of every fold, in order."""
    predicted, fold_of_row, reports = [], [], []
    for fold in folds:
        model = make()
        report = model.fit(samples, fold.fit_rows, seed=seed + fold.index)
        forecast = model.predict(samples, fold.rows)
        if not np.all(np.isfinite(forecast)):
            raise ValueError(f"a {model.kind} fit on fold {fold.index + 1} forecast non-finite returns")
        predicted.append(forecast)
        fold_of_row.append(np.full(len(fold.rows), fold.index))
        reports.append(report)
        if after_fold is not None:
            after_fold(fold, report)
    return OutOfSample(
        rows=np.concatenate([fold.rows for fold in folds]),
        predicted=np.concatenate(predicted),
        fold=np.concatenate(fold_of_row),
        reports=reports,
    )


def refit_epochs(best_epochs: list[int]) -> int | None:
    """Epochs of a refit on a whole span: the median early-stopping epoch over the CV folds (None: no network)."""
    return max(1, int(round(median(best_epochs)))) if best_epochs else None


def _ratio(value: float, baseline: float) -> float | None:
    return value / baseline if baseline > 0 else None


def cv_metrics(samples: Samples, cv: OutOfSample) -> dict[str, Any]:
    """Pooled and per-fold MAE and rMAE, and the Diebold–Mariano test against naive over the pooled days."""
    errors = cv.abs_errors(samples)
    naive = samples.price_errors(cv.rows, np.zeros(len(cv.rows)))
    folds = []
    for index in np.unique(cv.fold):
        mask = cv.fold == index
        rows = cv.rows[mask]
        fold_mae, fold_naive = float(errors[mask].mean()), float(naive[mask].mean())
        folds.append(
            {
                "fold": int(index) + 1,
                "start": samples.target_date(int(rows[0])).isoformat(),
                "end": samples.target_date(int(rows[-1])).isoformat(),
                "n": int(mask.sum()),
                "mae": fold_mae,
                "naive_mae": fold_naive,
                "rmae": _ratio(fold_mae, fold_naive),
                "best_epoch": cv.reports[len(folds)].best_epoch if len(cv.reports) > len(folds) else None,
            }
        )
    mae, naive_mae = float(errors.mean()), float(naive.mean())
    dm = diebold_mariano(errors, naive)
    return {
        "mae": mae,
        "naive_mae": naive_mae,
        "rmae": _ratio(mae, naive_mae),
        "n": len(cv.rows),
        "dm_statistic": dm.statistic,
        "p_value": dm.p_value,
        "dm_lag": dm.lag,
        "folds": folds,
    }


def window_scores(samples: Samples, oos: OutOfSample, bands) -> dict[str, Any]:
    """Point and interval metrics of out-of-sample forecasts with their bands (`training.ml.calibration.Bands`),
    with the DM test against naive over the same days. The market regimes are terciles of the 20-day realised
    volatility of gold over the window, the same days for every candidate whatever σ its bands use."""
    from training.ml.volatility import Realised

    metrics = window_metrics(
        last_close=samples.last_close[oos.rows],
        actual_close=samples.actual_close[oos.rows],
        predicted_return=oos.predicted,
        quantiles=bands.multipliers,
        scale=bands.sigma,
        regime=Realised().sigma(samples.gold_returns, samples.positions(oos.rows)),
    )
    dm = diebold_mariano(oos.abs_errors(samples), samples.price_errors(oos.rows, np.zeros(len(oos.rows))))
    return {**metrics, "dm_statistic": dm.statistic, "p_value": dm.p_value, "refits": len(np.unique(oos.fold))}


def backtest_rows(samples: Samples, oos: OutOfSample, bands) -> list[dict[str, Any]]:
    """Out-of-sample forecasts with their bands as stored forecast rows (dates ISO, prices as floats)."""
    from training.ml.conformal import band

    rows = oos.rows
    last_close, predicted = samples.last_close[rows], oos.predicted
    lower_80, upper_80 = band(last_close, predicted, bands.multipliers["80"], bands.sigma)
    lower_95, upper_95 = band(last_close, predicted, bands.multipliers["95"], bands.sigma)
    as_of, targets = samples.as_of(rows), samples.target_dates(rows)
    out = []
    for i in range(len(rows)):
        values = [last_close[i], predicted[i], lower_80[i], upper_80[i], lower_95[i], upper_95[i]]
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"non-finite out-of-sample forecast for {targets[i].date()}")
        out.append(
            {
                "as_of_date": as_of[i].date().isoformat(),
                "target_date": targets[i].date().isoformat(),
                "last_close": float(last_close[i]),
                "predicted_return": float(predicted[i]),
                "predicted_close": float(last_close[i] * np.exp(predicted[i])),
                "lower_80": float(lower_80[i]),
                "upper_80": float(upper_80[i]),
                "lower_95": float(lower_95[i]),
                "upper_95": float(upper_95[i]),
                "actual_close": float(samples.actual_close[rows[i]]),
            }
        )
    return out
