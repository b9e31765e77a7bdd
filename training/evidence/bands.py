"""The bands' evidence: coverage per volatility regime and the interval scores of a version beside its run's naive
version, on CV and on the walk-forward test, its σ model and γ, and the CV choice that picked them.

What a version stores (training.ml.pipeline): `cv_metrics` and `test_metrics` carry coverage_80/95, width_80/95,
winkler_80/95, pinball, crps and coverage_by_regime (terciles of the 20-day realised volatility over the window:
{"calm"|"normal"|"volatile": {"n", "sigma_max", "coverage_80", "coverage_95", "width_80", "width_95"}});
`cv_metrics["interval_choice"]` is every σ model × γ replayed on CV with its scores (the lowest "score", Winkler
80% + 95%, won); `intervals` names the σ model and γ and, once live forecasts are scored, their live state.

"Naive's band" is always the same run's naive version: its bands were scored on exactly the same days. Versions
made before the bands were scored have none of these keys; everything here is then None or empty, never an error.

Modules: `band_windows` (one window's coverage per regime and interval scores beside naive's), `band_model` (the
CV choice of σ model × γ and the live state) and this one (a version's whole band evidence, its run's naive
version, and the naive interval keys the API carries).
"""

from __future__ import annotations

from dataclasses import dataclass

from goldsite.presentation.formatting import metric
from training.evidence.band_model import ChoiceRow, LiveState, interval_choice, live_state
from training.evidence.band_windows import WindowBands, window_bands
from training.evidence.stored import as_dict, finite
from training.evidence.verdicts import NAIVE, sigma_model_label
from training.ml.metrics import INTERVAL_METRIC_NAMES
from training.models import ModelVersion
from training.selectors import model_version_run_candidates

# The interval keys of a window's metrics (what `naive_intervals` in the API carries): the metrics' own names.
INTERVAL_KEYS = INTERVAL_METRIC_NAMES
# The σ models' short names for table cells (the full label is training.ml.volatility's).
SIGMA_SHORT = {"realised": "20-day realised", "ewma": "EWMA", "garch": "GARCH(1,1)", "constant": "none"}


@dataclass(frozen=True)
class BandEvidence:
    """A version's bands beside its run's naive version's."""

    version: ModelVersion
    naive: ModelVersion | None  # the same run's naive version (the version itself when it is naive)
    is_naive: bool
    sigma_model: str  # "EWMA volatility (RiskMetrics, λ = 0.94); adaptive conformal bands, γ = 0.01"
    volatility: str | None  # the σ model's kind
    gamma: float | None
    cv: WindowBands
    test: WindowBands
    choice: list[ChoiceRow]
    state: LiveState | None

    @property
    def recorded(self) -> bool:
        return self.cv.recorded or self.test.recorded

    @property
    def sigma_short(self) -> str:
        """ "EWMA, γ = 0.01" for a table cell ("20-day realised" for versions that did not record theirs)."""
        name = SIGMA_SHORT.get(self.volatility or "realised", self.volatility)
        return name if self.gamma is None else f"{name}, γ = {self.gamma:g}"

    @property
    def windows(self) -> list[WindowBands]:
        return [self.cv, self.test]

    @property
    def regime_rows(self) -> list[dict]:
        """[{"regime": "calm", "cv": RegimeCoverage, "test": RegimeCoverage}, …, {"regime": "all days", …}]"""
        rows = [
            {"regime": cv.regime, "cv": cv, "test": test}
            for cv, test in zip(self.cv.regimes, self.test.regimes, strict=True)
        ]
        return rows + [{"regime": "all days", "cv": self.cv.overall, "test": self.test.overall}]

    @property
    def score_rows(self) -> list[dict]:
        """[{"label": "Winkler interval score, 80% band", "cv": ScoreVsNaive, "test": ScoreVsNaive}, …]"""
        return [
            {"label": cv.label, "cv": cv, "test": test}
            for cv, test in zip(self.cv.scores, self.test.scores, strict=True)
        ]

    @property
    def chosen(self) -> ChoiceRow | None:
        return next((row for row in self.choice if row.chosen), None)

    @property
    def runner_up(self) -> ChoiceRow | None:
        return next((row for row in self.choice if not row.chosen), None)

    @property
    def choice_text(self) -> str:
        """ "EWMA … with γ = 0.01 had the lowest CV interval score (W80 + W95 = 295.0), 2.5 lower than the next best
        (20-day realised volatility, γ = 0)"; empty without a choice table."""
        chosen, runner_up = self.chosen, self.runner_up
        if chosen is None:
            return ""
        text = (
            f"{chosen.label} with γ = {chosen.gamma:g} had the lowest CV interval score "
            f"(W80 + W95 = {metric(chosen.score, ',.1f')}) of {len(self.choice)} σ model × γ pairs"
        )
        if runner_up is not None and runner_up.behind is not None:
            behind = metric(runner_up.behind, ",.1f")
            text += f", {behind} lower than the next best ({runner_up.label}, γ = {runner_up.gamma:g})"
        return text + "."


def run_naive(versions: list[ModelVersion]) -> ModelVersion | None:
    """The naive version among a run's candidates."""
    return next((v for v in versions if v.architecture == NAIVE), None)


def run_naive_of(version: ModelVersion) -> ModelVersion | None:
    """The naive version of `version`'s own training run (itself when it is naive); None without one."""
    if version.architecture == NAIVE:
        return version
    if version.training_run is None:
        return None
    return run_naive(model_version_run_candidates(run=version.training_run))


def run_naives(versions) -> dict[int, ModelVersion]:
    """{training run id: its naive version} for the runs of `versions`, in one query (the API's list pages)."""
    run_ids = {v.training_run_id for v in versions if v.training_run_id is not None}
    naives: dict[int, ModelVersion] = {}
    rows = ModelVersion.objects.filter(training_run_id__in=run_ids, architecture=NAIVE).order_by("-version")
    for naive in rows:
        naives.setdefault(naive.training_run_id, naive)
    return naives


def band_evidence(version: ModelVersion, *, naive: ModelVersion | None) -> BandEvidence:
    """`version`'s bands on CV and on the walk-forward test beside `naive`'s (its run's naive version)."""
    is_naive = version.architecture == NAIVE
    if is_naive:
        naive = version
    intervals = as_dict(version.intervals)
    return BandEvidence(
        version=version,
        naive=naive,
        is_naive=is_naive,
        sigma_model=sigma_model_label(version),
        volatility=intervals.get("volatility"),
        gamma=finite(intervals.get("gamma")),
        cv=window_bands(version.cv_metrics, naive and naive.cv_metrics, window="cv", is_naive=is_naive),
        test=window_bands(version.test_metrics, naive and naive.test_metrics, window="test", is_naive=is_naive),
        choice=interval_choice(version),
        state=live_state(version),
    )


def naive_intervals(naive: ModelVersion | None) -> dict | None:
    """The run naive's interval keys of each window, for the API: {"id", "label", "cv": {...}, "test": {...}}."""
    if naive is None:
        return None
    return {
        "id": naive.pk,
        "label": str(naive),
        **{
            window: {key: metrics[key] for key in INTERVAL_KEYS if key in metrics}
            for window, metrics in (("cv", naive.cv_metrics or {}), ("test", naive.test_metrics or {}))
        },
    }
