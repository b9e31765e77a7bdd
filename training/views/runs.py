"""The training pages: the runs list with the start form, starting a run, and a run's page polled by htmx."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from goldsite.errors import ConflictError, GoldsiteError
from training.models import TrainingRun
from training.permissions import START_TRAINING_RUN
from training.selectors import training_fit_summary, training_run_list
from training.services.runs import training_run_start
from training.views import permission_needed

RUNS_PER_PAGE = 20
DEFAULT_TUNE_TRIALS = 5
MAX_PAGE_TRIALS = 200
RUNS_REGION = "training-runs"
RUN_FINISHED_EVENT = "training-run-finished"
# The request headers (set by htmx) that pick between a page and a fragment: responses vary on them, so no cache
# serves one for the other.
RUNS_PAGE_VARY = ("HX-Request", "HX-Target", "HX-History-Restore-Request")
RUN_PAGE_VARY = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


class TrainingStartForm(forms.Form):
    kind = forms.ChoiceField(choices=TrainingRun.Kind.choices, widget=forms.HiddenInput)
    trials = forms.IntegerField(
        label="Trials per architecture",
        min_value=1,
        max_value=MAX_PAGE_TRIALS,
        initial=DEFAULT_TUNE_TRIALS,
        required=False,
        help_text=f"1–{MAX_PAGE_TRIALS}. Each trial fits one network; a few take minutes.",
    )

    def clean(self):
        cleaned = super().clean()
        tuning = cleaned.get("kind") == TrainingRun.Kind.TUNE
        if tuning and cleaned.get("trials") is None and "trials" not in self.errors:
            cleaned["trials"] = DEFAULT_TUNE_TRIALS
        return cleaned


def _runs_context(request: HttpRequest) -> dict:
    page_obj = Paginator(training_run_list(), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return {"page_obj": page_obj, "runs_region": RUNS_REGION}


def _training_page(request: HttpRequest, *, form: TrainingStartForm | None = None, status: int = 200) -> HttpResponse:
    context = {
        **_runs_context(request),
        "latest_run": training_run_list().first(),
        "tune_form": form if form is not None and form.data.get("kind") == "tune" else TrainingStartForm(),
        "max_trials": MAX_PAGE_TRIALS,
    }
    return render(request, "training/training.html", context, status=status)


@login_required
@require_GET
def training(request: HttpRequest) -> HttpResponse:
    """The runs page; an htmx request aimed at the runs table gets only the table."""
    if request.htmx and request.htmx.target == RUNS_REGION and not request.htmx.history_restore_request:
        response = render(request, "training/partials/_runs_table.html", _runs_context(request))
    else:
        response = _training_page(request)
    patch_vary_headers(response, RUNS_PAGE_VARY)
    return response


@permission_needed(START_TRAINING_RUN)
@require_POST
def training_start(request: HttpRequest) -> HttpResponse:
    """Start a train or tune run; a run already in progress is a 409 with a clear message."""
    form = TrainingStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The run was not started; check the form.")
        return _training_page(request, form=form, status=400)
    kind, trials = form.cleaned_data["kind"], form.cleaned_data["trials"]
    try:
        run = training_run_start(kind=kind, trials=trials if kind == TrainingRun.Kind.TUNE else None, user=request.user)
    except ConflictError as exc:
        messages.error(request, f"The run was not started: {exc}")
        return _training_page(request, status=409)
    except GoldsiteError as exc:
        messages.error(request, f"The run was not started: {exc}")
        return _training_page(request, form=form, status=400)
    what = f"{run.get_kind_display()} run #{run.pk}"
    if kind == TrainingRun.Kind.TUNE:
        what += f" ({trials} trial{'s' if trials != 1 else ''} per architecture)"
    messages.success(request, f"{what} started. Its progress updates below.")
    return redirect("training:training")


@login_required
@require_GET
def training_run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's page; an htmx poll gets its status fragment, with 286 (stop polling) once the run has ended."""
    run = get_object_or_404(TrainingRun.objects.select_related("started_by"), pk=run_id)
    if request.htmx and not (request.htmx.boosted or request.htmx.history_restore_request):
        content = render_to_string(
            "training/partials/_run_status.html", {"run": run, "fits": training_fit_summary(run=run)}, request=request
        )
        if run.is_active:
            response = HttpResponse(content)
        else:
            response = HttpResponseStopPolling(content)
            trigger_client_event(response, RUN_FINISHED_EVENT, {"id": run.pk, "status": run.status})
    else:
        context = {
            "nav_section": "training:training",
            "run": run,
            "fits": training_fit_summary(run=run),
            "versions": run.model_versions.order_by("architecture"),
        }
        response = render(request, "training/run_detail.html", context)
    patch_vary_headers(response, RUN_PAGE_VARY)
    return response
