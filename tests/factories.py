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
) -> dict:
    """`cv_metrics` in the shape training.ml.evaluation.cv_metrics stores: one fold of `n` days per rMAE."""
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
    return metrics


def walk_forward_test(*, rmae: float, naive_mae: float = 22.0, coverage_80: float = 0.8, **extra) -> dict:
    """`test_metrics` in the shape training.ml.evaluation.walk_forward_metrics stores (plus `extra` keys)."""
    return {
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
        )
    }
    for kind, p in p_values.items():
        rmaes = fold_rmaes.get(kind, [0.99, 0.97, 1.02, 0.98, 0.99])
        versions[kind] = ModelVersionFactory(
            architecture=kind,
            training_run=training_run,
            cv_metrics=rolling_origin_cv(rmaes=rmaes, p_value=p, best_epoch=None if kind == "drift" else 12),
            test_metrics=walk_forward_test(rmae=sum(rmaes) / len(rmaes) + 0.01),
        )
    return training_run, versions
