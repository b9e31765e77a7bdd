"""The live state of a version's adaptive bands (adaptive conformal inference, `training.ml.intervals`).

α_t of each level is the version's starting state α_0 (where its walk-forward replay ended) moved by
γ·(α − miss) for every scored live forecast of that version, in target-date order; so it is a pure function of
stored rows, replayed exactly as the backtests were. The scoring step stores it on the version
(`ModelVersion.intervals["state"]`) after each score; the next forecast's bands use it.
"""

from django.db import transaction

from forecasts.models import Forecast
from training.ml.intervals import LEVELS, aci_alpha
from training.models import ModelVersion

MISS_FIELDS = {"80": "inside_80", "95": "inside_95"}


def band_state(*, model_version: ModelVersion) -> dict | None:
    """{"alpha": {"80": α, "95": α}, "days": n scored live forecasts, "held": {"80": k, "95": k}, "through"}
    for an adaptive version; None for one without adaptive bands (registered before them)."""
    intervals = model_version.intervals or {}
    if "alpha0" not in intervals or "gamma" not in intervals:
        return None
    scored = list(
        Forecast.objects.live()
        .scored()
        .filter(model_version=model_version)
        .order_by("target_date")
        .values_list("target_date", *MISS_FIELDS.values())
    )
    alpha, held = {}, {}
    for column, (key, level_alpha) in enumerate(LEVELS.items(), start=1):
        misses = [not row[column] for row in scored]
        alpha[key] = aci_alpha(intervals["alpha0"][key], alpha=level_alpha, gamma=intervals["gamma"], misses=misses)
        held[key] = len(misses) - sum(misses)
    return {
        "alpha": alpha,
        "days": len(scored),
        "held": held,
        "through": scored[-1][0].isoformat() if scored else None,
    }


def band_alpha(*, model_version: ModelVersion) -> dict[str, float] | None:
    """What the next forecast's bands use: the stored live state, else α_0; None when not adaptive."""
    intervals = model_version.intervals or {}
    if "alpha0" not in intervals:
        return None
    state = intervals.get("state") or {}
    return dict(state.get("alpha") or intervals["alpha0"])


def band_states_refresh(*, versions) -> int:
    """Store the replayed state on each adaptive version (after scoring); the number of versions updated."""
    updated = 0
    for version in versions:
        state = band_state(model_version=version)
        if state is None:
            continue
        with transaction.atomic():
            locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
            locked.intervals = {**locked.intervals, "state": state}
            locked.save(update_fields=["intervals"])
        updated += 1
    return updated
