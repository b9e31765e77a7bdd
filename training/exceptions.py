from goldsite.errors import ConflictError, GoldsiteError, NotReadyError


class TrainingError(GoldsiteError):
    """Training, registration or promotion failed; the message says why."""

    code = "training"


class TrainingRunActive(TrainingError, ConflictError):
    """A training run is already queued or running; only one runs at a time."""

    code = "training_run_active"


class RegistryUnavailable(TrainingError, NotReadyError):
    """MLflow could not be reached or refused the change; nothing was changed."""

    code = "registry_unavailable"


class AlreadyChampion(TrainingError, ConflictError):
    """The version to promote is the champion already (another promotion may just have made it so)."""

    code = "already_champion"


class PromotionInProgress(TrainingError, ConflictError):
    """Another promotion held the database for longer than this one could wait; nothing was changed."""

    code = "promotion_in_progress"
