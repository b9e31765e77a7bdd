"""How a round's fits reach the workers: each fit is its own task, sent fold-major, and the worker that starts
a configuration takes its remaining folds while its network is built (work stealing, not one compile per
worker per configuration)."""

import datetime as dt

import pytest

from tests.forecasts.forecasters import store_closes, trading_days
from training import dispatch
from training.ml.plan import UnitResult
from training.models import TrainingFit
from training.services import fits, graph, runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def round_one(no_execution, monkeypatch):
    """A tune run of two MLP trials on 4 folds, opened for real; its first MLP round's fit ids in the order
    they were sent, not executed."""
    store_closes(trading_days(dt.date(2023, 1, 3), dt.date(2024, 6, 28)))
    run = runs.training_run_start(
        kind="tune", trials=2, architectures=["mlp"], test_days=40, selection_days=80, folds=4, retrain_every=20
    )
    sent = {}
    monkeypatch.setattr(
        dispatch, "training_fits_request", lambda *, fit_ids, candidate_id: sent.setdefault(candidate_id, fit_ids)
    )
    graph.training_run_execute(run_id=run.pk)
    mlp = run.candidates.get(kind="mlp")
    return [TrainingFit.objects.get(pk=pk) for pk in sent[mlp.pk]]


@pytest.fixture
def fitted(monkeypatch):
    """Replace the fit itself (Keras) by one that records which (trial, fold) ran, on which worker."""
    calls = []

    def fake_run_unit(samples, windows, unit, *, worker=""):
        calls.append((unit.trial, unit.fold, worker))
        fold = windows.folds[unit.fold]
        rows = fold.rows.tolist()
        return UnitResult(unit=unit, rows=rows, predicted=[0.0] * len(rows), best_epoch=1, epochs=1, seconds=0.01)

    monkeypatch.setattr("training.ml.plan.run_unit", fake_run_unit)
    return calls


def test_a_rounds_fits_are_sent_fold_major_so_workers_start_on_different_trials(round_one):
    assert [(fit.trial, fit.fold) for fit in round_one] == [(t, f) for f in range(4) for t in (1, 2)]


def test_the_task_that_starts_a_trial_runs_its_other_folds_and_their_tasks_find_them_done(round_one, fitted):
    for fit in round_one:  # one worker taking the round's tasks in the order they were sent
        fits.training_fit_execute(fit_id=fit.pk, worker="w1")

    assert [(trial, fold) for trial, fold, _ in fitted] == [(t, f) for t in (1, 2) for f in range(4)]  # trial by trial
    assert set(TrainingFit.objects.filter(pk__in=[f.pk for f in round_one]).values_list("status", flat=True)) == {
        TrainingFit.Status.DONE
    }


def test_a_fold_another_worker_has_taken_is_left_to_it(round_one, fitted):
    taken = next(fit for fit in round_one if (fit.trial, fit.fold) == (1, 2))
    TrainingFit.objects.filter(pk=taken.pk).update(status=TrainingFit.Status.RUNNING, worker="w2")

    fits.training_fit_execute(fit_id=round_one[0].pk, worker="w1")  # trial 1, fold 1

    assert [(trial, fold, worker) for trial, fold, worker in fitted] == [(1, 0, "w1"), (1, 1, "w1"), (1, 3, "w1")]
    assert TrainingFit.objects.get(pk=taken.pk).status == TrainingFit.Status.RUNNING  # still w2's


def test_with_more_workers_than_trials_a_spare_worker_takes_a_fold_nobody_started(round_one, fitted):
    fold_three_of_trial_one = next(fit for fit in round_one if (fit.trial, fit.fold) == (1, 3))

    fits.training_fit_execute(fit_id=fold_three_of_trial_one.pk, worker="w3")

    assert fitted == [(1, 3, "w3"), (1, 0, "w3"), (1, 1, "w3"), (1, 2, "w3")]  # then the rest, while warm
