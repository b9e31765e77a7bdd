"""The live band record: whether the champion's 80% and 95% bands held on its scored live days.

Over the champion's last `window` scored live forecasts (late ones never count, see
`forecasts.selectors.live_record`): on how many days the close fell inside each band, the coverage on the calm,
normal and volatile third of those days (terciles of the 20-day realised volatility at each forecast's as-of day,
computed from the stored gold closes with `training.ml.volatility.Realised` and split as the training metrics
split them, `training.ml.metrics.coverage_by_regime`), the champion's Winkler score of the 80% band beside naive's
over the days both forecast live, and the adaptive bands' state (`ModelVersion.intervals["state"]`).

"Held" means the day's close fell inside the band. A band that holds covers about 80% (95%) of the days in every
regime; the adaptive rule widens the next bands after a miss and narrows them after a run of hits.

Shared by `/api/accuracy/` and the dashboard's accuracy card (`forecasts.selectors.accuracy.forecast_accuracy`
adds it as "bands"); plain dicts of numbers.
"""

from __future__ import annotations

import datetime as dt

from forecasts.exceptions import NO_CHAMPION_YET
from forecasts.models import Forecast
from forecasts.selectors.naive import naive_forecasts_by_day
from forecasts.selectors.prices import price_closes_frame
from training.models import ModelVersion

LEVELS = ("80", "95")
REGIMES = ("calm", "normal", "volatile")


def live_band_record(*, champion: ModelVersion | None, window: int) -> dict:
    """The champion's live bands over its last `window` scored live days. Returns::

        {"window": 20, "n": 20, "start": date | None, "end": date | None,
         "held_80": 17, "held_95": 19, "coverage_80": 0.85 | None, "coverage_95": 0.95 | None,
         "by_regime": {"calm" | "normal" | "volatile": {"n", "sigma_max", "coverage_80", "coverage_95",
                       "width_80", "width_95"}},
         "winkler_80": float | None, "naive_winkler_80": float | None, "winkler_n": 18,
         "state": {"volatility", "volatility_label", "gamma", "alpha0", "alpha", "days", "held", "through"} | None,
         "calibration": {"source": "live" | "backtest" | None, "n": int, "by_regime": {...}, "note": "..."},
         "text": "The 80% band held on 17 of the last 20 days (95%: 19 of 20)."}

    `by_regime` is empty with fewer than three distinct volatilities (or none known). `winkler_80` and
    `naive_winkler_80` (dollars, lower is better) are over the `winkler_n` of those days naive also forecast live.
    `calibration` is what the card's calibration chart draws: the live per-regime coverage once `window` live days
    are scored, else the walk-forward test's (the champion's `test_metrics["coverage_by_regime"]`), and says which.
    """
    record = {
        "window": window,
        "n": 0,
        "start": None,
        "end": None,
        "held_80": 0,
        "held_95": 0,
        "coverage_80": None,
        "coverage_95": None,
        "by_regime": {},
        "winkler_80": None,
        "naive_winkler_80": None,
        "winkler_n": 0,
        "state": None,
        "calibration": {"source": None, "n": 0, "by_regime": {}, "note": ""},
        "text": NO_CHAMPION_YET,
    }
    if champion is None:
        return record
    rows = list(Forecast.objects.scored().live().filter(model_version=champion).order_by("-target_date")[:window])[::-1]
    n = len(rows)
    record.update(n=n, state=band_state(champion), text=held_text(rows, window=window))
    if rows:
        held = {key: sum(bool(getattr(row, f"inside_{key}")) for row in rows) for key in LEVELS}
        record.update(
            start=rows[0].target_date,
            end=rows[-1].target_date,
            held_80=held["80"],
            held_95=held["95"],
            coverage_80=held["80"] / n,
            coverage_95=held["95"] / n,
            by_regime=regime_coverage(rows),
        )
        record.update(_winkler_against_naive(rows, champion=champion))
    record["calibration"] = _calibration(record, champion=champion)
    return record


def held_text(rows: list[Forecast], *, window: int) -> str:
    """ "The 80% band held on 17 of the last 20 days (95%: 19 of 20)."; below `window` days it says how few."""
    n = len(rows)
    if n == 0:
        return "No live forecast of the champion has been scored yet, so its bands have no live record."
    held = {key: sum(bool(getattr(row, f"inside_{key}")) for row in rows) for key in LEVELS}
    if n < window:
        return (
            f"Only {n} scored live day{'s' if n != 1 else ''} so far (fewer than the {window} of this window): "
            f"the 80% band held on {held['80']} of {n} (95%: {held['95']} of {n})."
        )
    return f"The 80% band held on {held['80']} of the last {n} days (95%: {held['95']} of {n})."


def regime_coverage(rows: list[Forecast]) -> dict[str, dict]:
    """Coverage of the stored bands on the calm, normal and volatile third of `rows` (terciles of the 20-day
    realised volatility at each as-of day); rows whose as-of day has no stored close are left out."""
    import numpy as np

    from training.ml.metrics import coverage_by_regime

    sigma = realised_volatility(days=[row.as_of_date for row in rows])
    known = [(row, sigma[row.as_of_date]) for row in rows if row.as_of_date in sigma]
    if not known:
        return {}
    inside = {key: np.array([bool(getattr(row, f"inside_{key}")) for row, _ in known]) for key in LEVELS}
    bands = {
        key: (
            np.array([getattr(row, f"lower_{key}") for row, _ in known], dtype=float),
            np.array([getattr(row, f"upper_{key}") for row, _ in known], dtype=float),
        )
        for key in LEVELS
    }
    return coverage_by_regime(np.array([value for _, value in known], dtype=float), inside, bands)


def realised_volatility(*, days: list[dt.date]) -> dict[dt.date, float]:
    """σ_t of each of `days`: the 20-day realised volatility of gold log returns up to that day's close, from the
    stored closes (`price_closes_frame`, the days the model reads), with `training.ml.volatility.Realised`."""
    if not days:
        return {}
    from training.ml.volatility import Realised, gold_log_returns

    frame = price_closes_frame(end=max(days))
    if frame.empty:
        return {}
    position = {stamp.date(): i for i, stamp in enumerate(frame.index)}
    wanted = sorted({day for day in days if position.get(day, 0) >= 1})  # a return into the day is needed
    if not wanted:
        return {}
    returns = gold_log_returns(frame["gold"].to_numpy())
    sigmas = Realised().sigma(returns, [position[day] for day in wanted])
    return dict(zip(wanted, (float(value) for value in sigmas), strict=True))


def band_state(version: ModelVersion) -> dict | None:
    """The adaptive bands' state of `version`: where the walk-forward replay left α (alpha0) and α after its
    scored live days (the scoring step's `intervals["state"]`, else alpha0); None for bands that are not adaptive."""
    intervals = version.intervals or {}
    if "alpha0" not in intervals:
        return None
    state = intervals.get("state") or {}
    return {
        "volatility": intervals.get("volatility"),
        "volatility_label": intervals.get("volatility_label"),
        "gamma": intervals.get("gamma"),
        "alpha0": intervals["alpha0"],
        "alpha": state.get("alpha") or intervals["alpha0"],
        "days": state.get("days", 0),
        "held": state.get("held") or {key: 0 for key in LEVELS},
        "through": state.get("through"),
    }


def _winkler_against_naive(rows: list[Forecast], *, champion: ModelVersion) -> dict:
    """The champion's and naive's Winkler score of the 80% band over the days of `rows` both forecast live."""
    if champion.architecture == ModelVersion.Architecture.NAIVE:
        pairs = [(row, row) for row in rows]
    else:
        naive = naive_forecasts_by_day(
            champion=champion, kind=Forecast.Kind.LIVE, days=[row.target_date for row in rows]
        )
        pairs = [(row, naive[row.target_date]) for row in rows if row.target_date in naive]
    if not pairs:
        return {"winkler_80": None, "naive_winkler_80": None, "winkler_n": 0}
    from training.ml.metrics import winkler

    def score(side: int) -> float:
        chosen = [pair[side] for pair in pairs]
        return winkler(
            [row.actual_close for row in chosen],
            [row.lower_80 for row in chosen],
            [row.upper_80 for row in chosen],
            80,
        )

    return {"winkler_80": score(0), "naive_winkler_80": score(1), "winkler_n": len(pairs)}


def _calibration(record: dict, *, champion: ModelVersion) -> dict:
    """What the calibration chart draws: live per-regime coverage from `window` live days on, else the test's."""
    n, window = record["n"], record["window"]
    if n >= window and record["by_regime"]:
        return {
            "source": "live",
            "n": n,
            "by_regime": record["by_regime"],
            "note": f"Observed coverage on the calm, normal and volatile third of the last {n} live days.",
        }
    test = champion.test_metrics or {}
    by_regime = test.get("coverage_by_regime") or {}
    few = (
        f"Only {n} scored live day{'s' if n != 1 else ''} (fewer than {window})"
        if n < window
        else "No volatility known for the live days"
    )
    if isinstance(by_regime, dict) and by_regime:
        test_n = test.get("n") or sum(int(r.get("n") or 0) for r in by_regime.values() if isinstance(r, dict))
        return {
            "source": "backtest",
            "n": test_n,
            "by_regime": by_regime,
            "note": f"{few}: showing the walk-forward test's coverage per regime instead ({test_n} test days).",
        }
    return {"source": None, "n": 0, "by_regime": {}, "note": f"{few}, and no walk-forward coverage per regime stored."}
