"""Early stopping keeps the best epoch and records its longest wait that paid off; later tuning batches wait
no longer than the CV fits already made show is worth it (the plan's use of it: tests/training/ml/test_plan.py)."""

from training.ml.early_stopping import MIN_PATIENCE, EarlyStopping, bounded


def feed(stopping: EarlyStopping, losses: list[float]) -> list[int]:
    """The epochs whose weights would be kept, until it says stop."""
    kept = []
    for loss in losses:
        if stopping.improved(loss):
            kept.append(stopping.epoch)
        elif stopping.stop:
            break
    return kept


def test_it_keeps_the_best_epoch_and_stops_after_patience_epochs_without_improvement():
    stopping = EarlyStopping(patience=3)

    kept = feed(stopping, [5.0, 4.0, 4.5, 4.6, 3.0, 3.5, 3.2, 3.1, 2.0])

    assert kept == [1, 2, 5]
    assert (stopping.best_epoch, stopping.best_loss, stopping.epoch) == (5, 3.0, 8)  # stopped before the 2.0
    assert stopping.longest_wait == 2  # epochs 3-4 waited, then epoch 5 improved; 6-8 never paid off


def test_a_loss_that_is_not_a_number_is_never_an_improvement():
    stopping = EarlyStopping(patience=2)
    assert feed(stopping, [1.0, float("nan"), float("nan"), 0.5]) == [1]


def test_without_evidence_the_defaults_stand():
    assert bounded(max_epochs=100, patience=10, fits=[]) == (100, 10)
    assert bounded(max_epochs=100, patience=10, fits=[{"best_epoch": 3, "longest_wait": None}]) == (100, 10)


def test_patience_is_the_longest_paid_wait_plus_two_within_its_limits():
    fits = [
        {"best_epoch": 1, "longest_wait": 0},
        {"best_epoch": 4, "longest_wait": 2},
        {"best_epoch": 3, "longest_wait": 1},
    ]
    assert bounded(max_epochs=100, patience=10, fits=fits) == (8, 4)  # epochs: max(2 × 4, 4 + 4)
    assert bounded(max_epochs=100, patience=10, fits=[{"best_epoch": 1, "longest_wait": 0}]) == (4, MIN_PATIENCE)
    assert bounded(max_epochs=100, patience=10, fits=[{"best_epoch": 60, "longest_wait": 20}]) == (100, 10)
