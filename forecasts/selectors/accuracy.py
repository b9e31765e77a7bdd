"""Live accuracy: the champion against the naive forecast on the same scored days, with the evidence and the bands.

Shared by the API (`/api/accuracy/`) and the dashboard's accuracy card; returns plain dicts of numbers.
Only `live` forecasts count as live: late ones (made after their target close was stored, see
`forecasts.selectors.live_record`) never do.
"""

from __future__ import annotations

from statistics import fmean

from django.conf import settings

from forecasts.exceptions import NO_CHAMPION_YET, ForecastError
from forecasts.models import Forecast
from forecasts.selectors.bands import live_band_record
from forecasts.selectors.naive import naive_forecasts_by_day
from goldsite.presentation.formatting import p_short
from training.models import ModelVersion
from training.selectors import model_version_champion

ACCURACY_WINDOWS = (20, 60, 250)
# Scored live days (paired with naive) before the live record's rMAE and Diebold–Mariano p are reported.
LIVE_EVIDENCE_MIN = 20


def forecast_accuracy(*, window: int) -> dict:
    """The champion against the naive forecast over the last `window` (20, 60 or 250) scored target days.

    Uses the champion's scored live forecasts paired with naive live forecasts of the same days (late ones are
    never among them). When fewer than `window` such pairs exist, it uses the champion's backtest (its test
    window, paired with the naive version's backtest on the same days) instead and says so in `source` and
    `note`; with no backtest either, the live pairs there are. Returns::

        {"window": 20, "source": "live" | "backtest" | None, "n": 20, "live_n": 7, "note": "...",
         "start": date | None, "end": date | None, "rmae": float | None,
         "champion": {"id", "label", "architecture", "n", "mae", "mape", "direction_hit_rate", "coverage_80"} | None,
         "naive": {... the same keys} | None,
         "evidence": {... see live_evidence},
         "bands": {... see forecasts.selectors.bands.live_band_record}}

    `mae` is in dollars, `mape` in percent, `direction_hit_rate` and `coverage_80` are fractions (0-1);
    `direction_hit_rate` is None for the naive model, which never calls a direction. `rmae` is the champion's
    MAE divided by the naive MAE on the same days (below 1: the champion beats "tomorrow = today").
    `evidence` is always about the live pairs, whatever `source` is; so is `bands`, the champion's live bands
    over its last `window` scored live days (whether they held, per volatility regime, Winkler 80% against naive).
    """
    if window not in ACCURACY_WINDOWS:
        raise ForecastError(f"The window must be one of {', '.join(map(str, ACCURACY_WINDOWS))} trading days.")
    champion = model_version_champion()
    result = {
        "window": window,
        "source": None,
        "n": 0,
        "live_n": 0,
        "note": "",
        "start": None,
        "end": None,
        "rmae": None,
        "champion": None,
        "naive": None,
        "evidence": live_evidence([], champion=champion),
        "bands": live_band_record(champion=champion, window=window),
    }
    if champion is None:
        return {**result, "note": NO_CHAMPION_YET}

    live = _scored_pairs(champion=champion, kind=Forecast.Kind.LIVE, window=window)
    source, pairs, note = _compared_days(live, champion=champion, window=window)
    result.update(live_n=len(live), note=note, evidence=live_evidence(live, champion=champion))
    if not pairs:
        return {**result, "note": "No scored days forecast by both the champion and the naive model yet."}

    champion_metrics = _metrics([c for c, _ in pairs], version=champion)
    naive_metrics = _metrics([n for _, n in pairs], version=pairs[-1][1].model_version)
    naive_mae = naive_metrics["mae"]
    return {
        **result,
        "source": str(source),
        "n": len(pairs),
        "start": pairs[0][0].target_date,
        "end": pairs[-1][0].target_date,
        "rmae": champion_metrics["mae"] / naive_mae if naive_mae else None,
        "champion": champion_metrics,
        "naive": naive_metrics,
    }


def _compared_days(
    live: list[tuple[Forecast, Forecast]], *, champion: ModelVersion, window: int
) -> tuple[str, list[tuple[Forecast, Forecast]], str]:
    """(source, pairs, note): the live pairs once there are `window` of them, else the champion's backtest beside
    the naive version's when it has one (saying so), else the few live pairs there are."""
    if len(live) >= window:
        return Forecast.Kind.LIVE, live, ""
    so_far = f"Only {len(live)} scored live forecast{'s' if len(live) != 1 else ''} so far"
    backtest = _scored_pairs(champion=champion, kind=Forecast.Kind.BACKTEST, window=window)
    if backtest:
        note = f"{so_far}; showing the champion's backtest (its last {len(backtest)} test days) instead."
        return Forecast.Kind.BACKTEST, backtest, note
    return Forecast.Kind.LIVE, live, f"{so_far}." if live else ""


def live_evidence(pairs: list[tuple[Forecast, Forecast]], *, champion: ModelVersion | None) -> dict:
    """Whether the champion's live record beats naive: its rMAE and a Diebold–Mariano p over the live days.

    `pairs` are (champion, naive) scored live forecasts of the same days. From LIVE_EVIDENCE_MIN pairs on, the
    answer carries the champion's MAE / naive MAE over those days and the one-sided Diebold–Mariano test that
    its absolute errors are smaller (`training.ml.evidence`, as for choosing a champion); below, only how
    many there are. Returns::

        {"n": 12, "required": 20, "start": date | None, "end": date | None, "rmae": float | None,
         "p_value": float | None, "dm_statistic": float | None, "dm_lag": int | None,
         "beats_naive": bool | None, "note": "12 live forecasts scored; evidence needs 20."}

    `beats_naive` is p < settings.CHAMPION_MAX_P. A naive champion has rMAE 1 and nothing to test (p None).
    """
    n = len(pairs)
    evidence = {
        "n": n,
        "required": LIVE_EVIDENCE_MIN,
        "start": pairs[0][0].target_date if pairs else None,
        "end": pairs[-1][0].target_date if pairs else None,
        "rmae": None,
        "p_value": None,
        "dm_statistic": None,
        "dm_lag": None,
        "beats_naive": None,
    }
    if champion is None:
        return {**evidence, "note": NO_CHAMPION_YET}
    if n < LIVE_EVIDENCE_MIN:
        return {
            **evidence,
            "note": f"{n} live forecast{'s' if n != 1 else ''} scored; evidence needs {LIVE_EVIDENCE_MIN}.",
        }
    champion_errors = [abs(c.error) for c, _ in pairs]
    naive_errors = [abs(n.error) for _, n in pairs]
    naive_mae = fmean(naive_errors)
    rmae = fmean(champion_errors) / naive_mae if naive_mae else None
    days = f"over its last {n} live days ({evidence['start'].isoformat()} to {evidence['end'].isoformat()})"
    if champion.architecture == ModelVersion.Architecture.NAIVE:
        return {**evidence, "rmae": rmae, "note": f"The champion is the naive forecast itself; nothing to test {days}."}

    from training.ml.evidence import diebold_mariano  # numpy and scipy: only on this path

    test = diebold_mariano(champion_errors, naive_errors)
    beats = test.p_value < settings.CHAMPION_MAX_P
    verdict = "beats naive" if beats else "no evidence it beats naive"
    rmae_text = "n/a" if rmae is None else f"{rmae:.3f}"
    return {
        **evidence,
        "rmae": rmae,
        "p_value": test.p_value,
        "dm_statistic": test.statistic,
        "dm_lag": test.lag,
        "beats_naive": beats,
        "note": f"Live record {days}: rMAE {rmae_text}, {verdict} (Diebold–Mariano {p_short(test.p_value)}).",
    }


def _scored_pairs(*, champion: ModelVersion, kind: str, window: int) -> list[tuple[Forecast, Forecast]]:
    """(champion, naive) scored forecasts of the same target days: the last `window` of them, oldest first."""
    champion_rows = (
        Forecast.objects.scored()
        .filter(model_version=champion, kind=kind)
        .select_related("model_version")
        .order_by("-target_date")
    )
    if champion.architecture == ModelVersion.Architecture.NAIVE:
        rows = list(champion_rows[:window])
        return [(row, row) for row in reversed(rows)]

    naive_by_day = naive_forecasts_by_day(champion=champion, kind=kind, days=champion_rows.values("target_date"))
    pairs = []
    for row in champion_rows.iterator():
        naive = naive_by_day.get(row.target_date)
        if naive is not None:
            pairs.append((row, naive))
            if len(pairs) == window:
                break
    return pairs[::-1]


def _metrics(rows: list[Forecast], *, version: ModelVersion) -> dict:
    calls = [row.direction_hit for row in rows if row.direction_hit is not None]
    return {
        "id": version.pk,
        "label": str(version),
        "architecture": version.architecture,
        "n": len(rows),
        "mae": fmean(abs(row.error) for row in rows),
        "mape": fmean(row.abs_pct_error for row in rows),
        "direction_hit_rate": sum(calls) / len(calls) if calls else None,
        "coverage_80": fmean(1.0 if row.inside_80 else 0.0 for row in rows),
    }
