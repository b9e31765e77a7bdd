"""The champion rule: the lowest pooled CV MAE, and only with evidence that it beats naive.

The candidate with the lowest pooled CV MAE (ties: the simpler kind, in `training.ml.kinds.KINDS` order) is
champion only if the one-sided Diebold–Mariano test of its CV absolute errors against naive's gives p below
`max_p`; otherwise naive is champion. Test-window metrics play no part.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from training.ml.kinds import BASELINE_KIND, KINDS

if TYPE_CHECKING:
    from training.ml.pipeline import CandidateResult

DEFAULT_MAX_P = 0.10


@dataclass(frozen=True)
class Decision:
    champion: "CandidateResult"
    best: "CandidateResult"  # the lowest pooled CV MAE, naive or not
    naive: "CandidateResult"
    max_p: float

    @property
    def with_evidence(self) -> bool:
        return self.champion.kind != BASELINE_KIND

    @property
    def reason(self) -> str:
        best, naive = self.best, self.naive
        naive_mae = naive.cv_metrics["mae"]
        if best.kind == BASELINE_KIND:
            return f"No candidate had a lower pooled CV MAE than naive ({naive_mae:.2f}); naive is champion."
        p = best.cv_metrics["p_value"]
        summary = (
            f"{best.kind} pooled CV MAE {best.cv_metrics['mae']:.2f} vs naive {naive_mae:.2f}, "
            f"Diebold–Mariano p = {p:.3f}"
        )
        if self.with_evidence:
            return f"{summary} < {self.max_p:g}: {best.kind} beats naive with evidence."
        return f"{summary} ≥ {self.max_p:g}: no evidence it beats naive, so naive is champion."


def _order(result: "CandidateResult") -> tuple[float, int]:
    return result.cv_metrics["mae"], KINDS.index(result.kind)


def select_champion(results: Iterable["CandidateResult"], *, max_p: float = DEFAULT_MAX_P) -> Decision:
    results = list(results)
    naive = next((r for r in results if r.kind == BASELINE_KIND), None)
    if naive is None:
        raise ValueError("the naive candidate is missing: nothing to compare with")
    best = min(results, key=_order)
    beats = best.kind != BASELINE_KIND and best.cv_metrics["p_value"] < max_p
    return Decision(champion=best if beats else naive, best=best, naive=naive, max_p=max_p)
