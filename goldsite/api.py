"""Project-wide API plumbing: the one place domain errors become HTTP responses."""

from rest_framework import status
from rest_framework.response import Response
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
