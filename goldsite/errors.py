"""Base domain errors. Each app defines its own subclass; `goldsite.api` maps them to HTTP."""


class GoldsiteError(Exception):
    """A failure the user can understand and act on; its message is shown as it is."""

    code = "error"


class ConflictError(GoldsiteError):
    """The request clashes with the current state (e.g. a training run is already active)."""

    code = "conflict"


class NotReadyError(GoldsiteError):
    """Something the request needs does not exist yet (no data, no champion)."""

    code = "not_ready"
