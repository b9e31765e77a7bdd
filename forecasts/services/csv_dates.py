"""The dates of a price CSV: one format per file, detected from all its dates or given by the user.

A file uses one format throughout, ISO `yyyy-mm-dd` or slashed. Slashed dates are day-first or month-first,
whichever is the only reading that fits every row (the seed files in ../shared/data have days above 12, so they
read day-first). A file whose slashed dates all read both ways (no day above 12: `10/01/2025` is 10 January or
1 October) is refused unless the caller says which (`date_format`, the command's `--date-format`); a file mixing
formats is refused at the first line that breaks the format of its first date.
"""

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from forecasts.exceptions import MarketDataError

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T].*)?$")
SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
DAY_FIRST, MONTH_FIRST, ISO = "dd/mm/yyyy", "mm/dd/yyyy", "yyyy-mm-dd"
DATE_FORMATS = (DAY_FIRST, MONTH_FIRST, ISO)


class DateMismatch(ValueError):
    """A well-formed date in another format than the file's."""


def detected_date_format(cells: list[tuple[int, str]], *, path: Path) -> str:
    """The one date format of the file's (line, date) cells: that of its first date, slashed ones read the only way
    they all fit. Raises MarketDataError for slashed dates that read both ways or mix day-first and month-first.
    """
    first_iso = next((line for line, text in cells if ISO_DATE.match(text)), None)
    slashed = [(line, text, match.groups()) for line, text in cells if (match := SLASH_DATE.match(text))]
    if not slashed or (first_iso is not None and first_iso < slashed[0][0]):
        return ISO  # a slashed date after the first ISO one breaks the format, at its own line
    only: dict[str, tuple[int, str]] = {}  # format -> the first (line, text) that reads only that way
    readable_both_ways = False
    for line, text, (first, second, year) in slashed:
        day_first = _valid(int(year), int(second), int(first))
        month_first = _valid(int(year), int(first), int(second))
        if day_first and month_first:
            readable_both_ways = True
        elif day_first or month_first:
            only.setdefault(DAY_FIRST if day_first else MONTH_FIRST, (line, text))
    if len(only) == 2:
        (fmt_a, (line_a, text_a)), (fmt_b, (line_b, text_b)) = sorted(only.items(), key=lambda item: item[1][0])
        raise MarketDataError(
            f"{path}, line {line_b}: date {text_b!r} reads only as {fmt_b}, but line {line_a}'s {text_a!r} reads only "
            f"as {fmt_a}: the file mixes day-first and month-first dates"
        )
    if only:
        return next(iter(only))
    if readable_both_ways:
        raise MarketDataError(
            f"{path}, line {slashed[0][0]}: the dates read both as {DAY_FIRST} and as {MONTH_FIRST} (no day is above "
            f"12); pass --date-format {DAY_FIRST} or --date-format {MONTH_FIRST}"
        )
    return DAY_FIRST  # no slashed date is a real date: each one fails as unparseable, at its line


@dataclass(frozen=True)
class DateReader:
    """Reads the file's dates in its one format. A date of another known format raises DateMismatch naming the
    format (and where it came from); anything else that is not a date raises ValueError.
    """

    date_format: str
    origin: str  # "(--date-format dd/mm/yyyy)" or "like the file's first date (line 2)"

    def __call__(self, cell: str) -> dt.date:
        text = cell.strip()
        iso, slashed = ISO_DATE.match(text), SLASH_DATE.match(text)
        if slashed and self.date_format != ISO:
            first, second, year = (int(part) for part in slashed.groups())
            day, month = (first, second) if self.date_format == DAY_FIRST else (second, first)
            return dt.date(year, month, day)
        if iso and self.date_format == ISO:
            # Also takes yfinance's "2025-09-25 00:00:00-04:00": the date part is the exchange's day.
            return dt.datetime.fromisoformat(text).date()
        if iso or slashed:
            raise DateMismatch(
                f"date {text!r} is not {self.date_format} {self.origin}; a file must use one date format"
            )
        raise ValueError(text)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True
