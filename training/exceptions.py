from goldsite.errors import ConflictError, GoldsiteError


class TrainingError(GoldsiteError):
    """Training, registration or promotion failed; the message says why."""

    code = "training"


class TrainingRunActive(TrainingError, ConflictError):
    """A training run is already queued or running; only one runs at a time."""

    code = "training_run_active"
