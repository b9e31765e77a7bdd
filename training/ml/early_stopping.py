"""Early stopping, and how long to wait, decided on the evidence of the fits already made.

A CV fit of a network stops once its early-stopping loss has not improved for `patience` epochs and keeps the
best epoch's weights (`EarlyStopping`). Each fit reports, besides its best epoch, its **longest paid wait**: the
most epochs it went without improving before it improved again. Patience beyond the longest paid wait seen so
far only burns epochs (on `../shared/data` most fits' best epoch is 1–5, and the default patience of 10 then
spends most of their epochs waiting). So a candidate's later tuning batches wait `longest paid wait + 2` epochs
(at least MIN_PATIENCE, never more than the default) and run at most `max(2 × latest best epoch, latest best
epoch + patience)` epochs (`bounded`). The evidence is the selection period's CV fits only, so the bound is
the same whatever the workers, and never reads the test window.
"""

from dataclasses import dataclass

MIN_PATIENCE = 3
PATIENCE_MARGIN = 2


@dataclass
class EarlyStopping:
    """Feed it each epoch's early-stopping loss; it says when to stop and which epoch was best."""

    patience: int
    best_loss: float = float("inf")
    best_epoch: int = 0
    epoch: int = 0
    waited: int = 0
    longest_wait: int = 0  # the most epochs waited before an improvement (a wait that paid off)

    def improved(self, loss: float) -> bool:
        """Record one epoch's loss; True when it is the best so far (keep this epoch's weights)."""
        self.epoch += 1
        if loss < self.best_loss:
            self.longest_wait = max(self.longest_wait, self.waited)
            self.best_loss, self.best_epoch, self.waited = loss, self.epoch, 0
            return True
        self.waited += 1
        return False

    @property
    def stop(self) -> bool:
        return self.waited >= self.patience


def bounded(*, max_epochs: int, patience: int, fits: list[dict]) -> tuple[int, int]:
    """(max_epochs, patience) for the next batch of CV fits, from the reports of the fits made so far
    (dicts with "best_epoch" and "longest_wait"); the defaults while there is no evidence."""
    reports = [f for f in fits if f.get("best_epoch") is not None and f.get("longest_wait") is not None]
    if not reports:
        return max_epochs, patience
    waits = max(f["longest_wait"] for f in reports)
    bound_patience = min(patience, max(MIN_PATIENCE, waits + PATIENCE_MARGIN))
    latest_best = max(f["best_epoch"] for f in reports)
    return min(max_epochs, max(2 * latest_best, latest_best + bound_patience)), bound_patience
