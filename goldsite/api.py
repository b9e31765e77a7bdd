"""Project-wide API plumbing: the one place domain errors become HTTP responses.

Every error the API answers has one shape, `{"detail": "<message for people>", "code": "<for programs>"}`: the
domain errors, DRF's own (401, 403, 404, 405, 429 ...), and, through `goldsite.error_views`, the ones raised
outside DRF. Field validation errors keep DRF's `{"<field>": ["<message>", ...]}`.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from goldsite.errors import ConflictError, GoldsiteError, NotReadyError


def error_body(*, detail: str, code: str) -> dict:
    return {"detail": detail, "code": code}


def request_error(exc: Exception) -> tuple[int, str, str] | None:
    """Django's request limits as (status, detail, code); None for any other exception."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, f"The request body is larger than the {limit:,} bytes allowed.", "request_too_large"
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return 400, f"The request has more than the {limit:,} fields allowed.", "too_many_fields"
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return 400, f"The request has more than the {limit:,} files allowed.", "too_many_files"
    return None


def exception_handler(exc, context):
    """Map domain errors and request limits to clear HTTP answers; DRF's own errors get their code added."""
    if isinstance(exc, GoldsiteError):
        code = status.HTTP_400_BAD_REQUEST
        if isinstance(exc, ConflictError):
            code = status.HTTP_409_CONFLICT
        elif isinstance(exc, NotReadyError):
            code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Response(error_body(detail=str(exc), code=exc.code), status=code)
    limit = request_error(exc)
    if limit is not None:
        code, detail, error_code = limit
        return Response(error_body(detail=detail, code=error_code), status=code)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and set(response.data) == {"detail"}:
        detail = response.data["detail"]
        response.data = error_body(detail=str(detail), code=getattr(detail, "code", None) or "error")
    return response


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
