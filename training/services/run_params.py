"""A training run's parameters: what a start may ask for, each checked (a TrainingError saying what to change),
with the settings filling the rest; and the hyperparameters a "train" run reuses from the latest tune made with
the same window settings."""

import datetime as dt

from django.conf import settings

from training.exceptions import TrainingError
from training.ml.kinds import NETWORK_KINDS
from training.models import ModelVersion, TrainingRun

NETWORK_ARCHITECTURES = NETWORK_KINDS
BASELINE_KINDS = ("naive", "drift")
MAX_TRIALS = 500


def checked_kind(kind: str) -> str:
    if kind not in TrainingRun.Kind.values:
        raise TrainingError(f"Unknown run kind {kind!r}; choose one of {', '.join(TrainingRun.Kind.values)}.")
    return kind


def checked_architectures(architectures: list[str] | None) -> list[str]:
    """The networks asked for (every one when none is named), in NETWORK_ARCHITECTURES order."""
    architectures = list(architectures or NETWORK_ARCHITECTURES)
    unknown = sorted(set(architectures) - set(NETWORK_ARCHITECTURES))
    if unknown:
        raise TrainingError(
            f"Unknown architecture(s) {', '.join(unknown)}; choose from {', '.join(NETWORK_ARCHITECTURES)}."
        )
    return [a for a in NETWORK_ARCHITECTURES if a in architectures]


def checked_trials(*, kind: str, trials: int | None) -> int:
    """Trials per network: a tune's (TRAINING_DEFAULT_TRIALS unless given, 1 to MAX_TRIALS); a train run's 0."""
    if trials is None:
        trials = settings.TRAINING_DEFAULT_TRIALS if kind == TrainingRun.Kind.TUNE else 0
    if kind == TrainingRun.Kind.TUNE and not 1 <= trials <= MAX_TRIALS:
        raise TrainingError(f"A tuning run needs between 1 and {MAX_TRIALS} trials per architecture.")
    return 0 if kind == TrainingRun.Kind.TRAIN else trials


def bands_gammas() -> list[float] | None:
    """The adaptive-conformal γ a run's bands choose from on CV: BANDS_ACI_GAMMA "cv" (the default) lets CV
    choose from the grid; a number fixes it (0: plain split conformal)."""
    value = str(settings.BANDS_ACI_GAMMA).strip().lower()
    if value == "cv":
        return None
    try:
        gamma = float(value)
    except ValueError:
        raise TrainingError(f"BANDS_ACI_GAMMA must be 'cv' or a number from 0 to 0.2, not {value!r}.") from None
    if not 0.0 <= gamma <= 0.2:
        raise TrainingError(f"BANDS_ACI_GAMMA must be 'cv' or a number from 0 to 0.2, not {value!r}.")
    return [gamma]


def training_protocol(
    *,
    test_days: int | None = None,
    selection_days: int | None = None,
    folds: int | None = None,
    retrain_every: int | None = None,
):
    """The evaluation protocol from the given values, else the settings; a clear error when they do not fit."""
    from training.ml.dataset import Protocol

    test_days = test_days or settings.TRAINING_TEST_DAYS
    if test_days < 20:
        raise TrainingError("The test window needs at least 20 trading days.")
    try:
        return Protocol(
            test_days=test_days,
            selection_days=selection_days or settings.TRAINING_SELECTION_DAYS,
            folds=folds or settings.TRAINING_FOLDS,
            retrain_every=retrain_every or settings.TRAINING_RETRAIN_EVERY,
        )
    except ValueError as exc:
        raise TrainingError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from exc


def training_tuned_hyperparameters(*, protocol: dict, test_start: dt.date) -> dict:
    """The hyperparameters a "train" run reuses: those of the latest succeeded tune run made with the same
    window settings whose selection period ended before `test_start` (the new run's test window), so no
    test-window error can have chosen them. {"run": tune run id or None, "hyperparameters": {kind: values}}.
    With no such tune, every kind keeps its defaults (run None)."""
    from training.ml.dataset import Protocol

    window = Protocol(**protocol).window_settings()
    tunes = TrainingRun.objects.filter(kind=TrainingRun.Kind.TUNE, status=TrainingRun.Status.SUCCEEDED)
    for tune in tunes.order_by("-finished_at", "-id"):
        if Protocol(**tune.params.get("protocol", {"folds": 4, "test_days": 0})).window_settings() != window:
            continue
        versions = list(tune.model_versions.exclude(architecture=ModelVersion.Architecture.ENSEMBLE))
        if not versions or any(v.test_start is None or v.test_start > test_start for v in versions):
            continue
        return {"run": tune.pk, "hyperparameters": {v.architecture: v.hyperparameters for v in versions}}
    return {"run": None, "hyperparameters": {}}
