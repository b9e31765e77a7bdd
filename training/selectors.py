"""Reads of model versions, training runs and champion history, shared by pages, the API and the admin."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from forecasts.models import Forecast
from training.models import ChampionChange, ModelVersion, TrainingRun


def model_version_list(*, architecture: str | None = None) -> QuerySet[ModelVersion]:
    versions = ModelVersion.objects.select_related("training_run")
    if architecture:
        versions = versions.filter(architecture=architecture)
    return versions.order_by("-created_at", "-version")


def model_version_champion() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_champion=True).first()


def model_version_naive_baseline(*, champion: ModelVersion | None = None) -> ModelVersion | None:
    """The naive version to compare the champion with: from the champion's own run when it has one."""
    naive = ModelVersion.objects.filter(architecture=ModelVersion.Architecture.NAIVE)
    if champion is not None and champion.training_run_id is not None:
        same_run = naive.filter(training_run_id=champion.training_run_id).first()
        if same_run is not None:
            return same_run
    return naive.order_by("-created_at", "-version").first()


def model_version_run_candidates(*, run: TrainingRun) -> list[ModelVersion]:
    """A run's candidates in the order the champion tie-break uses: naive, drift, MLP, CNN, LSTM, ensemble."""
    order = {arch: i for i, arch in enumerate(ModelVersion.Architecture.values)}
    versions = run.model_versions.select_related("training_run")
    return sorted(versions, key=lambda v: (order.get(v.architecture, 99), -v.version))


def training_run_list() -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("started_by").order_by("-created_at", "-id")


def training_run_leaderboards() -> QuerySet[TrainingRun]:
    """Runs that registered at least one model version (a leaderboard to show), newest first."""
    return training_run_list().filter(model_versions__isnull=False).distinct()


def training_run_latest_leaderboard() -> TrainingRun | None:
    """The latest succeeded run with model versions: the models page's default leaderboard."""
    return training_run_leaderboards().filter(status=TrainingRun.Status.SUCCEEDED).first()


def training_run_active() -> TrainingRun | None:
    return TrainingRun.objects.filter(status__in=TrainingRun.ACTIVE_STATUSES).first()


def champion_change_latest(*, version: ModelVersion) -> ChampionChange | None:
    """The latest change that made `version` the champion."""
    return (
        ChampionChange.objects.select_related("changed_by")
        .filter(to_version=version)
        .order_by("-changed_at", "-id")
        .first()
    )


def champion_change_list() -> QuerySet[ChampionChange]:
    return ChampionChange.objects.select_related("from_version", "to_version", "changed_by").order_by(
        "-changed_at", "-id"
    )


# --- The cumulative edge over naive -------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgePoint:
    """One day on which both the version and naive have a scored forecast of the same kind."""

    day: dt.date
    phase: str  # Forecast.Kind.CV (out-of-fold CV) or Forecast.Kind.BACKTEST (walk-forward test)
    model_abs_error: float
    naive_abs_error: float
    cumulative: float  # Σ (|e_naive| − |e_model|) up to and including this day, CV days first

    @property
    def edge(self) -> float:
        return self.naive_abs_error - self.model_abs_error


@dataclass(frozen=True)
class EdgeSeries:
    version: ModelVersion
    naive: ModelVersion
    points: list[EdgePoint]
    fold_starts: list[dt.date]  # first target day of each CV fold (cv_metrics["folds"])
    refit_dates: list[dt.date]  # first day of each block of `retrain_every` walk-forward test days
    test_start: dt.date | None

    def total(self, phase: str) -> float:
        return sum(point.edge for point in self.points if point.phase == phase)

    def days(self, phase: str) -> int:
        return sum(1 for point in self.points if point.phase == phase)


EDGE_PHASES = (Forecast.Kind.CV, Forecast.Kind.BACKTEST)


def _abs_errors(*, version: ModelVersion, kind: str) -> dict[dt.date, float]:
    rows = Forecast.objects.filter(model_version=version, kind=kind, error__isnull=False)
    return {day: abs(error) for day, error in rows.values_list("target_date", "error")}


def model_version_edge_series(*, version: ModelVersion) -> EdgeSeries | None:
    """Σ(|e_naive| − |e_model|) over the stored out-of-fold CV days, then the walk-forward test days, against the
    naive version of the same training run, matched by target date. A line that climbs means the model is ahead.

    None for naive itself and for a version without a training run or without naive in its run.
    """
    if version.architecture == ModelVersion.Architecture.NAIVE or version.training_run_id is None:
        return None
    naive = (
        ModelVersion.objects.filter(
            training_run_id=version.training_run_id, architecture=ModelVersion.Architecture.NAIVE
        )
        .order_by("-version")
        .first()
    )
    if naive is None:
        return None
    points: list[EdgePoint] = []
    cumulative = 0.0
    for phase in EDGE_PHASES:
        model, baseline = _abs_errors(version=version, kind=phase), _abs_errors(version=naive, kind=phase)
        for day in sorted(model.keys() & baseline.keys()):
            cumulative += baseline[day] - model[day]
            points.append(
                EdgePoint(
                    day=day,
                    phase=phase,
                    model_abs_error=model[day],
                    naive_abs_error=baseline[day],
                    cumulative=cumulative,
                )
            )
    backtest_days = sorted(
        Forecast.objects.filter(model_version=version, kind=Forecast.Kind.BACKTEST).values_list(
            "target_date", flat=True
        )
    )
    protocol = version.protocol or (version.training_run.params.get("protocol") if version.training_run else {}) or {}
    every = protocol.get("retrain_every")
    return EdgeSeries(
        version=version,
        naive=naive,
        points=points,
        fold_starts=[dt.date.fromisoformat(f["start"]) for f in (version.cv_metrics or {}).get("folds") or []],
        refit_dates=backtest_days[:: int(every)] if every else [],
        test_start=version.test_start or (backtest_days[0] if backtest_days else None),
    )


def training_fit_summary(*, run: TrainingRun) -> dict:
    """A run's fits: done of total, and how many each worker ran (most first)."""
    from django.db.models import Count

    from training.models import TrainingFit

    done = run.fits.filter(status=TrainingFit.Status.DONE)
    by_worker = list(done.values("worker").annotate(fits=Count("id")).order_by("-fits", "worker"))
    return {"done": done.count(), "total": _units_total(run), "by_worker": by_worker}


def _units_total(run: TrainingRun) -> int:
    """Every fit the run will make: each open candidate's planned units (known once the run executes)."""
    from training.ml.plan import CandidatePlan

    return sum(CandidatePlan.from_dict(c.state["plan"]).total_units() for c in run.candidates.all() if c.state)
