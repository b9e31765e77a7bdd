"""The API's JSON renderer: a non-finite number is answered as null, never as a 500 or as invalid JSON.

DRF's JSONRenderer is strict (STRICT_JSON): `json.dumps(..., allow_nan=False)` raises "Out of range float values
are not JSON compliant" when a response holds `inf` or `nan`, which turns one corrupt row into a 500 on every
endpoint that shows it. The services refuse to store such values; this renderer makes sure a value that got in
anyway (an old row, a manual edit) costs a `null` in the answer, not the answer.
"""

import logging
import math
from decimal import Decimal

from rest_framework import renderers

logger = logging.getLogger(__name__)


class JSONRenderer(renderers.JSONRenderer):
    """DRF's strict JSONRenderer, with `inf`, `-inf` and `nan` (float or Decimal) rendered as null.

    The usual path is DRF's own render, unchanged; only an answer it refuses is walked and rendered again.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except ValueError:
            finite = finite_or_none(data)
            logger.error("A response held a non-finite number; it is rendered as null: %s", _path(renderer_context))
            return super().render(finite, accepted_media_type, renderer_context)


def finite_or_none(value):
    """`value` with every non-finite float or Decimal inside dicts, lists and tuples replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(item) for item in value]
    return value


def _path(renderer_context) -> str:
    request = (renderer_context or {}).get("request")
    return request.get_full_path() if request is not None else "(no request)"
