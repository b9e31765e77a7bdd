"""The "ML engineers" group: created, with its permissions, after every `migrate` (idempotent)."""

import logging

from django.contrib.auth.models import Group, Permission

from training.permissions import ML_ENGINEERS_GROUP, ML_ENGINEERS_PERMISSIONS

logger = logging.getLogger(__name__)


def ml_engineers_group_ensure() -> Group:
    """The group with every permission of ML_ENGINEERS_PERMISSIONS (missing ones are added, others kept)."""
    group, created = Group.objects.get_or_create(name=ML_ENGINEERS_GROUP)
    wanted = list(Permission.objects.filter(content_type__app_label="training", codename__in=ML_ENGINEERS_PERMISSIONS))
    group.permissions.add(*wanted)
    missing = sorted(set(ML_ENGINEERS_PERMISSIONS) - {permission.codename for permission in wanted})
    if missing:  # migrated back to before a permission existed
        logger.warning("The %r group lacks %s: no such permission yet", ML_ENGINEERS_GROUP, ", ".join(missing))
    if created:
        logger.info("Created the %r group", ML_ENGINEERS_GROUP)
    return group
