"""Error answers outside DRF's own handling: JSON in the API's error shape under /api/, Django's pages elsewhere.

`goldsite/urls.py` installs these as handler400/403/404/500, so the URL resolver's 404, the request-size limits
Django enforces before or around a view (RequestDataTooBig, TooManyFieldsSent), a disallowed Host and any
unhandled exception (with DEBUG off) answer `{"detail": ..., "code": ...}` like the domain errors in
`goldsite.api`. `lockout` is django-axes' AXES_LOCKOUT_CALLABLE: the 429 after too many failed sign-ins, JSON on
`/api/auth/token/`, the lockout page on the sign-in form.
"""

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from goldsite.api import error_body, request_error

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(*, status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse(error_body(detail=detail, code=code), status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400, or 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE. The detail never repeats what was sent."""
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    status, detail, code = request_error(exception) or (400, "Bad request.", "bad_request")
    return json_error(status=status, detail=detail, code=code)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api_request(request):
        return defaults.permission_denied(request, exception)
    return json_error(status=403, detail="You do not have permission to perform this action.", code="permission_denied")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api_request(request):
        return defaults.page_not_found(request, exception)
    return json_error(status=404, detail="Not found.", code="not_found")


def server_error(request: HttpRequest) -> HttpResponse:
    """The exception itself is logged by Django (django.request); the client learns nothing about it."""
    if not is_api_request(request):
        return defaults.server_error(request)
    return json_error(status=500, detail="Server error; it has been logged. Try again later.", code="server_error")


def lockout(request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None):
    """django-axes' answer once a username is locked out from an address (AXES_LOCKOUT_CALLABLE)."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    status = settings.AXES_HTTP_RESPONSE_CODE
    cool_off = get_cool_off(request)
    if is_api_request(request):
        if cool_off:
            minutes = max(math.ceil(cool_off.total_seconds() / 60), 1)
            wait = f"try again in {minutes} minute{'s' if minutes != 1 else ''}"
        else:
            wait = "ask an administrator to unlock the account"
        response = json_error(status=status, detail=f"Too many failed sign-in attempts: {wait}.", code="locked_out")
        if cool_off:
            response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
        return response
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
    }
    if cool_off:
        context["cooloff_timedelta"] = cool_off
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=status)
