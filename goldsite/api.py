"""Project-wide API plumbing: the one place domain errors become HTTP responses."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from goldsite.errors import ConflictError, GoldsiteError, NotReadyError


def exception_handler(exc, context):
    """Map domain errors to clear HTTP answers; leave the rest to DRF (400 field errors, 401, 403...)."""
    if isinstance(exc, GoldsiteError):
        code = status.HTTP_400_BAD_REQUEST
        if isinstance(exc, ConflictError):
            code = status.HTTP_409_CONFLICT
        elif isinstance(exc, NotReadyError):
            code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Response({"detail": str(exc), "code": exc.code}, status=code)
    return drf_exception_handler(exc, context)


def client_ip(request) -> str | None:
    """The client's address, by one rule for the API throttle and the sign-in lockout (AXES_CLIENT_IP_CALLABLE).

    REMOTE_ADDR, the real peer, unless REST_FRAMEWORK["NUM_PROXIES"] (API_NUM_PROXIES) trusted proxies are in
    front: then the X-Forwarded-For entry the outermost of them appended. Whatever a client writes into the
    header itself is never trusted.
    """
    return BaseThrottle().get_ident(request)


class AutoSchema(SpectacularAutoSchema):
    """Name nested serializers after their view: `TokenObtainApi.InputSerializer` → `TokenObtainInput`.

    Every API view declares its own `InputSerializer`/`OutputSerializer` (the house style), so the class
    name alone would give many components the same name.
    """

    def get_serializer_name(self, serializer, direction):
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if outer:
            return outer.removesuffix("Api") + inner
        return super().get_serializer_name(serializer, direction)
