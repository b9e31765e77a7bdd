"""The version page's forecast sections, provided by the forecasts app (`settings.TRAINING_VERSION_PAGE_PROVIDERS`).

training.views.versions renders a model version's page and merges in what each provider returns, so training never
reads forecasts itself: the walk-forward backtest chart (predicted against actual close, the naive forecast in the
legend) and the cumulative edge over naive (its chart and the sentence per phase under it).
"""

from __future__ import annotations

from django.http import HttpRequest

from forecasts.models import Forecast
from forecasts.selectors.edge import EdgeSeries, model_version_edge_series
from forecasts.selectors.forecasts import forecast_list
from forecasts.views.edge_chart import edge_figure
from goldsite.presentation.charts import forecast_figure
from training.models import ModelVersion
from training.selectors import model_version_naive_baseline


def version_forecasts_context(*, version: ModelVersion, request: HttpRequest | None = None) -> dict:
    """The context of the version page's backtest and edge sections."""
    return {**_backtest_context(version), **_edge_context(version)}


def _backtest_context(version: ModelVersion) -> dict:
    baseline = model_version_naive_baseline(champion=version)
    if baseline is not None and baseline.pk == version.pk:
        baseline = None
    backtest = list(forecast_list(model_version=version, kind=Forecast.Kind.BACKTEST))
    naive = []
    if baseline is not None and backtest:
        naive = list(
            forecast_list(
                model_version=baseline,
                kind=Forecast.Kind.BACKTEST,
                start=backtest[-1].target_date,
                end=backtest[0].target_date,
            )
        )
    scored = [(row.target_date, row.actual_close) for row in backtest if row.is_scored]
    return {
        "backtest_count": len(backtest),
        "backtest_figure": forecast_figure(closes=scored, forecasts=backtest, naive=naive),
        "backtest_label": (
            f"Backtest of {version}: predicted vs actual gold close"
            + (f", {backtest[-1].target_date.isoformat()} to {backtest[0].target_date.isoformat()}" if backtest else "")
        ),
    }


def _edge_context(version: ModelVersion) -> dict:
    edge = model_version_edge_series(version=version)
    drawn = edge is not None and edge.points
    return {
        "edge": edge,
        "edge_phases": _edge_phases(edge) if edge is not None else [],
        "edge_figure": edge_figure(edge) if drawn else None,
        "edge_label": (
            f"Cumulative difference in absolute error of {version} against naive ({edge.naive}), "
            f"{edge.points[0].day.isoformat()} to {edge.points[-1].day.isoformat()}"
            if drawn
            else ""
        ),
    }


def _edge_phases(series: EdgeSeries) -> list[dict]:
    """Per phase: days, Σ(|e_naive| − |e_model|) and whether the version ended ahead (the sentence under the chart)."""
    phases = []
    for phase, label in ((Forecast.Kind.CV, "cross-validation"), (Forecast.Kind.BACKTEST, "walk-forward test")):
        days, total = series.days(phase), series.total(phase)
        if days:
            phases.append({"label": label, "days": days, "total": total, "ahead": total >= 0, "amount": abs(total)})
    return phases
