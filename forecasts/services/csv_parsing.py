"""Reading a price CSV into bar rows, whatever shape the user brings; the shape is detected, never configured.

Shapes (see ../shared/data/README.md):

- Yahoo's history download: `Date,Close,High,Low,Open,Volume`, dates `dd/mm/yyyy` (the seed files).
- The same columns in any order and letter case, ISO dates; `Adj Close` (and yfinance's `Dividends`,
  `Stock Splits`, `Capital Gains`) are tolerated and ignored.
- `yfinance.download(...).to_csv()`: three header lines (`Price,Close,...`, `Ticker,GC=F,...`, `Date,,,,,`),
  then ISO dates. A multi-ticker export works too: the symbol's own columns are taken.
- FRED: two columns (`observation_date,SP500`), close only, empty (or `.`) values on market holidays.

Dates: a file uses one format throughout, detected or given (see `csv_dates`).

Only parsing happens here: cells become dates and floats, and every row keeps the line it came from so that
an error can name it. The checks on values (plausible prices, low <= open/close <= high, a storable volume, a
date from 1900 to today, duplicates, jumps, overwrites) live in `forecasts.services.price_checks`; the loads in
`forecasts.services.prices` apply them to these rows and to Yahoo's rows alike.
"""

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from forecasts.exceptions import MarketDataError
from forecasts.services.csv_dates import DATE_FORMATS, ISO, DateMismatch, DateReader, detected_date_format

PRICE_FIELDS = ("open", "high", "low", "close")
BAR_FIELDS = (*PRICE_FIELDS, "volume")
KNOWN_COLUMNS = {"date", *BAR_FIELDS}
# Columns Yahoo and yfinance write that a bar does not keep.
IGNORED_COLUMNS = {"adj close", "adjclose", "dividends", "stock splits", "capital gains"}
FRED_DATE_COLUMNS = {"observation date", "date"}
# FRED's older files mark a missing value with a dot instead of leaving it empty.
MISSING_VALUES = {"", "."}


@dataclass(frozen=True)
class BarRow:
    """One daily bar as read from a file or from Yahoo, not yet checked.

    `where` names the row in an error message: "line 7" for a file, "bar 2025-09-24" for Yahoo.
    `volume` stays a float here; the checks make sure it is a whole, non-negative number.
    """

    where: str
    date: dt.date
    close: float
    open: float | None = None
    high: float | None = None
    low: float | None = None
    volume: float | None = None

    def values(self) -> tuple[float | None, ...]:
        """The bar's values in BAR_FIELDS order."""
        return tuple(getattr(self, name) for name in BAR_FIELDS)


@dataclass(frozen=True)
class ParsedRows:
    rows: list[BarRow]
    skipped: int  # rows without any value: FRED's holidays, yfinance's NaN rows


@dataclass(frozen=True)
class _Layout:
    """Where each field sits in a data line, and the line the data starts after."""

    columns: dict[str, int]
    width: int
    header_lines: int


def read_price_csv(path: Path, *, symbol: str, date_format: str | None = None) -> ParsedRows:
    """Parse the CSV at `path` into rows; raise MarketDataError naming the file line at the first problem.

    `date_format` (one of DATE_FORMATS) says how to read the dates; None detects it (see the module docstring).
    """
    if date_format is not None and date_format not in DATE_FORMATS:
        raise MarketDataError(f"Unknown date format {date_format!r}; use {', '.join(DATE_FORMATS[:-1])} or {ISO}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = _read_lines(csv.reader(handle), path=path)
    except FileNotFoundError as exc:
        raise MarketDataError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise MarketDataError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc
    except (OSError, csv.Error) as exc:
        raise MarketDataError(f"{path}: cannot read the file ({exc})") from exc

    if not lines:
        raise MarketDataError(f"{path}, line 1: the file is empty; expected a header such as Date,Close,...")
    layout = _detect_layout(lines, path=path, symbol=symbol)
    data = lines[layout.header_lines :]
    if not data:
        raise MarketDataError(f"{path}, line {lines[-1][0]}: the header is not followed by any data rows")

    date_cells = [
        (line, row[layout.columns["date"]].strip())
        for line, row in data
        if len(row) == layout.width and row[layout.columns["date"]].strip()
    ]
    if date_format is not None:
        parse_date = DateReader(date_format, origin=f"(--date-format {date_format})")
    else:
        first_line = date_cells[0][0] if date_cells else None
        parse_date = DateReader(
            detected_date_format(date_cells, path=path), origin=f"like the file's first date (line {first_line})"
        )
    rows: list[BarRow] = []
    skipped = 0
    for line, cells in data:
        row = _parse_row(cells, line=line, layout=layout, parse_date=parse_date, path=path)
        if row is None:
            skipped += 1
        else:
            rows.append(row)
    return ParsedRows(rows=rows, skipped=skipped)


def _read_lines(reader, *, path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row; a row csv cannot read is an error naming its line."""
    lines = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                # reader.line_num is the physical line the row ended on: what an editor shows.
                lines.append((reader.line_num, row))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            problem = (
                f"a field is longer than {csv.field_size_limit():,} characters, the most a CSV cell may hold; "
                "is this a price file?"
            )
        else:
            problem = f"not a readable CSV line ({exc})"
        raise MarketDataError(f"{path}, line {reader.line_num}: {problem}") from exc
    return lines


def _normalise(name: str) -> str:
    """Header cell -> lookup key: case, spacing and underscores do not matter ("Adj_Close" == "adj close")."""
    return " ".join(name.replace("_", " ").split()).lower()


def _detect_layout(lines: list[tuple[int, list[str]]], *, path: Path, symbol: str) -> _Layout:
    first_line, header = lines[0]
    names = [_normalise(cell) for cell in header]
    second = _normalise(lines[1][1][0]) if len(lines) > 1 and lines[1][1] else ""
    if {names[0], second} == {"price", "ticker"}:
        return _yfinance_layout(lines, path=path, symbol=symbol)
    if len(names) == 2 and names[0] in FRED_DATE_COLUMNS and names[1] not in KNOWN_COLUMNS | IGNORED_COLUMNS:
        return _Layout(columns={"date": 0, "close": 1}, width=2, header_lines=1)
    return _Layout(columns=_named_columns(names, header, line=first_line, path=path), width=len(names), header_lines=1)


def _named_columns(names: list[str], raw: list[str], *, line: int, path: Path) -> dict[str, int]:
    """Map field -> column index from header names; refuse unknown, repeated or missing columns."""
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in IGNORED_COLUMNS:
            continue
        if name not in KNOWN_COLUMNS:
            raise MarketDataError(
                f"{path}, line {line}: unrecognised header {','.join(raw)!r} (column {raw[index].strip()!r}); "
                "expected Date,Close,High,Low,Open,Volume in any order, a yfinance export or a FRED file"
            )
        if name in columns:
            raise MarketDataError(f"{path}, line {line}: column {raw[index].strip()!r} appears twice")
        columns[name] = index
    missing = [name for name in ("date", "close") if name not in columns]
    if missing:
        raise MarketDataError(
            f"{path}, line {line}: unrecognised header {','.join(raw)!r}: it has no {' and no '.join(missing)} column"
        )
    return columns


def _yfinance_layout(lines: list[tuple[int, list[str]]], *, path: Path, symbol: str) -> _Layout:
    """yfinance's export: a `Price` line of field names and a `Ticker` line (either order), then `Date,,,`."""
    (line_a, row_a), (line_b, row_b) = lines[0], lines[1]
    if _normalise(row_a[0]) == "price":
        (fields_line, fields), (tickers_line, tickers) = (line_a, row_a), (line_b, row_b)
    else:
        (fields_line, fields), (tickers_line, tickers) = (line_b, row_b), (line_a, row_a)
    if len(lines) < 3 or _normalise(lines[2][1][0]) != "date" or any(cell.strip() for cell in lines[2][1][1:]):
        where = lines[2][0] if len(lines) > 2 else line_b + 1
        raise MarketDataError(f"{path}, line {where}: expected yfinance's third header line 'Date,,,...'")
    if len(tickers) != len(fields):
        raise MarketDataError(f"{path}, line {tickers_line}: {len(tickers)} tickers for {len(fields)} columns")

    ours = [i for i in range(1, len(fields)) if tickers[i].strip().upper() == symbol.upper()]
    if not ours:
        found = sorted({cell.strip() for cell in tickers[1:] if cell.strip()})
        raise MarketDataError(f"{path}, line {tickers_line}: the file holds {', '.join(found)}, not {symbol}")
    names = [_normalise(fields[i]) for i in ours]
    columns = _named_columns(["date", *names], ["Date", *(fields[i] for i in ours)], line=fields_line, path=path)
    # _named_columns numbered the chosen columns 0..n; translate back to positions in the line.
    positions = [0, *ours]
    return _Layout(
        columns={field: positions[index] for field, index in columns.items()},
        width=len(fields),
        header_lines=3,
    )


def _parse_row(cells: list[str], *, line: int, layout: _Layout, parse_date: DateReader, path: Path) -> BarRow | None:
    """One data line as a BarRow, or None for a line with a date and no values (a holiday)."""
    where = f"line {line}"
    if len(cells) != layout.width:
        raise MarketDataError(f"{path}, {where}: {len(cells)} fields, but the header has {layout.width}")
    date_cell = cells[layout.columns["date"]]
    if not date_cell.strip():
        raise MarketDataError(f"{path}, {where}: the date is missing")
    try:
        date = parse_date(date_cell)
    except DateMismatch as exc:
        raise MarketDataError(f"{path}, {where}: {exc}") from None
    except ValueError:
        raise MarketDataError(
            f"{path}, {where}: unparseable date {date_cell.strip()!r} (expected {parse_date.date_format})"
        ) from None

    values: dict[str, float | None] = {}
    for field in BAR_FIELDS:
        if field not in layout.columns:
            values[field] = None
            continue
        cell = cells[layout.columns[field]].strip()
        if cell in MISSING_VALUES:
            values[field] = None
            continue
        try:
            values[field] = float(cell)
        except ValueError:
            raise MarketDataError(f"{path}, {where}: {field} {cell!r} is not a number") from None

    if all(value is None for value in values.values()):
        return None
    close = values.pop("close")
    if close is None:
        raise MarketDataError(f"{path}, {where}: the close is missing")
    return BarRow(where=where, date=date, close=close, **values)
