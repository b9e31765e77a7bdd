"""Train one candidate architecture end to end: split, tune on validation, conformal bands, score, register.

Every selection decision (early stopping, hyperparameters, conformal quantiles, champion) uses the training and
validation windows only; the test window is scored once, after the fact, and reported as it is. The conformal
bands are normalized: validation scores |r - r̂| / σ with σ the as-of day's 20-day realised volatility (see
`training.ml.conformal`), so a band widens with the volatility known when it is issued.
"""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from training.ml.conformal import ABSOLUTE, NORMALIZED, band, conformal_quantiles
from training.ml.dataset import Dataset, Split, prepare_dataset
from training.ml.features import FeatureConfig, feature_names
from training.ml.forecaster import Forecaster
from training.ml.metrics import window_metrics
from training.ml.selection import ARCHITECTURES, select_champion

__all__ = [
    "ARCHITECTURES",
    "CandidateResult",
    "Dataset",
    "prepare_dataset",
    "select_champion",
    "steps_for",
    "train_candidate",
]

logger = logging.getLogger(__name__)

_DATE_FIELDS = ("data_start", "data_end", "validation_start", "test_start")


@dataclass
class CandidateResult:
    """What one trained and registered candidate is, and how it scored on validation and test."""

    architecture: str
    hyperparameters: dict[str, Any]
    validation_metrics: dict[str, Any]
    test_metrics: dict[str, Any]
    registered_name: str
    version: int
    run_id: str
    model_uri: str
    feature_config: dict[str, Any]
    lookback: int
    data_start: date
    data_end: date
    validation_start: date  # first validation target date
    test_start: date  # first test target date
    trials: int
    conformal_quantiles: dict[str, float] = field(default_factory=dict)  # multipliers of σ_t when "normalized"
    # Results recorded before the normalized bands have no method: theirs were absolute half-widths.
    conformal_method: str = ABSOLUTE
    backtest: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

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


def steps_for(architecture: str, trials: int) -> int:
    """How many times `train_candidate` calls `on_step`: once per trial (a plain fit is one), once to register."""
    if architecture == "naive":
        return 1
    return max(trials, 1) + 1


@dataclass
class _Fitted:
    hyperparameters: dict[str, Any]
    network: Any
    validation_mae: float


def _price_mae(split: Split, predicted_return: np.ndarray) -> float:
    return float(np.mean(np.abs(split.actual_close - split.last_close * np.exp(predicted_return))))


def _backtest(
    split: Split, predicted_return: np.ndarray, quantiles: dict[str, float], scale: np.ndarray
) -> list[dict[str, Any]]:
    lower_80, upper_80 = band(split.last_close, predicted_return, quantiles["80"], scale)
    lower_95, upper_95 = band(split.last_close, predicted_return, quantiles["95"], scale)
    predicted_close = split.last_close * np.exp(predicted_return)
    return [
        {
            "as_of_date": split.as_of[i].date().isoformat(),
            "target_date": split.target_dates[i].date().isoformat(),
            "last_close": float(split.last_close[i]),
            "predicted_return": float(predicted_return[i]),
            "predicted_close": float(predicted_close[i]),
            "lower_80": float(lower_80[i]),
            "upper_80": float(upper_80[i]),
            "lower_95": float(lower_95[i]),
            "upper_95": float(upper_95[i]),
            "actual_close": float(split.actual_close[i]),
        }
        for i in range(len(split))
    ]


def _fit_network(
    dataset: Dataset,
    *,
    architecture: str,
    trials: int,
    hyperparameters: dict[str, Any] | None,
    seed: int,
    max_epochs: int,
    patience: int,
    tracking_uri: str,
    experiment_id: str,
    run_id: str,
    step: Callable[[str], None],
) -> _Fitted:
    """A plain fit (trials == 0) or a hyperopt TPE search minimising validation MAE; the best fitted network."""
    from training.ml import networks, tracking

    window = networks.input_window(architecture, dataset.lookback)
    train = dataset.split("train", window=window)
    validation = dataset.split("validation", window=window)
    x_train = dataset.inputs(train, window=window)
    x_val = dataset.inputs(validation, window=window)
    y_train = (train.returns / dataset.target_scale).astype(np.float32)
    y_val = (validation.returns / dataset.target_scale).astype(np.float32)
    best: list[_Fitted] = []
    attempted = [0]

    def fit(hyperparameters: dict[str, Any], *, trial_seed: int, label: str) -> float:
        hp = networks.resolve_hyperparameters(architecture, hyperparameters)
        trial_run = None
        if trials > 0:
            trial_run = tracking.create_run(
                tracking_uri=tracking_uri,
                experiment_id=experiment_id,
                run_name=f"{architecture}-trial-{attempted[0] + 1:02d}",
                parent_run_id=run_id,
                tags={"architecture": architecture, "trial": attempted[0]},
            )
        try:
            network, report = networks.train_network(
                architecture,
                hp,
                x_train,
                y_train,
                x_val,
                y_val,
                max_epochs=max_epochs,
                patience=patience,
                seed=trial_seed,
            )
            predicted = np.asarray(network(x_val, training=False), dtype=np.float64)[:, 0] * dataset.target_scale
            mae = _price_mae(validation, predicted)
            if trial_run:
                tracking.log_run_data(
                    trial_run,
                    tracking_uri=tracking_uri,
                    params={**hp, "seed": trial_seed},
                    metrics={
                        "val_mae": mae,
                        "val_rmae": mae / _price_mae(validation, np.zeros(len(validation))),
                        "epochs": report.epochs,
                        "best_epoch": report.best_epoch,
                        "val_loss": report.best_val_loss,
                    },
                )
                tracking.finish_run(trial_run, tracking_uri=tracking_uri)
        except BaseException:
            if trial_run:
                tracking.finish_run(trial_run, "FAILED", tracking_uri=tracking_uri)
            raise
        if math.isfinite(mae) and (not best or mae < best[0].validation_mae):
            best[:] = [_Fitted(hyperparameters=hp, network=network, validation_mae=mae)]
        attempted[0] += 1
        best_text = f"{best[0].validation_mae:.2f}" if best else "none yet"
        step(f"{architecture} {label}: validation MAE {mae:.2f} (best {best_text})")
        return mae

    if trials == 0:
        fit(hyperparameters or {}, trial_seed=seed, label="fit")
    else:
        import hyperopt

        from training.ml.search import search_space

        def objective(params: dict[str, Any]) -> dict[str, Any]:
            mae = fit(params, trial_seed=seed + attempted[0], label=f"trial {attempted[0] + 1}/{trials}")
            if not math.isfinite(mae):
                return {"status": hyperopt.STATUS_FAIL}
            return {"loss": mae, "status": hyperopt.STATUS_OK}

        hyperopt.fmin(
            objective,
            search_space(architecture),
            algo=lambda *args, **kwargs: hyperopt.tpe.suggest(
                *args, **kwargs, n_startup_jobs=max(1, min(5, trials // 2))
            ),
            max_evals=trials,
            trials=hyperopt.Trials(),
            rstate=np.random.default_rng(seed),
            show_progressbar=False,
        )
    if not best:
        raise ValueError(f"every {architecture} fit diverged (non-finite validation error)")
    return best[0]


def train_candidate(
    closes: pd.DataFrame,
    *,
    architecture: str,
    trials: int,
    hyperparameters: dict[str, Any] | None = None,
    seed: int = 42,
    test_days: int = 250,
    val_days: int = 250,
    lookback: int = 20,
    feature_config: FeatureConfig | None = None,
    max_epochs: int = 100,
    patience: int = 10,
    tracking_uri: str,
    experiment: str,
    artifact_root: str | None = None,
    registered_name: str = "gold-next-day",
    parent_run_id: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> CandidateResult:
    """Fit (trials == 0) or tune (trials > 0) one architecture, score it, log and register it in MLflow.

    The architecture's MLflow run is a child of `parent_run_id` when given; each trial a child of it.
    """
    from training.ml import registry, tracking

    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; expected one of {ARCHITECTURES}")
    if trials < 0:
        raise ValueError("trials must be 0 (plain fit) or positive (hyperopt search)")
    if max_epochs < 1 or patience < 1:
        raise ValueError("max_epochs and patience must be positive")
    if architecture == "naive":
        trials, hyperparameters = 0, None
    elif trials == 0:
        from training.ml.networks import resolve_hyperparameters

        hyperparameters = resolve_hyperparameters(architecture, hyperparameters)
    started = time.perf_counter()
    feature_config = feature_config or FeatureConfig()
    dataset = prepare_dataset(
        closes, feature_config=feature_config, test_days=test_days, val_days=val_days, lookback=lookback
    )

    def step(message: str) -> None:
        logger.info(message)
        if on_step is not None:
            on_step(message)

    experiment_id = tracking.configure_tracking(tracking_uri, experiment, artifact_root)
    description_tags = {
        "architecture": architecture,
        "data_start": dataset.data_start.isoformat(),
        "data_end": dataset.data_end.isoformat(),
        "validation_start": dataset.validation_start.isoformat(),
        "test_start": dataset.test_start.isoformat(),
        "features": ",".join(feature_names(feature_config)),
        **tracking.library_versions(),
        "code_commit": tracking.code_commit(),
    }
    run_id = tracking.create_run(
        tracking_uri=tracking_uri,
        experiment_id=experiment_id,
        run_name=architecture,
        parent_run_id=parent_run_id,
        tags={**description_tags, "kind": "tune" if trials > 0 else "train"},
    )
    try:
        if architecture == "naive":
            forecaster = Forecaster(
                architecture="naive",
                feature_config=feature_config,
                lookback=0,
                quantiles={"80": 0.0, "95": 0.0},
                conformal_method=NORMALIZED,
            )
            chosen: dict[str, Any] = {}
        else:
            fitted = _fit_network(
                dataset,
                architecture=architecture,
                trials=trials,
                hyperparameters=hyperparameters,
                seed=seed,
                max_epochs=max_epochs,
                patience=patience,
                tracking_uri=tracking_uri,
                experiment_id=experiment_id,
                run_id=run_id,
                step=step,
            )
            from training.ml.networks import input_window

            chosen = fitted.hyperparameters
            forecaster = Forecaster(
                architecture=architecture,
                feature_config=feature_config,
                lookback=input_window(architecture, lookback),
                quantiles={"80": 0.0, "95": 0.0},
                scaler=dataset.scaler,
                target_scale=dataset.target_scale,
                network=fitted.network,
                conformal_method=NORMALIZED,
            )

        window = max(forecaster.lookback, 1)
        validation, test = dataset.split("validation", window=window), dataset.split("test", window=window)
        predicted_val = forecaster.predict_returns(dataset.inputs(validation, window=window))
        predicted_test = forecaster.predict_returns(dataset.inputs(test, window=window))
        # σ of each as-of day, from the same build_features output the network read (known at its close).
        scale_val = forecaster.band_scale(dataset.features.iloc[validation.rows])
        scale_test = forecaster.band_scale(dataset.features.iloc[test.rows])
        forecaster.quantiles = conformal_quantiles(validation.returns, predicted_val, scale_val)
        scores = {}
        for name, split, predicted, scale in (
            ("val", validation, predicted_val, scale_val),
            ("test", test, predicted_test, scale_test),
        ):
            scores[name] = window_metrics(
                last_close=split.last_close,
                actual_close=split.actual_close,
                predicted_return=predicted,
                quantiles=forecaster.quantiles,
                scale=scale,
            )

        tracking.log_run_data(
            run_id,
            tracking_uri=tracking_uri,
            params={
                **chosen,
                "seed": seed,
                "trials": trials,
                "test_days": test_days,
                "val_days": val_days,
                "lookback": lookback,
                "max_epochs": max_epochs,
                "patience": patience,
                "conformal_method": forecaster.conformal_method,
                "conformal_scale": forecaster.scale_column,
                **{f"feature_{key}": value for key, value in feature_config.to_dict().items()},
            },
            metrics={
                **{f"{prefix}_{key}": value for prefix, values in scores.items() for key, value in values.items()},
                "conformal_q80": forecaster.quantiles["80"],
                "conformal_q95": forecaster.quantiles["95"],
            },
        )
        version, model_uri = registry.log_forecaster(
            forecaster,
            tracking_uri=tracking_uri,
            run_id=run_id,
            registered_name=registered_name,
            version_tags=description_tags,
            input_example=closes.iloc[-forecaster.min_history :].rename_axis("date").reset_index(),
        )
        tracking.finish_run(run_id, tracking_uri=tracking_uri)
    except BaseException:
        tracking.finish_run(run_id, "FAILED", tracking_uri=tracking_uri)
        raise
    step(f"{architecture} registered as {registered_name} v{version}")
    return CandidateResult(
        architecture=architecture,
        hyperparameters=chosen,
        validation_metrics=scores["val"],
        test_metrics=scores["test"],
        registered_name=registered_name,
        version=version,
        run_id=run_id,
        model_uri=model_uri,
        feature_config=feature_config.to_dict(),
        lookback=lookback,
        data_start=dataset.data_start,
        data_end=dataset.data_end,
        validation_start=dataset.validation_start,
        test_start=dataset.test_start,
        trials=trials,
        conformal_quantiles=dict(forecaster.quantiles),
        conformal_method=forecaster.conformal_method,
        backtest=_backtest(test, predicted_test, forecaster.quantiles, scale_test),
        seconds=round(time.perf_counter() - started, 3),
    )
