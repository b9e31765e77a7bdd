"""A candidate as a graph of fits: the same outcome whatever the workers and the order fits finish in."""

import dataclasses
import json

import numpy as np
import pytest

from training.ml.dataset import Protocol, Windows
from training.ml.plan import STAGE_CV, BatchProposer, CandidatePlan, Unit, UnitResult, run_unit

PROTOCOL = Protocol(test_days=60, selection_days=100, folds=4, retrain_every=30, lookback=5)


def fake_fit(unit: Unit, windows: Windows, worker: str = "w1") -> UnitResult:
    """A stand-in fit whose forecasts depend only on the unit: a return of learning_rate × units × 1e-2."""
    folds = windows.folds if unit.stage == STAGE_CV else windows.walk_forward
    rows = folds[unit.fold].rows
    value = unit.hyperparameters["learning_rate"] * unit.hyperparameters["units"] * 1e-2
    return UnitResult(
        unit=unit,
        rows=rows.tolist(),
        predicted=[value] * len(rows),
        best_epoch=3 + unit.fold,
        epochs=9,
        seconds=0.1,
        worker=worker,
    )


def drive(plan: CandidatePlan, samples, windows, *, order=None, workers=("w1",)) -> CandidatePlan:
    rounds = 0
    while not plan.complete:
        units = plan.next_units()
        results = [fake_fit(u, windows, workers[i % len(workers)]) for i, u in enumerate(units)]
        if order is not None:
            order.shuffle(results)
        plan.record(samples, results)
        rounds += 1
    plan.rounds = rounds
    return plan


def canonical(plan: CandidatePlan) -> str:
    state = plan.to_dict()
    for trial in state["done"]:
        for unit in trial["units"]:
            unit.pop("worker")
    for unit in state["walk"]:
        unit.pop("worker")
    return json.dumps(state, sort_keys=True)


def test_the_outcome_does_not_depend_on_completion_order_or_workers(samples, windows):
    def plan():
        return CandidatePlan(kind="mlp", protocol=PROTOCOL.to_dict(), trials=7, batch_size=3, seed=5)

    reference = drive(plan(), samples, windows)
    for seed in range(3):
        shuffled = drive(plan(), samples, windows, order=np.random.default_rng(seed), workers=("w1", "w2", "w3"))
        assert canonical(shuffled) == canonical(reference)
    assert reference.rounds == 3 + 1  # batches of 3, 3 and 1 trials, then the walk-forward blocks
    assert [t["trial"] for t in reference.done] == list(range(1, 8))
    assert reference.best == min(reference.done, key=lambda t: (t["mae"], t["trial"]))["trial"]
    assert reference.epochs == 4  # the median best epoch of folds 0-3 (3, 4, 5, 6): 4.5 rounds to 4


def test_a_round_is_a_batch_of_configurations_times_every_fold(samples, windows):
    plan = CandidatePlan(kind="mlp", protocol=PROTOCOL.to_dict(), trials=5, batch_size=2, seed=1)
    units = plan.next_units()
    assert [(u.trial, u.fold) for u in units] == [(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1), (2, 2), (2, 3)]
    assert all(u.stage == STAGE_CV and u.epochs is None for u in units)
    assert plan.total_units() == 5 * 4 + 2


def test_the_walk_forward_round_refits_the_chosen_configuration_for_the_cv_epochs(samples, windows):
    plan = drive(CandidatePlan(kind="mlp", protocol=PROTOCOL.to_dict(), trials=2, batch_size=2), samples, windows)
    assert plan.stage == "complete"
    walk = plan.walk_forward()
    np.testing.assert_array_equal(walk.rows, windows.test_rows)
    again = CandidatePlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert canonical(again) == canonical(plan)


def test_constant_liar_batches_spread_out_and_repeat_exactly():
    proposer = BatchProposer("mlp", seed=3, startup=2)
    history = [
        ({"batch_size": 0, "dropout": 0.1, "l2": 1e-4, "layers": 0, "learning_rate": 1e-3, "units": 1}, 15.0),
        ({"batch_size": 1, "dropout": 0.2, "l2": 1e-3, "layers": 1, "learning_rate": 3e-3, "units": 2}, 14.0),
    ]
    batch = proposer.propose(history, 4, batch=1)
    assert len(batch) == 4 and len({json.dumps(b, sort_keys=True) for b in batch}) == 4
    assert proposer.propose(history, 4, batch=1) == batch
    assert all(isinstance(v, int | float) for point in batch for v in point.values())


def test_reused_hyperparameters_are_one_configuration_and_grids_are_every_one():
    reuse = CandidatePlan(kind="lstm", protocol=PROTOCOL.to_dict(), trials=10, hyperparameters={"units": 8})
    assert reuse.total_trials == 1 and reuse.next_units()[0].hyperparameters["units"] == 8
    drift = CandidatePlan(kind="drift", protocol=PROTOCOL.to_dict(), trials=10)
    assert drift.total_trials == 6 and len(drift.next_units()) == 6 * 4


@pytest.mark.slow
def test_a_real_unit_forecasts_its_fold_from_its_fit_span_only(samples, windows):
    plan = CandidatePlan(kind="drift", protocol=PROTOCOL.to_dict())
    unit = plan.next_units()[5]
    result = run_unit(samples, windows, unit, worker="here")
    fold = windows.folds[unit.fold]
    window = unit.hyperparameters["window"]
    expected = samples.returns[fold.fit_rows][-window:].mean() if window else samples.returns[fold.fit_rows].mean()
    assert result.rows == fold.rows.tolist() and result.worker == "here"
    assert result.predicted == pytest.approx([expected] * len(fold.rows))


def test_early_stopping_waits_the_default_in_the_first_batch_and_what_it_showed_in_later_ones(samples, windows):
    plan = CandidatePlan(kind="mlp", protocol=PROTOCOL.to_dict(), trials=4, batch_size=2, seed=5)
    first = plan.next_units()
    results = [dataclasses.replace(fake_fit(u, windows), best_epoch=2 + u.fold, longest_wait=1) for u in first]
    plan.record(samples, results)
    second = plan.next_units()

    assert {(u.max_epochs, u.patience) for u in first} == {(100, 10)}
    assert {(u.max_epochs, u.patience) for u in second} == {(10, 3)}  # best epochs 2-5, waits of 1: max(10, 5 + 3)
