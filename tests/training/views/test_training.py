"""The training page: the runs, starting one (ML engineers), and a running run's status polled until it ends."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import StaffUserFactory, TrainingRunFactory
from training.models import TrainingRun

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def running_run(**kwargs):
    now = timezone.now()
    defaults = {
        "status": TrainingRun.Status.RUNNING,
        "progress": 40,
        "message": "mlp: trial 2 of 5",
        "started_at": now - dt.timedelta(seconds=75),
        "heartbeat_at": now,
    }
    return TrainingRunFactory(**{**defaults, **kwargs})


# --- Access -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "kwargs"),
    [("training:training", {}), ("training:training-run", {"run_id": 1}), ("training:training-start", {})],
)
def test_anonymous_visitors_are_sent_to_sign_in_with_next(client, url_name, kwargs):
    url = reverse(url_name, kwargs=kwargs)

    response = client.post(url) if url_name == "training:training-start" else client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('forecasts:login')}?next={url}"


@pytest.mark.parametrize("who", ["analyst", "staff"])
def test_without_the_permission_there_are_no_start_buttons_and_starts_are_refused(request, who, no_execution):
    client = request.getfixturevalue(who)  # staff included: being staff is not the permission
    content = client.get(reverse("training:training")).content.decode()

    assert "Train now" not in content and "Tune now" not in content
    assert reverse("training:training-start") not in content
    assert "Starting runs needs the training.add_trainingrun permission" in content
    assert client.post(reverse("training:training-start"), {"kind": "tune", "trials": "1"}).status_code == 403
    assert not TrainingRun.objects.exists()


def test_ml_engineers_see_train_and_tune_with_a_small_trial_count(engineer):
    content = engineer.get(reverse("training:training")).content.decode()

    assert "Train now" in content and "Tune now" in content
    assert 'name="trials" value="5" min="1" max="200"' in content


# --- Starting a run ---------------------------------------------------------------------------------------


def test_ml_engineers_start_a_tuning_run_with_their_trial_count(engineer, no_execution):
    response = engineer.post(reverse("training:training-start"), {"kind": "tune", "trials": "3"}, follow=True)

    run = TrainingRun.objects.get()
    assert (run.kind, run.params["trials"], run.started_by.is_staff) == ("tune", 3, True)
    assert no_execution == [run.pk]
    assert response.redirect_chain == [(reverse("training:training"), 302)]
    assert f"Tune run #{run.pk} (3 trials per architecture) started." in response.content.decode()


def test_a_training_run_needs_no_trials(engineer, no_execution):
    engineer.post(reverse("training:training-start"), {"kind": "train"})

    run = TrainingRun.objects.get()
    assert (run.kind, run.params["trials"]) == ("train", 0)


@pytest.mark.parametrize("trials", ["0", "201", "many"])
def test_a_bad_trial_count_is_refused_with_the_field_error(engineer, no_execution, trials):
    response = engineer.post(reverse("training:training-start"), {"kind": "tune", "trials": trials})

    assert response.status_code == 400
    content = response.content.decode()
    assert "field--invalid" in content and "The run was not started; check the form." in content
    assert not TrainingRun.objects.exists()


def test_starting_while_a_run_is_active_is_a_conflict_with_a_clear_message(engineer, no_execution):
    active = running_run()

    response = engineer.post(reverse("training:training-start"), {"kind": "tune", "trials": "1"})

    assert response.status_code == 409
    assert f"Training run #{active.pk} is running; wait for it to finish." in response.content.decode()
    assert TrainingRun.objects.count() == 1


# --- Watching a run ---------------------------------------------------------------------------------------


def test_the_page_lists_runs_with_status_progress_duration_and_who(analyst):
    run = running_run(started_by=StaffUserFactory(username="eng"))

    content = analyst.get(reverse("training:training")).content.decode()

    assert "badge--running" in content and "40%" in content
    assert "1 min 15 s" in content and "eng" in content
    assert "mlp: trial 2 of 5" in content
    assert f'href="{reverse("training:training-run", args=[run.pk])}"' in content


def test_a_running_run_polls_every_two_seconds_in_a_live_region(analyst):
    run = running_run()

    content = analyst.get(reverse("training:training")).content.decode()

    assert f'id="run-{run.pk}-status"' in content
    assert 'aria-live="polite"' in content
    assert f'hx-get="{reverse("training:training-run", args=[run.pk])}" hx-trigger="every 2s"' in content
    assert '<progress class="progress" value="40" max="100">' in content


def test_a_poll_of_a_running_run_gets_the_fragment_and_keeps_polling(analyst):
    run = running_run()

    response = analyst.get(reverse("training:training-run", args=[run.pk]), **HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "Running" in content and 'value="40"' in content and "mlp: trial 2 of 5" in content


def test_polling_stops_once_the_run_has_finished(analyst):
    run = running_run()
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.SUCCEEDED, progress=100, finished_at=timezone.now(), message="Best: lstm"
    )

    response = analyst.get(reverse("training:training-run", args=[run.pk]), **HTMX)

    assert response.status_code == 286  # htmx: stop polling
    content = response.content.decode()
    assert "Succeeded" in content and 'value="100"' in content and "Best: lstm" in content
    assert json.loads(response["HX-Trigger"]) == {"training-run-finished": {"id": run.pk, "status": "succeeded"}}


def test_a_finished_run_is_rendered_without_polling(analyst):
    TrainingRunFactory(status=TrainingRun.Status.SUCCEEDED)

    content = analyst.get(reverse("training:training")).content.decode()

    assert "every 2s" not in content


def test_a_failed_run_shows_its_error(analyst):
    run = TrainingRunFactory(status=TrainingRun.Status.FAILED, error="mlp: TrainingError: no prices", message="Failed")

    page = analyst.get(reverse("training:training")).content.decode()
    poll = analyst.get(reverse("training:training-run", args=[run.pk]), **HTMX)

    assert "badge--failed" in page and "mlp: TrainingError: no prices" in page
    assert poll.status_code == 286 and "mlp: TrainingError: no prices" in poll.content.decode()


@pytest.mark.parametrize("headers", [{}, {**HTMX, "HTTP_HX_BOOSTED": "true"}])
def test_the_run_page_without_htmx_or_boosted_is_a_whole_page(analyst, headers):
    run = running_run()

    response = analyst.get(reverse("training:training-run", args=[run.pk]), **headers)

    content = response.content.decode()
    assert response.status_code == 200 and "<html" in content
    assert f"Tune run #{run.pk}" in content and "every 2s" in content


def test_the_runs_table_refreshes_as_a_fragment(analyst):
    for _ in range(21):
        TrainingRunFactory(status=TrainingRun.Status.SUCCEEDED)

    page = analyst.get(reverse("training:training")).content.decode()
    fragment = analyst.get(reverse("training:training"), {"page": "2"}, **HTMX, HTTP_HX_TARGET="training-runs")

    assert 'hx-trigger="training-run-finished from:body"' in page
    assert 'href="?page=2" rel="next"' in page
    text = fragment.content.decode()
    assert text.lstrip().startswith('<section id="training-runs"')
    assert "<html" not in text and "Page 2 of 2" in text


@pytest.mark.parametrize(
    "headers",
    [{}, HTMX, {**HTMX, "HTTP_HX_BOOSTED": "true"}, {**HTMX, "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}],
)
@pytest.mark.parametrize("status", [TrainingRun.Status.RUNNING, TrainingRun.Status.SUCCEEDED])
def test_the_run_page_varies_on_the_htmx_headers_it_reads(analyst, headers, status):
    # A cache between the browser and the site must not serve the fragment for the page or the page for a poll.
    run = running_run(status=status)

    response = analyst.get(reverse("training:training-run", args=[run.pk]), **headers)

    vary = {value.strip() for value in response["Vary"].split(",")}
    assert {"HX-Request", "HX-Boosted", "HX-History-Restore-Request"} <= vary


def test_the_runs_page_varies_on_the_htmx_headers_it_reads(analyst):
    vary = {value.strip() for value in analyst.get(reverse("training:training"))["Vary"].split(",")}
    assert {"HX-Request", "HX-Target", "HX-History-Restore-Request"} <= vary


@pytest.mark.django_db
def test_the_run_page_shows_fits_done_of_total_and_which_worker_ran_each(client):
    from tests.factories import MLEngineerFactory, TrainingRunFactory
    from training.ml.plan import CandidatePlan
    from training.models import TrainingCandidate, TrainingFit, TrainingRun

    run = TrainingRunFactory(status=TrainingRun.Status.RUNNING)
    protocol = {"test_days": 60, "selection_days": 100, "folds": 4, "retrain_every": 30, "lookback": 5}
    plan = CandidatePlan(kind="mlp", protocol=protocol, trials=2, batch_size=2)
    candidate = TrainingCandidate.objects.create(run=run, kind="mlp", state={"plan": plan.to_dict()})
    for i, worker in enumerate(["worker-a@box1", "worker-a@box1", "worker-b@box2"]):
        TrainingFit.objects.create(
            run=run,
            candidate=candidate,
            round=1,
            stage="cv",
            trial=1 + i // 4,
            fold=i % 4,
            unit={},
            status=TrainingFit.Status.DONE,
            worker=worker,
        )
    client.force_login(MLEngineerFactory())

    content = client.get(reverse("training:training-run", args=[run.pk])).content.decode()

    assert 'data-fits-done="3" data-fits-total="10"' in content  # 2 trials × 4 folds + 2 walk-forward blocks
    assert "worker-a@box1: 2" in content and "worker-b@box2: 1" in content
