"""The bands of one window (the CV days or the walk-forward test) beside the same run's naive band: coverage
overall and per volatility tercile, and the interval scores (Winkler 80% and 95%, pinball, CRPS)."""

from __future__ import annotations

from dataclasses import dataclass

from goldsite.presentation.formatting import metric
from training.evidence.stored import CoverageBesideNaivePercents, as_dict, finite
from training.ml.metrics import REGIMES

# (key, short name for "W80 125.3 vs naive 125.4", long name, decimals)
SCORES = (
    ("winkler_80", "W80", "Winkler interval score, 80% band", 1),
    ("winkler_95", "W95", "Winkler interval score, 95% band", 1),
    ("pinball", "pinball", "Pinball loss at the band quantiles", 2),
    ("crps", "CRPS", "CRPS (from the band quantiles)", 2),
)
WINDOWS = (("cv", "Cross-validation"), ("test", "Walk-forward test"))
NO_BAND_SCORES = "no interval scores recorded (registered before the bands were scored)"


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
        spec = f",.{self.decimals}f"
        mine = f"{self.short} {metric(self.value, spec)}"
        if self.is_naive or self.naive is None or self.value is None:
            return mine
        return f"{mine} vs naive {metric(self.naive, spec)}"


@dataclass(frozen=True)
class RegimeCoverage(CoverageBesideNaivePercents):
    """What share of one volatility tercile's days the bands covered, beside naive's on those days."""

    regime: str
    n: int | None
    sigma_max: float | None
    coverage_80: float | None
    coverage_95: float | None
    naive_coverage_80: float | None
    naive_coverage_95: float | None


@dataclass(frozen=True)
class WindowBands(CoverageBesideNaivePercents):
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


def _regime_coverage(name: str, mine: dict, theirs: dict) -> RegimeCoverage:
    n = mine.get("n")
    return RegimeCoverage(
        regime=name,
        n=n if isinstance(n, int) else None,
        sigma_max=finite(mine.get("sigma_max")),
        coverage_80=finite(mine.get("coverage_80")),
        coverage_95=finite(mine.get("coverage_95")),
        naive_coverage_80=finite(theirs.get("coverage_80")),
        naive_coverage_95=finite(theirs.get("coverage_95")),
    )


def window_bands(metrics: dict | None, naive_metrics: dict | None, *, window: str, is_naive: bool) -> WindowBands:
    metrics, naive_metrics = as_dict(metrics), as_dict(naive_metrics)
    mine_by_regime = as_dict(metrics.get("coverage_by_regime"))
    naive_by_regime = as_dict(naive_metrics.get("coverage_by_regime"))
    scores = [
        ScoreVsNaive(
            key=key,
            short=short,
            label=long,
            value=finite(metrics.get(key)),
            naive=finite(naive_metrics.get(key)),
            decimals=decimals,
            is_naive=is_naive,
        )
        for key, short, long, decimals in SCORES
    ]
    return WindowBands(
        window=window,
        label=dict(WINDOWS)[window],
        recorded=bool(mine_by_regime) or any(score.value is not None for score in scores),
        coverage_80=finite(metrics.get("coverage_80")),
        coverage_95=finite(metrics.get("coverage_95")),
        naive_coverage_80=finite(naive_metrics.get("coverage_80")),
        naive_coverage_95=finite(naive_metrics.get("coverage_95")),
        regimes=[
            _regime_coverage(name, as_dict(mine_by_regime.get(name)), as_dict(naive_by_regime.get(name)))
            for name in REGIMES
        ],
        scores=scores,
    )
