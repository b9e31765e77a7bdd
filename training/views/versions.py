"""The models pages: the leaderboard of a run (and every version, the champion history), a version's evidence,
and promotion by hand."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET, require_http_methods

from goldsite.errors import GoldsiteError
from goldsite.presentation.formatting import count, money, pct, percent_units, ratio
from training.evidence import (
    band_evidence,
    champion_note,
    has_cv_evidence,
    promotion_review,
    run_leaderboard,
    run_naive_of,
    sigma_model_label,
    version_verdict,
)
from training.forms import PromoteForm
from training.models import ModelVersion
from training.permissions import PROMOTE_MODEL_VERSION
from training.selectors import (
    champion_change_list,
    model_version_champion,
    model_version_list,
    model_version_naive_baseline,
    training_run_latest_leaderboard,
    training_run_leaderboards,
)
from training.services.promotion import model_version_promote
from training.views import permission_needed

VERSIONS_PER_PAGE = 25
LEADERBOARD_RUN_CHOICES = 30
CHAMPION_HISTORY_ROWS = 20


def _metrics_view(metrics: dict) -> dict:
    """A version's stored metrics with the fractions also in percent units (for the `pct` filter)."""
    view = dict(metrics or {})
    for key in ("coverage_80", "coverage_95", "directional_accuracy"):
        view[f"{key}_pct"] = percent_units(view.get(key))
    return view


def _readable(value):
    """A hyperparameter for people: floats to 4 significant digits (0.0034332584 -> "0.003433")."""
    return f"{value:.4g}" if isinstance(value, float) else value


# --- Models -------------------------------------------------------------------------------------------


class LeaderboardQuery(forms.Form):
    run = forms.IntegerField(
        required=False, min_value=1, error_messages={"invalid": "Choose a training run by its number."}
    )


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    """The leaderboard of the latest succeeded run (or `?run=<id>`), then every version and the champion history."""
    query = LeaderboardQuery(request.GET)
    run = None
    if query.is_valid():
        run_id = query.cleaned_data["run"]
        if run_id is None:
            run = training_run_latest_leaderboard()
        else:
            run = get_object_or_404(training_run_leaderboards(), pk=run_id)
    page_obj = Paginator(model_version_list(), VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "version": v,
            "cv": _metrics_view(v.cv_metrics),
            "test": _metrics_view(v.test_metrics),
            "verdict": version_verdict(v),
        }
        for v in page_obj
    ]
    context = {
        "query": query,
        "leaderboard": run_leaderboard(run=run) if run is not None else None,
        "leaderboard_runs": training_run_leaderboards()[:LEADERBOARD_RUN_CHOICES],
        "page_obj": page_obj,
        "rows": rows,
        "champion": model_version_champion(),
        "changes": champion_change_list()[:CHAMPION_HISTORY_ROWS],
    }
    return render(request, "training/models.html", context, status=200 if query.is_valid() else 400)


# (label, metric key, formatter): the detail page's cross-validation vs walk-forward test table.
METRIC_ROWS = (
    ("Mean absolute error", "mae", money),
    ("Root mean squared error", "rmse", money),
    ("Mean absolute % error", "mape", pct),
    ("Relative MAE (vs naive)", "rmae", ratio),
    ("Direction right", "directional_accuracy_pct", lambda v: pct(v, 1)),
    ("Inside the 80% range", "coverage_80_pct", lambda v: pct(v, 1)),
    ("Inside the 95% range", "coverage_95_pct", lambda v: pct(v, 1)),
    ("80% range width", "width_80", money),
    ("Days", "n", count),
)


def metrics_table(*, version: ModelVersion, baseline: ModelVersion | None) -> list[dict]:
    """Rows of formatted numbers: the version's CV and walk-forward test metrics, and the naive ones beside them."""
    columns = {"cv": _metrics_view(version.cv_metrics), "test": _metrics_view(version.test_metrics)}
    if baseline is not None:
        columns["naive_cv"] = _metrics_view(baseline.cv_metrics)
        columns["naive_test"] = _metrics_view(baseline.test_metrics)
    return [
        {"label": label, **{name: fmt(values.get(key)) for name, values in columns.items()}}
        for label, key, fmt in METRIC_ROWS
    ]


@login_required
@require_GET
def model_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion.objects.select_related("training_run"), pk=version_id)
    baseline = model_version_naive_baseline(champion=version)
    if baseline is not None and baseline.pk == version.pk:
        baseline = None
    context = {
        "nav_section": "training:models",
        "version": version,
        "verdict": version_verdict(version),
        "has_cv_evidence": has_cv_evidence(version),
        "champion_note": champion_note(version),
        "baseline": baseline,
        "metrics_rows": metrics_table(version=version, baseline=baseline),
        "hyperparameters": [(name, _readable(value)) for name, value in sorted(version.hyperparameters.items())],
        "features": [
            (name, ", ".join(map(str, value)) if isinstance(value, list | tuple) else value)
            for name, value in sorted(version.feature_config.items())
        ],
        "sigma_model": sigma_model_label(version),
        "bands": band_evidence(version, naive=run_naive_of(version)),
        "library_versions": sorted((version.provenance.get("library_versions") or {}).items()),
        "code_commit": version.provenance.get("code_commit"),
        **version_page_provided(version=version, request=request),
    }
    return render(request, "training/model_detail.html", context)


def version_page_provided(*, version: ModelVersion, request: HttpRequest) -> dict:
    """What other apps add to a version's page: each of `settings.TRAINING_VERSION_PAGE_PROVIDERS` (dotted paths)
    is called with the version and the request and returns template context (forecasts adds the backtest and the
    edge over naive), so this app shows other apps' sections without importing them."""
    context: dict = {}
    for path in settings.TRAINING_VERSION_PAGE_PROVIDERS:
        context.update(import_string(path)(version=version, request=request))
    return context


PAGE_PROMOTION_REASON = "Promoted from the models page"


@permission_needed(PROMOTE_MODEL_VERSION)
@require_http_methods(["GET", "POST"])
def model_promote(request: HttpRequest, version_id: int) -> HttpResponse:
    """GET shows the evidence and asks for confirmation (and a reason when the evidence does not back the
    version); POST makes the version the champion (the admin's service)."""
    version = get_object_or_404(ModelVersion.objects.select_related("training_run"), pk=version_id)
    form = PromoteForm(
        request.POST if request.method == "POST" else None, version=version, default_reason=PAGE_PROMOTION_REASON
    )
    if request.method == "POST" and form.is_valid():
        try:
            model_version_promote(model_version=version, user=request.user, reason=form.cleaned_data["reason"])
        except GoldsiteError as exc:
            messages.error(request, f"Promotion failed: {exc}")
        else:
            messages.success(request, f"{version} is now the champion.")
        return redirect("training:model-detail", version_id=version.pk)
    context = {
        "nav_section": "training:models",
        **promotion_review(version=version),
        "form": form,
    }
    return render(request, "training/model_promote.html", context, status=400 if form.errors else 200)
