"""How a version's bands were made and where they stand live: the CV choice of σ model × γ (every pair replayed
on the CV days, the lowest interval score won) and the adaptive bands' live state after the scored live days."""

from __future__ import annotations

from dataclasses import dataclass

from training.evidence.stored import CoveragePercents, as_dict, finite
from training.ml.intervals import LEVELS
from training.ml.volatility import VOLATILITY_MODELS
from training.models import ModelVersion


@dataclass(frozen=True)
class ChoiceRow(CoveragePercents):
    """One σ model × γ replayed on the CV days (cross-conformal), and how far its score is from the winner's."""

    volatility: str
    label: str
    gamma: float
    winkler_80: float | None
    winkler_95: float | None
    coverage_80: float | None
    coverage_95: float | None
    score: float | None
    chosen: bool
    behind: float | None  # score − the winner's score (0 for the winner)

    @property
    def gamma_text(self) -> str:
        return f"{self.gamma:g}"


def interval_choice(version: ModelVersion) -> list[ChoiceRow]:
    """The CV `interval_choice` table, best first: the lowest score won (ties to the earlier, simpler row, as
    training.ml.intervals.choose_interval_model breaks them)."""
    table = [row for row in as_dict(version.cv_metrics).get("interval_choice") or [] if isinstance(row, dict)]
    scored = [(i, row) for i, row in enumerate(table) if finite(row.get("score")) is not None]
    if not scored:
        return []
    winner_index = min(scored, key=lambda item: (item[1]["score"], item[0]))[0]
    best = table[winner_index]["score"]
    rows = []
    for i, row in sorted(scored, key=lambda item: (item[1]["score"], item[0])):
        kind = str(row.get("volatility", "?"))
        model = VOLATILITY_MODELS.get(kind)
        gamma = finite(row.get("gamma"))
        rows.append(
            ChoiceRow(
                volatility=kind,
                label=model.label if model is not None else kind,
                gamma=0.0 if gamma is None else gamma,
                winkler_80=finite(row.get("winkler_80")),
                winkler_95=finite(row.get("winkler_95")),
                coverage_80=finite(row.get("coverage_80")),
                coverage_95=finite(row.get("coverage_95")),
                score=finite(row.get("score")),
                chosen=i == winner_index,
                behind=row["score"] - best,
            )
        )
    return rows


@dataclass(frozen=True)
class LiveState:
    """The adaptive bands' live state (`intervals["state"]`): α_t of each level after the scored live days."""

    days: int
    through: str | None
    alpha: dict[str, float]  # {"80": α_t, "95": α_t}
    nominal: dict[str, float]  # {"80": 0.20, "95": 0.05}
    held: dict[str, int]  # {"80": k, "95": k}

    @property
    def text(self) -> str:
        """ "After 20 scored live days (through 2025-10-01): α 0.203 (nominal 0.20) for the 80% band …" """
        if not self.days:
            return "No live forecast scored yet: the bands start where the walk-forward replay left them."
        levels = "; ".join(
            f"the {key}% band held on {self.held.get(key, 0)} of {self.days}, α {self.alpha[key]:.3f} "
            f"(nominal {self.nominal[key]:.2f})"
            for key in LEVELS
            if key in self.alpha
        )
        through = f" (through {self.through})" if self.through else ""
        return f"After {self.days} scored live day{'s' if self.days != 1 else ''}{through}: {levels}."


def live_state(version: ModelVersion) -> LiveState | None:
    """The stored live state of an adaptive version, None before its first scored live forecast or when its bands
    are not adaptive (registered before them)."""
    state = as_dict(version.intervals).get("state")
    if not isinstance(state, dict) or not isinstance(state.get("alpha"), dict):
        return None
    alpha = {key: float(value) for key, value in state["alpha"].items() if finite(value) is not None}
    held = {key: int(value) for key, value in as_dict(state.get("held")).items() if isinstance(value, int)}
    return LiveState(
        days=int(state.get("days") or 0),
        through=state.get("through"),
        alpha=alpha,
        nominal=dict(LEVELS),
        held=held,
    )
