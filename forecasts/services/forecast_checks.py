"""What makes a forecast storable: finite numbers, prices above zero, bands nested around the prediction.

A non-finite value once stored made every API answer that showed it a 500 (issue 10). The database's checks let
`inf` through (it satisfies `lower <= predicted <= upper`) and refuse the rest with an IntegrityError, so the
services that write forecasts (prediction, backtests, scoring) ask this first and refuse with a clear message.
"""

import math
from collections.abc import Mapping

FORECAST_VALUE_FIELDS = (
    "last_close",
    "predicted_return",
    "predicted_close",
    "lower_80",
    "upper_80",
    "lower_95",
    "upper_95",
)
PRICE_FIELDS = ("last_close", "predicted_close")
BAND_ORDER = ("lower_95", "lower_80", "predicted_close", "upper_80", "upper_95")


def forecast_values_problem(values: Mapping[str, float]) -> str | None:
    """What makes these forecast values unstorable, in words (`upper_80 inf`), or None when they are fine."""
    numbers = {field: float(values[field]) for field in FORECAST_VALUE_FIELDS}
    for field, value in numbers.items():
        if not math.isfinite(value):
            return f"{field} {value}"
    for field in PRICE_FIELDS:
        if numbers[field] <= 0:
            return f"{field} {numbers[field]} (not above zero)"
    if any(numbers[low] > numbers[high] for low, high in zip(BAND_ORDER, BAND_ORDER[1:], strict=False)):
        return "bands out of order (" + " <= ".join(f"{field} {numbers[field]}" for field in BAND_ORDER) + ")"
    return None


def actual_close_problem(actual_close: float) -> str | None:
    """What makes a close unusable for scoring (`actual_close inf`), or None."""
    value = float(actual_close)
    if not math.isfinite(value):
        return f"actual_close {value}"
    if value <= 0:
        return f"actual_close {value} (not above zero)"
    return None
