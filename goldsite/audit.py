"""The audit trail of staff actions: who changed the champion, who started a training run.

Each action is recorded twice: as a row that names its actor (`ChampionChange.changed_by` and `automatic`,
`TrainingRun.started_by`), and as one INFO line on the `goldsite.audit` logger, which goes wherever the process
logs go (the console in the containers), e.g.::

    goldsite.audit: model_version.promote by alice: model_version='gold-next-day v3 (mlp)' previous=...

The record also carries the fields as `record.audit` ({"action", "actor", ...}) for a structured log handler.
Django's admin keeps its own LogEntry rows for edits made in the admin; this covers the API, the pages, the CLI
and Celery beat as well. Actors: a username, "auto" (a training run promoting its winner), or "system" (no
signed-in user: `manage.py train`, beat's scheduled runs).
"""

import logging

logger = logging.getLogger("goldsite.audit")

SYSTEM = "system"


def audit_actor(user) -> str:
    """The username of a signed-in user, else "system"."""
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    return SYSTEM


def audit_log(action: str, *, actor: str, **details) -> None:
    """Log one audited action: `action` is `<entity>.<verb>`, `actor` who did it, `details` what it touched."""
    fields = " ".join(f"{key}={value!r}" for key, value in details.items())
    logger.info("%s by %s: %s", action, actor, fields, extra={"audit": {"action": action, "actor": actor, **details}})
