"""Reading what a version stored without trusting its shape: versions registered before a key existed have none,
and a JSON field may hold anything. Shares become percents here for the templates, once (through
`goldsite.presentation.formatting.percent_units`, as every other page does).

`finite` is stricter than `formatting.finite_number`, on purpose: a stored metric is a JSON number or nothing, so
text that reads as a number ("1.5") is not taken for one here.
"""

from __future__ import annotations

import math

from goldsite.presentation.formatting import percent_units


def finite(value) -> float | None:
    """`value` as a float when it is a finite number (never a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def as_dict(value) -> dict:
    """`value` when it is a dict, else an empty one."""
    return value if isinstance(value, dict) else {}


class CoveragePercents:
    """`coverage_80_pct` and `coverage_95_pct` of a row with `coverage_80` and `coverage_95` shares."""

    coverage_80: float | None
    coverage_95: float | None

    @property
    def coverage_80_pct(self) -> float | None:
        return percent_units(self.coverage_80)

    @property
    def coverage_95_pct(self) -> float | None:
        return percent_units(self.coverage_95)


class CoverageBesideNaivePercents(CoveragePercents):
    """The same, and naive's beside them (`naive_coverage_80_pct`, `naive_coverage_95_pct`)."""

    naive_coverage_80: float | None
    naive_coverage_95: float | None

    @property
    def naive_coverage_80_pct(self) -> float | None:
        return percent_units(self.naive_coverage_80)

    @property
    def naive_coverage_95_pct(self) -> float | None:
        return percent_units(self.naive_coverage_95)
