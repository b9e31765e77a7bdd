"""The signed-in user's REST API token: read it, create it on request, replace it, revoke it."""

import logging

from django.db import transaction
from rest_framework.authtoken.models import Token

logger = logging.getLogger(__name__)


def api_token_get(*, user) -> Token | None:
    """The user's token, or None. Never creates one."""
    return Token.objects.filter(user=user).first()


def api_token_get_or_create(*, user) -> tuple[Token, bool]:
    """The user's token, created if missing; (token, created)."""
    token, created = Token.objects.get_or_create(user=user)
    if created:
        logger.info("API token created for user id=%s", user.pk)
    return token, created


@transaction.atomic
def api_token_regenerate(*, user) -> Token:
    """Replace the user's token with a new one; the old key stops working at once."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    logger.info("API token regenerated for user id=%s", user.pk)
    return token


def api_tokens_revoke(*, user) -> int:
    """Delete the user's token(s) (their password changed, say); returns how many there were."""
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        logger.info("API token revoked for user id=%s", user.pk)
    return deleted
