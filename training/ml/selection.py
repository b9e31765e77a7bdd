"""Champion selection among a training run's candidates: validation MAE only, never the test window."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from training.ml.pipeline import CandidateResult

# Simplest first: the order that breaks validation-MAE ties.
ARCHITECTURES = ("naive", "mlp", "cnn", "lstm")


def select_champion(results: Iterable["CandidateResult"]) -> "CandidateResult":
    """Lowest validation MAE, naive included; ties go to the simpler model. Test metrics play no part."""
    results = list(results)
    if not results:
        raise ValueError("no candidates to choose from")
    return min(results, key=lambda r: (r.validation_metrics["mae"], ARCHITECTURES.index(r.architecture)))
