"""The version page's cumulative edge over naive: Σ(|e_naive| − |e_model|) day by day over its stored out-of-fold CV
forecasts, then its walk-forward test forecasts, against the naive version of the same training run.

Read by the version page's forecast sections (forecasts.views.version_forecasts) and drawn by
forecasts.views.edge_chart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from forecasts.models import Forecast
from training.ml.results import as_date
from training.models import ModelVersion


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
        fold_starts=[as_date(f["start"]) for f in (version.cv_metrics or {}).get("folds") or []],
        refit_dates=backtest_days[:: int(every)] if every else [],
        test_start=version.test_start or (backtest_days[0] if backtest_days else None),
    )
