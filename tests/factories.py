"""Factories for model rows. Tests build exactly the rows they need with these."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from forecasts.models import DataLoad, Forecast, PriceBar
from training.models import ChampionChange, ModelVersion, TrainingRun
from training.permissions import ML_ENGINEERS_GROUP


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"analyst{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class StaffUserFactory(UserFactory):
    """Staff (may sign in to the admin), with no permissions of their own."""

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


class MLEngineerFactory(StaffUserFactory):
    """Staff in the "ML engineers" group (which `migrate` creates): may promote versions and start runs."""

    class Meta:
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"engineer{n}")

    @factory.post_generation
    def ml_engineers(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=ML_ENGINEERS_GROUP))


class PriceBarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceBar

    symbol = "GC=F"
    date = factory.Sequence(lambda n: dt.date(2025, 1, 2) + dt.timedelta(days=n))
    close = 2000.0
    open = factory.LazyAttribute(lambda b: b.close)
    high = factory.LazyAttribute(lambda b: b.close * 1.01)
    low = factory.LazyAttribute(lambda b: b.close * 0.99)
    volume = 1000
    source = PriceBar.Source.CSV


class DataLoadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataLoad

    kind = DataLoad.Kind.IMPORT
    symbol = "GC=F"
    status = DataLoad.Status.SUCCEEDED


class TrainingRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRun

    kind = TrainingRun.Kind.TUNE
    status = TrainingRun.Status.SUCCEEDED
    params = factory.LazyFunction(
        lambda: {
            "trials": 1,
            "architectures": ["mlp"],
            "protocol": {"test_days": 250, "selection_days": 500, "folds": 5, "retrain_every": 21, "lookback": 20},
        }
    )


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    registered_name = "gold-next-day"
    version = factory.Sequence(lambda n: n + 1)
    run_id = factory.Sequence(lambda n: f"{n:032x}")
    architecture = ModelVersion.Architecture.MLP
    hyperparameters = factory.LazyFunction(lambda: {"units": 32, "learning_rate": 0.001})
    cv_metrics = factory.LazyFunction(lambda: {"mae": 20.0, "rmae": 0.99, "p_value": 0.3, "n": 500})
    test_metrics = factory.LazyFunction(lambda: {"mae": 22.0, "rmae": 1.01, "mape": 0.85})
    data_start = dt.date(2020, 10, 1)
    data_end = dt.date(2025, 9, 24)


class ChampionChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChampionChange

    to_version = factory.SubFactory(ModelVersionFactory)
    automatic = True


class ForecastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forecast

    model_version = factory.SubFactory(ModelVersionFactory)
    kind = Forecast.Kind.LIVE
    target_date = dt.date(2025, 9, 25)
    as_of_date = dt.date(2025, 9, 24)
    last_close = 3700.0
    predicted_return = 0.0
    predicted_close = 3700.0
    lower_80 = 3660.0
    upper_80 = 3740.0
    lower_95 = 3640.0
    upper_95 = 3760.0


def scored_forecast(version, *, day, predicted, actual, last_close, band=40.0, kind=Forecast.Kind.LIVE) -> Forecast:
    """A saved forecast of `day` with an 80% band of ± band (95%: ± 2·band), scored against `actual`."""
    from forecasts.services.scoring import forecast_apply_actual

    forecast = ForecastFactory.build(
        model_version=version,
        kind=kind,
        target_date=day,
        as_of_date=day - dt.timedelta(days=1),
        last_close=last_close,
        predicted_return=0.0,
        predicted_close=predicted,
        lower_80=predicted - band,
        upper_80=predicted + band,
        lower_95=predicted - 2 * band,
        upper_95=predicted + 2 * band,
    )
    forecast_apply_actual(forecast=forecast, actual_close=actual)
    forecast.save()
    return forecast


def rolling_origin_cv(
    *,
    rmaes: list[float],
    p_value: float | None,
    naive_mae: float = 20.0,
    n: int = 100,
    start: dt.date = dt.date(2023, 1, 2),
    best_epoch: int | None = None,
    bands: bool | dict = True,
    interval_choice: list[dict] | None = None,
) -> dict:
    """`cv_metrics` in the shape training.ml.evaluation.cv_metrics stores: one fold of `n` days per rMAE.

    With `bands` (default) the interval keys as training.ml.pipeline stores them: `band_scores()` (or a dict of
    its keyword arguments) and the CV `interval_choice` table (default: `interval_choice_table()`); `bands=False`
    leaves them out, as on versions made before the bands were scored."""
    folds = []
    for i, rmae in enumerate(rmaes):
        first = start + dt.timedelta(days=140 * i)
        folds.append(
            {
                "fold": i + 1,
                "start": first.isoformat(),
                "end": (first + dt.timedelta(days=139)).isoformat(),
                "n": n,
                "mae": naive_mae * rmae,
                "naive_mae": naive_mae,
                "rmae": rmae,
                "best_epoch": best_epoch,
            }
        )
    mae = sum(f["mae"] for f in folds) / len(folds)
    metrics = {
        "mae": mae,
        "naive_mae": naive_mae,
        "rmae": mae / naive_mae,
        "n": n * len(folds),
        "dm_statistic": 0.0,
        "p_value": p_value,
        "dm_lag": 5,
        "folds": folds,
        "best_epochs": [] if best_epoch is None else [best_epoch] * len(folds),
        "fit_seconds": 1.0,
    }
    if p_value is None:
        del metrics["p_value"]
    if bands:
        metrics.update(band_scores(n=n * len(folds), **({} if bands is True else bands)))
        metrics["interval_choice"] = interval_choice_table() if interval_choice is None else interval_choice
    return metrics


def walk_forward_test(
    *, rmae: float, naive_mae: float = 22.0, coverage_80: float = 0.8, bands: bool | dict = True, **extra
) -> dict:
    """`test_metrics` in the shape training.ml.evaluation.walk_forward_metrics stores (plus `extra` keys).

    With `bands` (default) the interval scores and coverage by regime of `band_scores()` (or of a dict of its
    keyword arguments); `bands=False` leaves them out."""
    scores = band_scores(n=250, coverage_80=coverage_80, **({} if bands is True else bands)) if bands else {}
    return {
        **scores,
        "mae": naive_mae * rmae,
        "rmse": naive_mae * rmae * 1.3,
        "mape": 0.8 * rmae,
        "naive_mae": naive_mae,
        "rmae": rmae,
        "coverage_80": coverage_80,
        "coverage_95": 0.95,
        "width_80": 60.0,
        "width_95": 95.0,
        "n": 250,
        "dm_statistic": 0.0,
        "p_value": 0.5,
        "refits": 12,
        **extra,
    }


# What each volatility regime's band covered by default (80%, 95%): calm days under-covered, volatile ones over.
REGIME_COVERAGE = {"calm": (0.72, 0.93), "normal": (0.80, 0.95), "volatile": (0.88, 0.97)}


def band_scores(
    *,
    n: int = 250,
    coverage_80: float = 0.8,
    coverage_95: float = 0.95,
    width_80: float = 60.0,
    width_95: float = 95.0,
    winkler_80: float = 125.0,
    winkler_95: float = 170.0,
    pinball: float = 6.0,
    crps: float = 12.0,
    regimes: dict[str, tuple[float, float]] | None = None,
) -> dict:
    """The interval keys of `cv_metrics` / `test_metrics` (training.ml.metrics.window_metrics): coverage, width,
    Winkler 80/95, pinball, CRPS and `coverage_by_regime` ({regime: (coverage_80, coverage_95)}; n split in thirds)."""
    regimes = REGIME_COVERAGE if regimes is None else regimes
    by_regime = {}
    for i, (name, (c80, c95)) in enumerate(regimes.items()):
        by_regime[name] = {
            "n": n // 3 + (1 if i < n % 3 else 0),
            "sigma_max": 0.006 * (i + 1),
            "coverage_80": c80,
            "coverage_95": c95,
            "width_80": width_80 * (0.6 + 0.4 * i),
            "width_95": width_95 * (0.6 + 0.4 * i),
        }
    return {
        "coverage_80": coverage_80,
        "coverage_95": coverage_95,
        "width_80": width_80,
        "width_95": width_95,
        "winkler_80": winkler_80,
        "winkler_95": winkler_95,
        "pinball": pinball,
        "crps": crps,
        "coverage_by_regime": by_regime,
    }


def interval_choice_table(*, winner: tuple[str, float] = ("ewma", 0.01)) -> list[dict]:
    """`cv_metrics["interval_choice"]`: every σ model × γ tried on CV with its scores; `winner` has the lowest."""
    rows = []
    for v, volatility in enumerate(("realised", "ewma", "garch")):
        for g, gamma in enumerate((0.0, 0.01)):
            winkler_80 = 126.0 + v + g * 0.5
            row = {
                "volatility": volatility,
                "gamma": gamma,
                "winkler_80": winkler_80,
                "winkler_95": 171.0 + v,
                "coverage_80": 0.79,
                "coverage_95": 0.95,
            }
            if (volatility, gamma) == winner:
                row["winkler_80"] = 120.0
            row["score"] = row["winkler_80"] + row["winkler_95"]
            rows.append(row)
    return rows


def band_intervals(*, volatility: str = "ewma", gamma: float = 0.01, state: dict | None = None) -> dict:
    """`ModelVersion.intervals` as training.ml.pipeline stores it (and the scoring step's live `state`)."""
    labels = {
        "realised": "20-day realised volatility",
        "ewma": "EWMA volatility (RiskMetrics, λ = 0.94)",
        "garch": "GARCH(1,1) volatility",
    }
    intervals = {
        "volatility": volatility,
        "volatility_label": labels[volatility],
        "gamma": gamma,
        "alpha0": {"80": 0.2, "95": 0.05},
        "quantiles": {"80": 1.28, "95": 1.96},
        "calibration_days": 500,
    }
    if state is not None:
        intervals["state"] = state
    return intervals


def run_with_candidates(*, p_values: dict[str, float | None], fold_rmaes: dict[str, list[float]] | None = None, **run):
    """A succeeded run whose candidates (naive first) carry rolling-origin evidence: {kind: p vs naive}."""
    training_run = TrainingRunFactory(params={**TrainingRunFactory.params.function(), "max_p": 0.1}, **run)
    fold_rmaes = fold_rmaes or {}
    versions = {
        "naive": ModelVersionFactory(
            architecture=ModelVersion.Architecture.NAIVE,
            hyperparameters={},
            training_run=training_run,
            cv_metrics=rolling_origin_cv(rmaes=[1.0] * 5, p_value=None),
            test_metrics=walk_forward_test(rmae=1.0),
            intervals=band_intervals(volatility="realised", gamma=0.0),
        )
    }
    for kind, p in p_values.items():
        rmaes = fold_rmaes.get(kind, [0.99, 0.97, 1.02, 0.98, 0.99])
        versions[kind] = ModelVersionFactory(
            architecture=kind,
            training_run=training_run,
            cv_metrics=rolling_origin_cv(rmaes=rmaes, p_value=p, best_epoch=None if kind == "drift" else 12),
            test_metrics=walk_forward_test(rmae=sum(rmaes) / len(rmaes) + 0.01),
            intervals=band_intervals(),
        )
    return training_run, versions
