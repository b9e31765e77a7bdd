"""The last step of every candidate, whatever its kind: its bands, its figures and its registered version.

From the chosen configuration's out-of-fold CV forecasts and its walk-forward forecasts: fit the bands
(`training.ml.calibration`), score both windows, log params and metrics on the candidate's MLflow run, register
the served model and return the `CandidateResult` a training run mirrors.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from training.ml.calibration import FittedBands, fit_bands
from training.ml.candidate_tracking import CandidateTracker, flat_metrics
from training.ml.dataset import Samples, Windows
from training.ml.evaluation import OutOfSample, backtest_rows, cv_metrics, window_scores
from training.ml.forecaster import Forecaster
from training.ml.kinds import ReturnModel
from training.ml.results import CandidateResult


@dataclass(frozen=True)
class CandidateFits:
    """What a candidate's fits made, whatever its kind: the served model and the chosen configuration's
    out-of-fold CV and walk-forward forecasts, on these samples and windows."""

    kind: str
    hyperparameters: dict[str, Any]
    samples: Samples
    windows: Windows
    served: ReturnModel
    cv: OutOfSample
    walk: OutOfSample
    epochs: int | None  # the served refit's epochs (None: a kind without epochs)
    trials: int


def candidate_scores(samples: Samples, cv: OutOfSample, walk: OutOfSample, bands: FittedBands):
    """(CV figures, walk-forward test figures): point errors, DM evidence and the bands' scores."""
    cv_scores = {
        **window_scores(samples, cv, bands.cv),
        **cv_metrics(samples, cv),
        "best_epochs": cv.best_epochs,
        "fit_seconds": round(cv.fit_seconds, 3),
        "interval_choice": bands.choice["table"],
    }
    cv_scores.pop("refits", None)
    test_scores = {**window_scores(samples, walk, bands.walk_forward), "fit_seconds": round(walk.fit_seconds, 3)}
    return cv_scores, test_scores


def band_summary(bands: FittedBands, *, calibration_days: int) -> dict[str, Any]:
    return {
        "volatility": bands.volatility.kind,
        "volatility_label": bands.volatility.label,
        "gamma": bands.calibration.gamma,
        "alpha0": bands.calibration.alpha0,
        "quantiles": bands.calibration.quantiles,
        "calibration_days": calibration_days,
    }


def _mlflow_record(fits: CandidateFits, *, bands: FittedBands, cv_scores: dict, test_scores: dict):
    """The candidate run's params and metrics."""
    params = {
        **fits.hyperparameters,
        "kind": fits.kind,
        "trials": fits.trials,
        "refit_epochs": fits.epochs,
        "volatility": bands.volatility.kind,
        "aci_gamma": bands.calibration.gamma,
        **fits.windows.protocol.to_dict(),
        **{f"feature_{key}": value for key, value in fits.samples.feature_config.to_dict().items()},
    }
    metrics = {
        **flat_metrics("cv", cv_scores),
        **{f"cv_fold{f['fold']}_mae": f["mae"] for f in cv_scores["folds"]},
        **{f"cv_fold{f['fold']}_rmae": f["rmae"] for f in cv_scores["folds"]},
        **flat_metrics("test", test_scores),
        **{
            f"test_{regime}_coverage_{key}": values[f"coverage_{key}"]
            for regime, values in (test_scores.get("coverage_by_regime") or {}).items()
            for key in ("80", "95")
        },
        "conformal_q80": bands.calibration.quantiles["80"],
        "conformal_q95": bands.calibration.quantiles["95"],
        "aci_alpha0_80": bands.calibration.alpha0["80"],
        "aci_alpha0_95": bands.calibration.alpha0["95"],
    }
    return params, metrics


def register_candidate(
    fits: CandidateFits,
    *,
    tracker: CandidateTracker,
    registered_name: str,
    started: float,
    stage_seconds: dict[str, float],
    step: Callable[[str], None],
    gammas: list[float] | None = None,
) -> CandidateResult:
    """Bands, figures and registration, the same for every kind (see the module docstring)."""
    samples, windows = fits.samples, fits.windows
    t0 = time.perf_counter()
    bands = fit_bands(
        samples, cv=fits.cv, cv_folds=windows.folds, walk=fits.walk, walk_folds=windows.walk_forward, gammas=gammas
    )
    stage_seconds["bands"] = round(time.perf_counter() - t0, 3)
    forecaster = Forecaster(
        model=fits.served,
        feature_config=samples.feature_config,
        volatility=bands.volatility,
        calibration=bands.calibration,
    )
    cv_scores, test_scores = candidate_scores(samples, fits.cv, fits.walk, bands)
    params, metrics = _mlflow_record(fits, bands=bands, cv_scores=cv_scores, test_scores=test_scores)
    version, model_uri = tracker.register(
        forecaster,
        params=params,
        metrics=metrics,
        registered_name=registered_name,
        input_example=samples.closes.iloc[-forecaster.min_history :].rename_axis("date").reset_index(),
    )
    stage_seconds["mlflow"] = round(tracker.seconds, 3)
    step(f"{fits.kind} registered as {registered_name} v{version}")
    return CandidateResult(
        kind=fits.kind,
        hyperparameters=fits.hyperparameters,
        cv_metrics=cv_scores,
        test_metrics=test_scores,
        registered_name=registered_name,
        version=version,
        run_id=tracker.run_id,
        model_uri=model_uri,
        feature_config=samples.feature_config.to_dict(),
        protocol=windows.protocol.to_dict(),
        **_window_dates(samples, windows),
        trials=fits.trials,
        refit_epochs=fits.epochs,
        intervals=band_summary(bands, calibration_days=len(fits.cv.rows)),
        backtest=backtest_rows(samples, fits.walk, bands.walk_forward),
        cv_forecasts=backtest_rows(samples, fits.cv, bands.cv),
        cv=fits.cv.to_dict(),
        walk_forward=fits.walk.to_dict(),
        seconds=round(time.perf_counter() - started, 3),
        stage_seconds=stage_seconds,
    )


def _window_dates(samples: Samples, windows: Windows) -> dict[str, Any]:
    """The days the version's data and windows span (CandidateResult's date fields)."""
    return {
        "data_start": samples.data_start,
        "data_end": samples.data_end,
        "selection_start": samples.target_date(windows.selection_start),
        "test_start": samples.target_date(windows.test_start),
        "fitted_through": samples.target_date(samples.n_targets - 1),
    }
