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
