"""A version's verdict against naive in words, when a promotion by hand needs a reason, and the evidence table.

The numbers (the p, the metrics) are written by goldsite.presentation.formatting. See training.evidence for the
wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models

from goldsite.presentation.formatting import money, p_cell, p_text, pct, percent_units, ratio
from training.models import ModelVersion, TrainingRun
from training.selectors import model_version_champion

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
# What scaled the bands of versions registered before each version recorded its own σ model (`intervals`).
SIGMA_MODEL = "20-day realised volatility"


def sigma_model_label(version) -> str:
    """The σ_t model of a version's bands, in words, with the adaptive γ when it has one."""
    intervals = version.intervals or {}
    label = intervals.get("volatility_label") or SIGMA_MODEL
    gamma = intervals.get("gamma")
    if gamma:
        return f"{label}; adaptive conformal bands, γ = {gamma:g}"
    if "gamma" in intervals:
        return f"{label}; split-conformal bands (γ = 0)"
    return label


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


def promotion_review(*, version: ModelVersion) -> dict:
    """What a promotion page shows before it is confirmed (the models page and the admin): the version, the
    current champion and their evidence rows side by side."""
    current = model_version_champion()
    rows = promotion_evidence(version=version, current=current)
    return {"version": version, "current": current, "evidence_rows": rows}


def promotion_evidence(*, version: ModelVersion, current: ModelVersion | None) -> list[dict[str, str]]:
    """The evidence of a version about to be promoted, beside the current champion's: formatted rows
    {"label", "version", "current"} for the promotion pages (models page and admin)."""

    def column(v: ModelVersion | None) -> list[str]:
        if v is None:
            return [""] * len(labels)
        cv, test = (v.cv_metrics or {}), (v.test_metrics or {})
        evidence = has_cv_evidence(v)
        folds = " · ".join(ratio(f.get("rmae")) for f in cv.get("folds") or []) or "—"
        return [
            version_verdict(v).text,
            ratio(cv.get("rmae")) if evidence else "—",
            folds,
            p_cell(v.p_value),
            money(cv.get("mae")) if evidence else "—",
            money(test.get("mae")),
            ratio(test.get("rmae")),
            pct(percent_units(test.get("coverage_80")), 1),
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
