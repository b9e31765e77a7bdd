"""A run's candidates side by side (the leaderboard), the champion rule over stored versions, how the champion got
there, and the dashboard's sentence about it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

from goldsite.presentation.formatting import metric, p_text, percent_units
from training.evidence.bands import BandEvidence, band_evidence, run_naive
from training.evidence.verdicts import (
    NAIVE,
    NAIVE_IN_WORDS,
    NO_CV_EVIDENCE,
    Verdict,
    VerdictCode,
    has_cv_evidence,
    kind_label,
    run_max_p,
    version_verdict,
)
from training.ml.kinds import KINDS
from training.ml.selection import Decision, select_champion
from training.models import ChampionChange, ModelVersion, TrainingRun
from training.selectors import champion_change_latest, model_version_run_candidates

# The per-fold bars: one step per percent of rMAE away from 1 (naive), drawn up to FOLD_BAR_STEPS.
FOLD_BAR_STEPS = 10


@dataclass(frozen=True)
class ChampionNote:
    """How the current champion got there."""

    by_rule: bool
    text: str


def champion_note(version: ModelVersion) -> ChampionNote | None:
    """ "chosen by the rule" or "promoted by hand by ana: <reason>", from its latest champion change."""
    if not version.is_champion:
        return None
    change: ChampionChange | None = champion_change_latest(version=version)
    if change is None:
        return ChampionNote(by_rule=False, text="champion (no recorded promotion)")
    if change.automatic:
        return ChampionNote(by_rule=True, text="chosen by the rule")
    text = f"promoted by hand by {change.actor}"
    return ChampionNote(by_rule=False, text=f"{text}: {change.reason}" if change.reason else text)


def _order(version: ModelVersion) -> tuple[float, int]:
    """The rule's order: pooled CV MAE, ties to the simpler kind."""
    kind = version.architecture
    return version.cv_metrics["mae"], KINDS.index(kind) if kind in KINDS else len(KINDS)


def rule_decision(versions: list[ModelVersion], *, max_p: float) -> Decision | None:
    """training.ml.selection's champion rule over stored versions (None when naive or any CV evidence is missing).

    The decision's `champion`, `best` and `naive` carry the ModelVersion as `.version_row`.
    """
    if not versions or not all(has_cv_evidence(v) for v in versions) or all(v.architecture != NAIVE for v in versions):
        return None
    candidates = [
        SimpleNamespace(kind=v.architecture, cv_metrics={"p_value": 1.0, **v.cv_metrics}, version_row=v)
        for v in versions
        if v.architecture in KINDS
    ]
    return select_champion(candidates, max_p=max_p)


def best_candidate(versions: list[ModelVersion]) -> ModelVersion | None:
    """The non-naive version with the lowest pooled CV MAE (the rule's order), or None."""
    others = [v for v in versions if v.architecture != NAIVE and has_cv_evidence(v)]
    return min(others, key=_order) if others else None


@dataclass(frozen=True)
class ChampionEvidence:
    """The dashboard's sentence about the champion and its evidence."""

    text: str
    code: str  # the champion's VerdictCode (naive: baseline)
    is_naive: bool
    p_value: float | None
    best: ModelVersion | None  # the best candidate when naive is champion


def champion_evidence(*, champion: ModelVersion | None) -> ChampionEvidence | None:
    """ "No model beat 'tomorrow = today' with evidence; best candidate LSTM, p = 0.31" when naive is champion;
    the champion's own p otherwise. None without a champion."""
    if champion is None:
        return None
    if champion.architecture == NAIVE:
        run = champion.training_run
        versions = model_version_run_candidates(run=run) if run is not None else []
        best = best_candidate(versions)
        if best is None:
            return ChampionEvidence(
                text=f"The champion is {NAIVE_IN_WORDS}: no other candidate has CV evidence to compare",
                code=VerdictCode.BASELINE,
                is_naive=True,
                p_value=None,
                best=None,
            )
        max_p = run_max_p(run)
        if any(version_verdict(v, max_p=max_p).beats_naive for v in versions):
            # The rule checks only the lowest CV MAE; another candidate may still have p < max_p.
            opening = f"The champion is {NAIVE_IN_WORDS}"
        else:
            opening = f"No model beat {NAIVE_IN_WORDS} with evidence"
        return ChampionEvidence(
            text=f"{opening}; best candidate {kind_label(best.architecture)}, {p_text(best.p_value)}",
            code=VerdictCode.BASELINE,
            is_naive=True,
            p_value=None,
            best=best,
        )
    verdict = version_verdict(champion)
    label = kind_label(champion.architecture)
    if verdict.code == VerdictCode.BEATS_NAIVE:
        text = f"{label} beat {NAIVE_IN_WORDS} with evidence (cross-validation {p_text(verdict.p_value)})"
    elif verdict.code == VerdictCode.NO_EVIDENCE:
        text = f"{label} has no evidence it beats {NAIVE_IN_WORDS} ({p_text(verdict.p_value)})"
        note = champion_note(champion)
        if note is not None and not note.by_rule:
            text += "; it was promoted by hand"
    else:
        text = f"{label} has {NO_CV_EVIDENCE}"
    return ChampionEvidence(text=text, code=verdict.code, is_naive=False, p_value=verdict.p_value, best=None)


# --- The leaderboard ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoldBar:
    """One fold's rMAE as a bar around 1 (naive): `steps` percent points up (ahead) or down (behind)."""

    fold: int
    start: str
    end: str
    n: int | None
    rmae: float | None
    direction: str  # "ahead" | "behind" | "level" | "missing"
    steps: int
    clipped: bool

    @property
    def text(self) -> str:
        return f"Fold {self.fold} ({self.start} to {self.end}): rMAE {metric(self.rmae, '.3f')}"


def fold_bars(version: ModelVersion) -> list[FoldBar]:
    bars = []
    for fold in (version.cv_metrics or {}).get("folds") or []:
        rmae = fold.get("rmae")
        if rmae is None or not math.isfinite(rmae):
            direction, steps, clipped, rmae = "missing", 0, False, None
        else:
            distance = abs(1.0 - rmae) * 100
            steps = min(FOLD_BAR_STEPS, round(distance))
            clipped = distance > FOLD_BAR_STEPS
            direction = "level" if steps == 0 else ("ahead" if rmae < 1.0 else "behind")
        bars.append(
            FoldBar(
                fold=fold.get("fold", len(bars) + 1),
                start=fold.get("start", "?"),
                end=fold.get("end", "?"),
                n=fold.get("n"),
                rmae=rmae,
                direction=direction,
                steps=steps,
                clipped=clipped,
            )
        )
    return bars


@dataclass(frozen=True)
class LeaderboardRow:
    version: ModelVersion
    label: str
    verdict: Verdict
    has_cv_evidence: bool
    cv_rmae: float | None
    folds: list[FoldBar]
    p_value: float | None
    test_rmae: float | None
    coverage_80_pct: float | None
    winkler_80: float | None
    champion: ChampionNote | None
    rule_pick: bool
    bands: BandEvidence  # coverage by regime and interval scores beside the run's naive band


@dataclass(frozen=True)
class Leaderboard:
    run: TrainingRun
    rows: list[LeaderboardRow]
    max_p: float
    decision: str | None  # the rule's reason over these rows, None without CV evidence
    rule_pick: ModelVersion | None


def run_leaderboard(*, run: TrainingRun) -> Leaderboard:
    """Every candidate of `run` (naive, drift, networks, ensemble) with its evidence, in the rule's kind order."""
    versions = model_version_run_candidates(run=run)
    max_p = run_max_p(run)
    decision = rule_decision(versions, max_p=max_p)
    pick = decision.champion.version_row if decision is not None else None
    naive = run_naive(versions)
    rows = []
    for version in versions:
        test = version.test_metrics or {}
        coverage = test.get("coverage_80")
        rows.append(
            LeaderboardRow(
                version=version,
                label=kind_label(version.architecture),
                verdict=version_verdict(version, max_p=max_p),
                has_cv_evidence=has_cv_evidence(version),
                cv_rmae=version.cv_rmae if has_cv_evidence(version) else None,
                folds=fold_bars(version),
                p_value=version.p_value,
                test_rmae=test.get("rmae"),
                coverage_80_pct=percent_units(coverage),
                winkler_80=test.get("winkler_80"),
                champion=champion_note(version),
                rule_pick=pick is not None and pick.pk == version.pk,
                bands=band_evidence(version, naive=naive),
            )
        )
    return Leaderboard(
        run=run, rows=rows, max_p=max_p, decision=decision.reason if decision is not None else None, rule_pick=pick
    )
