"""What the evidence says, in words: the one wording shared by the models pages, the API, the admin and the dashboard.

A version's verdict compares it with naive ("tomorrow = today") by the one-sided Diebold–Mariano p of its pooled
rolling-origin CV errors (`cv_metrics["p_value"]`, see training.ml.evidence) and the threshold its training run
used (`params["max_p"]`, else `settings.CHAMPION_MAX_P`):

    naive itself                          "the baseline"
    p < max_p                             "beats naive (p = 0.03)"
    p ≥ max_p                             "no evidence it beats naive (p = 0.41)"
    made before the rolling-origin CV     "no CV evidence (trained before the rolling-origin protocol)"

Promoting a version by hand needs a written reason when its p is not below `settings.CHAMPION_MAX_P` or it has no
CV evidence at all; naive never does (it is the fallback the rule itself chooses). The champion rule is
training.ml.selection's, applied here to the stored metrics of a run's versions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.db import models

from forecasts.templatetags.goldsite_format import money, pct, ratio
from training.ml.kinds import KINDS
from training.ml.selection import Decision, select_champion
from training.models import ChampionChange, ModelVersion, TrainingRun
from training.selectors import champion_change_latest, model_version_run_candidates

NAIVE = ModelVersion.Architecture.NAIVE
NAIVE_IN_WORDS = "'tomorrow = today'"
NO_CV_EVIDENCE = "no CV evidence (trained before the rolling-origin protocol)"
# Short names for sentences and table cells ("best candidate LSTM").
KIND_LABELS = {
    "naive": "Naive",
    "drift": "Drift",
    "mlp": "MLP",
    "cnn": "CNN",
    "lstm": "LSTM",
    "ensemble": "Ensemble",
}
# What scales every version's conformal bands (training.ml.conformal: σ_t is the gold_vol_20 feature) until versions
# record a σ model of their own.
SIGMA_MODEL = "20-day realised volatility"
# The per-fold bars: one step per percent of rMAE away from 1 (naive), drawn up to FOLD_BAR_STEPS.
FOLD_BAR_STEPS = 10


class VerdictCode(models.TextChoices):
    BASELINE = "baseline", "The naive baseline itself"
    BEATS_NAIVE = "beats_naive", "p below the run's max_p: evidence it beats naive"
    NO_EVIDENCE = "no_evidence", "p at or above max_p: no evidence it beats naive"
    NO_CV_EVIDENCE = "no_cv_evidence", "Trained before the rolling-origin protocol: no CV evidence"


@dataclass(frozen=True)
class Verdict:
    code: str
    text: str
    p_value: float | None
    max_p: float

    @property
    def beats_naive(self) -> bool:
        return self.code == VerdictCode.BEATS_NAIVE


def kind_label(architecture: str) -> str:
    return KIND_LABELS.get(architecture, architecture)


def p_text(p: float) -> str:
    """ "p = 0.41": two significant digits, at least two decimals (0.031 -> "p = 0.031", 0.03 -> "p = 0.03")."""
    if not math.isfinite(p):
        return "p unknown"
    if p < 0.001:
        return "p < 0.001"
    decimals = max(2, 1 - math.floor(math.log10(p)))
    whole, _, fraction = f"{p:.{decimals}f}".partition(".")
    return f"p = {whole}.{fraction.rstrip('0').ljust(2, '0')}"


def has_cv_evidence(version: ModelVersion) -> bool:
    """Whether the version was evaluated by the rolling-origin protocol: pooled and per-fold CV metrics stored, and
    (except for naive) the Diebold–Mariano p against naive."""
    metrics = version.cv_metrics or {}
    if metrics.get("mae") is None or not metrics.get("folds"):
        return False
    return version.architecture == NAIVE or metrics.get("p_value") is not None


def run_max_p(run: TrainingRun | None) -> float:
    """The p threshold a run's champion rule used; the current setting for runs that did not record one."""
    if run is not None and run.params.get("max_p") is not None:
        return float(run.params["max_p"])
    return float(settings.CHAMPION_MAX_P)


def version_verdict(version: ModelVersion, *, max_p: float | None = None) -> Verdict:
    """The version's verdict against naive, at `max_p` (default: its training run's)."""
    threshold = run_max_p(version.training_run) if max_p is None else max_p
    if version.architecture == NAIVE:
        return Verdict(code=VerdictCode.BASELINE, text="the baseline", p_value=None, max_p=threshold)
    p = version.p_value
    if not has_cv_evidence(version):
        return Verdict(code=VerdictCode.NO_CV_EVIDENCE, text=NO_CV_EVIDENCE, p_value=None, max_p=threshold)
    if p < threshold:
        return Verdict(code=VerdictCode.BEATS_NAIVE, text=f"beats naive ({p_text(p)})", p_value=p, max_p=threshold)
    return Verdict(
        code=VerdictCode.NO_EVIDENCE, text=f"no evidence it beats naive ({p_text(p)})", p_value=p, max_p=threshold
    )


def promotion_reason_needed(version: ModelVersion) -> str | None:
    """Why promoting `version` by hand needs a written reason, or None when it does not.

    Naive never needs one. Any other version needs one unless its CV p is below `settings.CHAMPION_MAX_P`.
    """
    verdict = version_verdict(version, max_p=float(settings.CHAMPION_MAX_P))
    if verdict.code in (VerdictCode.BASELINE, VerdictCode.BEATS_NAIVE):
        return None
    if verdict.code == VerdictCode.NO_CV_EVIDENCE:
        why = f"{version} has {NO_CV_EVIDENCE}"
    else:
        why = f"{version} has no evidence it beats naive ({p_text(verdict.p_value)} ≥ {verdict.max_p:g})"
    return f"A reason is required: {why}. Say why it should be the champion anyway."


def promotion_evidence(*, version: ModelVersion, current: ModelVersion | None) -> list[dict[str, str]]:
    """The evidence of a version about to be promoted, beside the current champion's: formatted rows
    {"label", "version", "current"} for the promotion pages (models page and admin)."""

    def column(v: ModelVersion | None) -> list[str]:
        if v is None:
            return [""] * len(labels)
        cv, test = (v.cv_metrics or {}), (v.test_metrics or {})
        evidence = has_cv_evidence(v)
        folds = " · ".join(ratio(f.get("rmae")) for f in cv.get("folds") or []) or "—"
        coverage = test.get("coverage_80")
        return [
            version_verdict(v).text,
            ratio(cv.get("rmae")) if evidence else "—",
            folds,
            "—" if v.p_value is None else f"{v.p_value:.3f}",
            money(cv.get("mae")) if evidence else "—",
            money(test.get("mae")),
            ratio(test.get("rmae")),
            pct(None if coverage is None else coverage * 100.0, 1),
            money(test.get("winkler_80")),
        ]

    labels = [
        "Verdict against naive",
        "CV relative MAE (pooled)",
        "CV relative MAE per fold",
        "p vs naive (Diebold–Mariano, CV)",
        "CV MAE (pooled)",
        "Test MAE",
        "Test relative MAE",
        "Test 80% coverage",
        "Test interval score 80%",
    ]
    return [
        {"label": label, "version": mine, "current": theirs}
        for label, mine, theirs in zip(labels, column(version), column(current), strict=True)
    ]


# --- The champion and the rule ------------------------------------------------------------------------------


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
        value = "—" if self.rmae is None else f"{self.rmae:.3f}"
        return f"Fold {self.fold} ({self.start} to {self.end}): rMAE {value}"


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
                coverage_80_pct=None if coverage is None else coverage * 100.0,
                winkler_80=test.get("winkler_80"),
                champion=champion_note(version),
                rule_pick=pick is not None and pick.pk == version.pk,
            )
        )
    return Leaderboard(
        run=run, rows=rows, max_p=max_p, decision=decision.reason if decision is not None else None, rule_pick=pick
    )
