"""The bands' evidence: coverage per volatility regime and the interval scores of a version beside its run's naive
version, on CV and on the walk-forward test, its σ model and γ, and the CV choice that picked them.

What a version stores (training.ml.pipeline): `cv_metrics` and `test_metrics` carry coverage_80/95, width_80/95,
winkler_80/95, pinball, crps and coverage_by_regime (terciles of the 20-day realised volatility over the window:
{"calm"|"normal"|"volatile": {"n", "sigma_max", "coverage_80", "coverage_95", "width_80", "width_95"}});
`cv_metrics["interval_choice"]` is every σ model × γ replayed on CV with its scores (the lowest "score", Winkler
80% + 95%, won); `intervals` names the σ model and γ and, once live forecasts are scored, their live state.

"Naive's band" is always the same run's naive version: its bands were scored on exactly the same days. Versions
made before the bands were scored have none of these keys; everything here is then None or empty, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from training.evidence.verdicts import NAIVE, sigma_model_label
from training.ml.intervals import LEVELS
from training.ml.metrics import REGIMES
from training.ml.volatility import VOLATILITY_MODELS
from training.models import ModelVersion
from training.selectors import model_version_run_candidates

# The interval keys of a window's metrics (what `naive_intervals` in the API carries).
INTERVAL_KEYS = (
    "coverage_80",
    "coverage_95",
    "width_80",
    "width_95",
    "winkler_80",
    "winkler_95",
    "pinball",
    "crps",
    "coverage_by_regime",
)
# (key, short name for "W80 125.3 vs naive 125.4", long name, decimals)
SCORES = (
    ("winkler_80", "W80", "Winkler interval score, 80% band", 1),
    ("winkler_95", "W95", "Winkler interval score, 95% band", 1),
    ("pinball", "pinball", "Pinball loss at the band quantiles", 2),
    ("crps", "CRPS", "CRPS (from the band quantiles)", 2),
)
WINDOWS = (("cv", "Cross-validation"), ("test", "Walk-forward test"))
# The σ models' short names for table cells (the full label is training.ml.volatility's).
SIGMA_SHORT = {"realised": "20-day realised", "ewma": "EWMA", "garch": "GARCH(1,1)", "constant": "none"}
NO_BAND_SCORES = "no interval scores recorded (registered before the bands were scored)"


def _finite(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _number(value: float | None, decimals: int) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


@dataclass(frozen=True)
class ScoreVsNaive:
    """One interval score of a window beside the same run's naive band on the same days (lower is better)."""

    key: str
    short: str
    label: str
    value: float | None
    naive: float | None
    decimals: int
    is_naive: bool  # the version is the naive one itself

    @property
    def better(self) -> bool | None:
        """Whether the version's band scores better (lower) than naive's; None when either is missing."""
        if self.is_naive or self.value is None or self.naive is None:
            return None
        return self.value < self.naive

    @property
    def text(self) -> str:
        """ "W80 125.3 vs naive 125.4" ("W80 125.4" for naive itself, "W80 —" when not recorded)."""
        mine = f"{self.short} {_number(self.value, self.decimals)}"
        if self.is_naive or self.naive is None or self.value is None:
            return mine
        return f"{mine} vs naive {_number(self.naive, self.decimals)}"


@dataclass(frozen=True)
class RegimeCoverage:
    """What share of one volatility tercile's days the bands covered, beside naive's on those days."""

    regime: str
    n: int | None
    sigma_max: float | None
    coverage_80: float | None
    coverage_95: float | None
    naive_coverage_80: float | None
    naive_coverage_95: float | None

    @property
    def coverage_80_pct(self) -> float | None:
        return None if self.coverage_80 is None else self.coverage_80 * 100.0

    @property
    def coverage_95_pct(self) -> float | None:
        return None if self.coverage_95 is None else self.coverage_95 * 100.0

    @property
    def naive_coverage_80_pct(self) -> float | None:
        return None if self.naive_coverage_80 is None else self.naive_coverage_80 * 100.0

    @property
    def naive_coverage_95_pct(self) -> float | None:
        return None if self.naive_coverage_95 is None else self.naive_coverage_95 * 100.0


@dataclass(frozen=True)
class WindowBands:
    """The bands of one window (CV days or the walk-forward test) beside naive's."""

    window: str  # "cv" | "test"
    label: str
    recorded: bool  # whether the version stored interval scores for this window
    coverage_80: float | None
    coverage_95: float | None
    naive_coverage_80: float | None
    naive_coverage_95: float | None
    regimes: list[RegimeCoverage]  # calm, normal, volatile (their numbers None when not recorded)
    scores: list[ScoreVsNaive]  # Winkler 80, Winkler 95, pinball, CRPS

    @property
    def coverage_80_pct(self) -> float | None:
        return None if self.coverage_80 is None else self.coverage_80 * 100.0

    @property
    def coverage_95_pct(self) -> float | None:
        return None if self.coverage_95 is None else self.coverage_95 * 100.0

    @property
    def naive_coverage_80_pct(self) -> float | None:
        return None if self.naive_coverage_80 is None else self.naive_coverage_80 * 100.0

    @property
    def naive_coverage_95_pct(self) -> float | None:
        return None if self.naive_coverage_95 is None else self.naive_coverage_95 * 100.0

    @property
    def overall(self) -> RegimeCoverage:
        """Every day of the window, as one more row beside the terciles."""
        n = sum(r.n for r in self.regimes if r.n is not None) or None
        return RegimeCoverage(
            regime="all days",
            n=n,
            sigma_max=None,
            coverage_80=self.coverage_80,
            coverage_95=self.coverage_95,
            naive_coverage_80=self.naive_coverage_80,
            naive_coverage_95=self.naive_coverage_95,
        )

    @property
    def missing_text(self) -> str:
        return NO_BAND_SCORES[:1].upper() + NO_BAND_SCORES[1:]

    @property
    def has_regimes(self) -> bool:
        return any(r.coverage_80 is not None or r.coverage_95 is not None for r in self.regimes)

    def score(self, key: str) -> ScoreVsNaive:
        return next(s for s in self.scores if s.key == key)

    @property
    def summary(self) -> str:
        """ "W80 125.3 vs naive 125.4 · W95 … · pinball … · CRPS …" """
        return " · ".join(score.text for score in self.scores)


def window_bands(metrics: dict | None, naive_metrics: dict | None, *, window: str, is_naive: bool) -> WindowBands:
    metrics, naive_metrics = _dict(metrics), _dict(naive_metrics)
    label = dict(WINDOWS)[window]
    mine_by_regime = _dict(metrics.get("coverage_by_regime"))
    naive_by_regime = _dict(naive_metrics.get("coverage_by_regime"))
    recorded = bool(mine_by_regime) or any(_finite(metrics.get(key)) is not None for key, *_ in SCORES)
    regimes = []
    for name in REGIMES:
        mine, theirs = _dict(mine_by_regime.get(name)), _dict(naive_by_regime.get(name))
        n = mine.get("n")
        regimes.append(
            RegimeCoverage(
                regime=name,
                n=n if isinstance(n, int) else None,
                sigma_max=_finite(mine.get("sigma_max")),
                coverage_80=_finite(mine.get("coverage_80")),
                coverage_95=_finite(mine.get("coverage_95")),
                naive_coverage_80=_finite(theirs.get("coverage_80")),
                naive_coverage_95=_finite(theirs.get("coverage_95")),
            )
        )
    scores = [
        ScoreVsNaive(
            key=key,
            short=short,
            label=long,
            value=_finite(metrics.get(key)),
            naive=_finite(naive_metrics.get(key)),
            decimals=decimals,
            is_naive=is_naive,
        )
        for key, short, long, decimals in SCORES
    ]
    return WindowBands(
        window=window,
        label=label,
        recorded=recorded,
        coverage_80=_finite(metrics.get("coverage_80")),
        coverage_95=_finite(metrics.get("coverage_95")),
        naive_coverage_80=_finite(naive_metrics.get("coverage_80")),
        naive_coverage_95=_finite(naive_metrics.get("coverage_95")),
        regimes=regimes,
        scores=scores,
    )


@dataclass(frozen=True)
class ChoiceRow:
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

    @property
    def coverage_80_pct(self) -> float | None:
        return None if self.coverage_80 is None else self.coverage_80 * 100.0

    @property
    def coverage_95_pct(self) -> float | None:
        return None if self.coverage_95 is None else self.coverage_95 * 100.0


def interval_choice(version: ModelVersion) -> list[ChoiceRow]:
    """The CV `interval_choice` table, best first: the lowest score won (ties to the earlier, simpler row, as
    training.ml.intervals.choose_interval_model breaks them)."""
    table = [row for row in _dict(version.cv_metrics).get("interval_choice") or [] if isinstance(row, dict)]
    scored = [(i, row) for i, row in enumerate(table) if _finite(row.get("score")) is not None]
    if not scored:
        return []
    winner_index = min(scored, key=lambda item: (item[1]["score"], item[0]))[0]
    best = table[winner_index]["score"]
    rows = []
    for i, row in sorted(scored, key=lambda item: (item[1]["score"], item[0])):
        kind = str(row.get("volatility", "?"))
        model = VOLATILITY_MODELS.get(kind)
        gamma = _finite(row.get("gamma"))
        rows.append(
            ChoiceRow(
                volatility=kind,
                label=model.label if model is not None else kind,
                gamma=0.0 if gamma is None else gamma,
                winkler_80=_finite(row.get("winkler_80")),
                winkler_95=_finite(row.get("winkler_95")),
                coverage_80=_finite(row.get("coverage_80")),
                coverage_95=_finite(row.get("coverage_95")),
                score=_finite(row.get("score")),
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
    state = _dict(version.intervals).get("state")
    if not isinstance(state, dict) or not isinstance(state.get("alpha"), dict):
        return None
    alpha = {key: float(value) for key, value in state["alpha"].items() if _finite(value) is not None}
    held = {key: int(value) for key, value in _dict(state.get("held")).items() if isinstance(value, int)}
    return LiveState(
        days=int(state.get("days") or 0),
        through=state.get("through"),
        alpha=alpha,
        nominal=dict(LEVELS),
        held=held,
    )


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
            f"(W80 + W95 = {_number(chosen.score, 1)}) of {len(self.choice)} σ model × γ pairs"
        )
        if runner_up is not None and runner_up.behind is not None:
            text += f", {runner_up.behind:,.1f} lower than the next best ({runner_up.label}, γ = {runner_up.gamma:g})"
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
    intervals = _dict(version.intervals)
    return BandEvidence(
        version=version,
        naive=naive,
        is_naive=is_naive,
        sigma_model=sigma_model_label(version),
        volatility=intervals.get("volatility"),
        gamma=_finite(intervals.get("gamma")),
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
