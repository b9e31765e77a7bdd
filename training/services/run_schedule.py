"""Whether the served model is due a refit: the cadence of the scheduled "train" run."""

from django.conf import settings

from forecasts.selectors.prices import price_closes_frame
from training.selectors import model_version_champion


def training_refit_due() -> tuple[bool, str]:
    """Is the served model due a refit? Yes when the champion learnt from no target in the last
    TRAINING_RETRAIN_EVERY common trading days (the cadence the walk-forward test reports), or there is none."""
    champion = model_version_champion()
    if champion is None or champion.fitted_through is None:
        return True, "no champion fitted on all data yet"
    closes = price_closes_frame()
    newer = int((closes.index.date > champion.fitted_through).sum()) if not closes.empty else 0
    every = settings.TRAINING_RETRAIN_EVERY
    if newer >= every:
        return True, f"{newer} common trading days since {champion} was fitted (refit every {every})"
    return False, f"{champion} was fitted {newer} common trading days ago; the next refit is after {every}"
