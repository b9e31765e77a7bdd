"""Importing a price CSV: every shape a user may bring, detected; all or nothing; safe to repeat."""

import datetime as dt
import shutil

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from forecasts.calendar import new_york_today
from forecasts.exceptions import MarketDataError, MarketDataUnavailable
from forecasts.models import DataLoad, PriceBar
from forecasts.services.prices import data_load_summary, prices_import_csv
from tests.factories import PriceBarFactory
from tests.forecasts.market_data import SEED_HEADER, bars_snapshot, download_frame, seed_file

pytestmark = pytest.mark.django_db


def bar(symbol: str, day: str) -> PriceBar:
    return PriceBar.objects.get(symbol=symbol, date=dt.date.fromisoformat(day))


class TestRealHistory:
    """The seed files in ../shared/data: dd/mm/yyyy dates, float32 noise such as 3258.139892578125."""

    def test_gold_file_imports_every_row(self, shared_data):
        load = prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")

        assert PriceBar.objects.filter(symbol="GC=F").count() == 1257
        assert (load.kind, load.status, load.symbol) == (DataLoad.Kind.IMPORT, DataLoad.Status.SUCCEEDED, "GC=F")
        assert (load.rows_inserted, load.rows_updated, load.rows_unchanged, load.rows_skipped) == (1257, 0, 0, 0)
        assert (load.first_date, load.last_date) == (dt.date(2020, 9, 28), dt.date(2025, 9, 25))
        assert load.target == str(shared_data / "gold_data.csv")
        assert load.finished_at is not None and load.error == ""
        last = bar("GC=F", "2025-09-25")
        assert (last.open, last.high, last.low, last.close, last.volume) == (3781.5, 3783.5, 3767.199951, 3767.5, 19797)
        assert last.source == PriceBar.Source.CSV

    def test_sp500_file_keeps_floats_exactly(self, shared_data):
        load = prices_import_csv(symbol="^GSPC", path=shared_data / "sp500.csv")

        assert load.rows_inserted == 1440
        assert (load.first_date, load.last_date) == (dt.date(2020, 1, 2), dt.date(2025, 9, 24))
        first = bar("^GSPC", "2020-01-02")
        assert first.high == 3258.139892578125
        assert first.low == 3235.530029296875
        assert first.volume == 3459930000

    def test_importing_the_same_file_again_changes_nothing(self, shared_data):
        prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")
        before = bars_snapshot()

        again = prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")

        assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 1257)
        assert bars_snapshot() == before
        assert (
            data_load_summary(load=again)
            == "GC=F: 0 inserted, 0 updated, 1257 unchanged, 0 skipped (2020-09-28 … 2025-09-25)"
        )

    def test_a_revised_close_updates_that_one_bar(self, shared_data, tmp_path):
        prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")
        revised = tmp_path / "gold_revised.csv"
        shutil.copy(shared_data / "gold_data.csv", revised)
        text = revised.read_text()
        assert "24/09/2025,3732.100098," in text
        revised.write_text(text.replace("24/09/2025,3732.100098,", "24/09/2025,3733.25,"))

        load = prices_import_csv(symbol="GC=F", path=revised)

        assert (load.rows_inserted, load.rows_updated, load.rows_unchanged) == (0, 1, 1256)
        assert bar("GC=F", "2025-09-24").close == 3733.25
        assert bar("GC=F", "2025-09-23").close == 3780.600098


class TestShapes:
    def test_yfinance_export_with_three_header_lines(self, tmp_path):
        path = tmp_path / "gc.csv"
        frame = download_frame(
            "GC=F",
            {
                "2025-09-23": (3747.0, 3786.0, 3740.0, 3780.600098, 627.0),
                "2025-09-24": (3769.800049, 3772.5, 3732.100098, 3732.100098, 588.0),
                "2025-09-25": (3781.5, 3783.5, 3767.199951, 3767.5, 19797.0),
            },
        )
        frame.to_csv(path)  # exactly what a user saving yf.download(...) gets
        assert path.read_text().splitlines()[:4] == [
            "Price,Adj Close,Close,High,Low,Open,Volume",
            "Ticker,GC=F,GC=F,GC=F,GC=F,GC=F,GC=F",
            "Date,,,,,,",
            "2025-09-23,3780.600098,3780.600098,3786.0,3740.0,3747.0,627.0",
        ]

        load = prices_import_csv(symbol="GC=F", path=path)

        assert (load.rows_inserted, load.first_date, load.last_date) == (3, dt.date(2025, 9, 23), dt.date(2025, 9, 25))
        stored = bar("GC=F", "2025-09-24")
        assert (stored.open, stored.high, stored.low, stored.close, stored.volume) == (
            3769.800049,
            3772.5,
            3732.100098,
            3732.100098,
            588,
        )

    def test_yfinance_export_with_a_timezone_and_a_nan_row(self, tmp_path):
        path = tmp_path / "gc.csv"
        frame = download_frame(
            "GC=F",
            {"2025-09-24": (3769.8, 3772.5, 3732.1, 3732.1, 588.0), "2025-09-25": None},
            tz="America/New_York",
        )
        frame.to_csv(path)
        assert path.read_text().splitlines()[3].startswith("2025-09-24 00:00:00-04:00,")

        load = prices_import_csv(symbol="GC=F", path=path)

        assert (load.rows_inserted, load.rows_skipped) == (1, 1)
        assert list(PriceBar.objects.values_list("date", flat=True)) == [dt.date(2025, 9, 24)]

    def test_multi_ticker_yfinance_export_takes_the_symbols_columns(self, tmp_path):
        path = tmp_path / "both.csv"
        gold = download_frame("GC=F", {"2025-09-24": (3769.8, 3772.5, 3732.1, 3732.1, 588.0)})
        spx = download_frame("^GSPC", {"2025-09-24": (6669.8, 6672.7, 6621.8, 6637.970215, 5459180000.0)})
        pd.concat([gold, spx], axis=1).to_csv(path)

        prices_import_csv(symbol="^GSPC", path=path)

        assert bar("^GSPC", "2025-09-24").close == 6637.970215
        assert not PriceBar.objects.filter(symbol="GC=F").exists()

    def test_yfinance_export_of_another_ticker_is_refused(self, tmp_path):
        path = tmp_path / "gc.csv"
        download_frame("GC=F", {"2025-09-24": (3769.8, 3772.5, 3732.1, 3732.1, 588.0)}).to_csv(path)

        with pytest.raises(MarketDataError, match=r"line 2: the file holds GC=F, not \^GSPC"):
            prices_import_csv(symbol="^GSPC", path=path)

    def test_iso_dates_any_column_order_and_case_adj_close_tolerated(self, write_csv):
        path = write_csv(
            "iso.csv",
            """
            date,VOLUME,open,Adj Close,HIGH,close,Low
            2025-09-24,588,3769.8,3732.1,3772.5,3732.1,3732.1
            2025-09-25,19797,3781.5,3767.5,3783.5,3767.5,3767.2
            """,
        )

        load = prices_import_csv(symbol="GC=F", path=path)

        assert load.rows_inserted == 2
        stored = bar("GC=F", "2025-09-25")
        assert (stored.open, stored.high, stored.low, stored.close, stored.volume) == (
            3781.5,
            3783.5,
            3767.2,
            3767.5,
            19797,
        )

    def test_fred_file_blank_holidays_are_skipped_and_counted(self, write_csv):
        path = write_csv(
            "SP500.csv",
            """
            observation_date,SP500
            2024-12-31,5881.63
            2025-01-01,
            2025-01-02,5868.55
            2025-01-09,.
            2025-01-10,5827.04
            """,
        )

        load = prices_import_csv(symbol="^GSPC", path=path)

        assert (load.rows_inserted, load.rows_skipped) == (3, 2)
        assert (load.first_date, load.last_date) == (dt.date(2024, 12, 31), dt.date(2025, 1, 10))
        stored = bar("^GSPC", "2025-01-02")
        assert (stored.open, stored.high, stored.low, stored.close, stored.volume) == (None, None, None, 5868.55, None)

    def test_identical_duplicate_rows_are_fine(self, write_csv):
        path = write_csv(
            "gc.csv", f"{SEED_HEADER}\n13/01/2025,2000,2010,1990,1995,5\n13/01/2025,2000,2010,1990,1995,5\n"
        )

        load = prices_import_csv(symbol="GC=F", path=path)

        assert (load.rows_inserted, load.rows_skipped) == (1, 1)

    def test_windows_line_endings_and_a_byte_order_mark(self, tmp_path):
        path = tmp_path / "gc.csv"
        path.write_bytes(f"\ufeff{SEED_HEADER}\r\n13/01/2025,2000,2010,1990,1995,5\r\n".encode())

        assert prices_import_csv(symbol="GC=F", path=path).rows_inserted == 1


class TestDateFormats:
    """Slash dates are read one way for the whole file; when both ways fit every row, the user says which."""

    def test_day_first_dates_are_detected_when_month_first_cannot_fit(self, write_csv):
        path = write_csv("gc.csv", seed_file("12/01/2025", "13/01/2025"))

        prices_import_csv(symbol="GC=F", path=path)

        assert list(PriceBar.objects.values_list("date", flat=True)) == [dt.date(2025, 1, 12), dt.date(2025, 1, 13)]

    def test_month_first_dates_are_detected_when_day_first_cannot_fit(self, write_csv):
        path = write_csv("gc.csv", seed_file("12/30/2024", "12/31/2024"))

        prices_import_csv(symbol="GC=F", path=path)

        assert list(PriceBar.objects.values_list("date", flat=True)) == [dt.date(2024, 12, 30), dt.date(2024, 12, 31)]

    def test_dates_that_read_both_ways_are_refused_naming_the_format_to_pass(self, write_csv):
        """Issue 10: a US-style 10/01/2025 was read day-first and overwrote real January and February bars."""
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 1, 10), close=2000.0)
        before = bars_snapshot()
        path = write_csv("us.csv", seed_file("10/01/2025,2650", "10/02/2025,2660", "10/03/2025,2655"))

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value) == (
            f"{path}, line 2: the dates read both as dd/mm/yyyy and as mm/dd/yyyy (no day is above 12); "
            "pass --date-format dd/mm/yyyy or --date-format mm/dd/yyyy"
        )
        assert bars_snapshot() == before
        assert DataLoad.objects.get().status == DataLoad.Status.FAILED

    @pytest.mark.parametrize(
        ("date_format", "expected"),
        [
            ("mm/dd/yyyy", [dt.date(2025, 10, 1), dt.date(2025, 10, 2)]),
            ("dd/mm/yyyy", [dt.date(2025, 1, 10), dt.date(2025, 2, 10)]),
        ],
    )
    def test_the_date_format_option_says_how_to_read_them(self, write_csv, date_format, expected):
        path = write_csv("gc.csv", seed_file("10/01/2025", "10/02/2025"))

        prices_import_csv(symbol="GC=F", path=path, date_format=date_format)

        assert list(PriceBar.objects.values_list("date", flat=True)) == expected

    def test_a_given_format_is_enforced_on_every_row(self, write_csv):
        path = write_csv("gc.csv", seed_file("10/01/2025", "13/01/2025"))

        with pytest.raises(MarketDataError, match=r"line 3: unparseable date '13/01/2025' \(expected mm/dd/yyyy\)"):
            prices_import_csv(symbol="GC=F", path=path, date_format="mm/dd/yyyy")

    def test_an_unknown_date_format_is_refused(self, write_csv):
        path = write_csv("gc.csv", seed_file("13/01/2025"))

        with pytest.raises(
            MarketDataError, match=r"Unknown date format 'd/m/y'; use dd/mm/yyyy, mm/dd/yyyy or yyyy-mm-dd"
        ):
            prices_import_csv(symbol="GC=F", path=path, date_format="d/m/y")

    def test_a_file_mixing_day_first_and_iso_dates_is_refused_at_the_first_iso_line(self, write_csv):
        path = write_csv("mixed.csv", seed_file("13/01/2025", "14/01/2025", "2025-01-15", "16/01/2025"))

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value) == (
            f"{path}, line 4: date '2025-01-15' is not dd/mm/yyyy like the file's first date (line 2); "
            "a file must use one date format"
        )
        assert not PriceBar.objects.exists()

    def test_a_file_mixing_iso_and_slash_dates_is_refused_at_the_first_slash_line(self, write_csv):
        path = write_csv("mixed.csv", seed_file("2025-01-13", "14/01/2025"))

        with pytest.raises(MarketDataError, match=r"line 3: date '14/01/2025' is not yyyy-mm-dd like the file's first"):
            prices_import_csv(symbol="GC=F", path=path)

    def test_a_file_mixing_day_first_and_month_first_dates_is_refused_at_the_line_that_breaks(self, write_csv):
        path = write_csv("mixed.csv", seed_file("13/01/2025", "14/01/2025", "01/15/2025"))

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value) == (
            f"{path}, line 4: date '01/15/2025' reads only as mm/dd/yyyy, but line 2's '13/01/2025' reads only as "
            "dd/mm/yyyy: the file mixes day-first and month-first dates"
        )


FUTURE = (new_york_today() + dt.timedelta(days=3)).strftime("%d/%m/%Y")
# Day-first dates with a day above 12, so that the file reads only one way.
GOOD_ROWS = "13/01/2025,2000,2010,1990,1995,5\n14/01/2025,2001,2011,1991,1996,6\n"
BIG_FIELD = "9" * 200_000  # past csv's field size limit (128 KiB)

BAD_FILES = {
    "unparseable date": (
        f"{SEED_HEADER}\n{GOOD_ROWS}6 Jan 2025,2002,2012,1992,1997,7\n",
        4,
        "unparseable date '6 Jan 2025'",
    ),
    "impossible date": (f"{SEED_HEADER}\n{GOOD_ROWS}31/02/2025,2002,2012,1992,1997,7\n", 4, "unparseable date"),
    "negative close": (f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,-2002,2012,1992,1997,7\n", 4, "close is negative"),
    "zero close": (f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,0,2012,1992,1997,7\n", 4, "close is zero"),
    "zero open": (f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,2012,1992,0,7\n", 4, "open is zero"),
    "NaN close": (f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,NaN,2012,1992,1997,7\n", 4, "close is not a number"),
    "non-numeric high": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,n/a,1992,1997,7\n",
        4,
        "high 'n/a' is not a number",
    ),
    "high below low": (f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,1980,1992,1997,7\n", 4, "high 1980.0 is below low"),
    "negative volume": (f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,2012,1992,1997,-7\n", 4, "volume -7.0"),
    "future date": (f"{SEED_HEADER}\n{GOOD_ROWS}{FUTURE},2002,2012,1992,1997,7\n", 4, "is in the future"),
    "conflicting duplicate": (
        f"{SEED_HEADER}\n{GOOD_ROWS}13/01/2025,2000.5,2010,1990,1995,5\n",
        4,
        "2025-01-13 appears again with different values (first at line 2)",
    ),
    "close missing": (f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,,2012,1992,1997,7\n", 4, "the close is missing"),
    "short line": (f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,2012\n", 4, "3 fields, but the header has 6"),
    "garbage header": ("when,what,why\n2025-01-02,1,2\n", 1, "unrecognised header"),
    "header without close": ("Date,Open,High\n2025-01-02,1,2\n", 1, "it has no close column"),
    "empty file": ("", 1, "the file is empty"),
    "header only": (f"{SEED_HEADER}\n", 1, "not followed by any data rows"),
    "truncated yfinance export": ("Price,Close\nTicker,GC=F\n", 3, "expected yfinance's third header line"),
    # Plausibility (issue 10): physical sense per bar.
    "absurd close 1e308": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,1e308,2012,1992,1997,7\n",
        4,
        "close 1e+308 is outside the plausible range for GC=F (1 to 100,000)",
    ),
    "absurd close 1e-300": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,1e-300,2012,1992,1997,7\n",
        4,
        "close 1e-300 is outside the plausible range for GC=F",
    ),
    "infinite close": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,inf,2012,1992,1997,7\n",
        4,
        "close is not a number (inf)",
    ),
    "absurd high": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,250000,1992,1997,7\n",
        4,
        "high 250000.0 is outside the plausible range for GC=F",
    ),
    "close above high": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2020,2012,1992,1997,7\n",
        4,
        "close 2020.0 is above high 2012.0",
    ),
    "close below low": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,1980,2012,1992,1997,7\n",
        4,
        "close 1980.0 is below low 1992.0",
    ),
    "open below low": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,2012,1992,1980,7\n",
        4,
        "open 1980.0 is below low 1992.0",
    ),
    "volume 1e308": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,2012,1992,1997,1e308\n",
        4,
        "volume 1e+308 is too large",
    ),
    "volume 2e19": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,2012,1992,1997,2e19\n",
        4,
        "volume 2e+19 is too large",
    ),
    "infinite volume": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,2012,1992,1997,inf\n",
        4,
        "volume inf is not a whole number",
    ),
    "year 0001": (f"{SEED_HEADER}\n0001-01-15,2002,2012,1992,1997,7\n", 2, "date 0001-01-15 is before 1900"),
    "field over 128 KB": (
        f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,2002,2012,1992,1997,{BIG_FIELD}\n",
        4,
        "a field is longer than",
    ),
}


class TestBadFiles:
    """One bad row fails the whole import: the error names the file line, the bars stay exactly as they were."""

    @pytest.fixture
    def seeded(self):
        # A bar the bad file would update, and one it does not touch.
        PriceBarFactory(symbol="GC=F", date=dt.date(2025, 1, 13), close=1999.0)
        PriceBarFactory(symbol="GC=F", date=dt.date(2024, 12, 31), close=1850.0)
        return bars_snapshot()

    @pytest.mark.parametrize(("content", "line", "reason"), BAD_FILES.values(), ids=BAD_FILES.keys())
    def test_fails_naming_the_line_and_changes_nothing(self, write_csv, seeded, content, line, reason):
        path = write_csv("bad.csv", content)

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        message = str(raised.value)
        assert message.startswith(f"{path}, line {line}: "), message
        assert reason in message
        assert bars_snapshot() == seeded
        load = DataLoad.objects.get()
        assert (load.kind, load.status, load.error) == (DataLoad.Kind.IMPORT, DataLoad.Status.FAILED, message)
        assert load.finished_at is not None
        assert (load.rows_inserted, load.rows_updated, load.first_date) == (0, 0, None)

    def test_a_database_held_by_another_import_is_named_and_retryable(self, write_csv, seeded, monkeypatch):
        """On SQLite the loser of two big imports waits out the lock timeout, then its write fails."""

        def locked(*args, **kwargs):
            raise OperationalError("database is locked")

        monkeypatch.setattr(PriceBar.objects, "bulk_create", locked)
        path = write_csv("gc.csv", f"{SEED_HEADER}\n{GOOD_ROWS}")

        with pytest.raises(MarketDataUnavailable) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value) == (
            f"{path}: another import or write holds the database (database is locked); nothing was written; "
            "try again when it has finished"
        )
        assert bars_snapshot() == seeded
        load = DataLoad.objects.get()
        assert (load.status, load.error) == (DataLoad.Status.FAILED, str(raised.value))

    def test_missing_file(self, tmp_path):
        with pytest.raises(MarketDataError, match="no such file"):
            prices_import_csv(symbol="GC=F", path=tmp_path / "nope.csv")
        assert DataLoad.objects.get().status == DataLoad.Status.FAILED

    def test_binary_file(self, tmp_path):
        path = tmp_path / "gold.xlsx"
        path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe")
        with pytest.raises(MarketDataError, match="not a UTF-8 text file"):
            prices_import_csv(symbol="GC=F", path=path)

    def test_unknown_symbol_is_refused_before_any_load(self, write_csv):
        path = write_csv("gc.csv", f"{SEED_HEADER}\n{GOOD_ROWS}")
        with pytest.raises(MarketDataError, match=r"Unknown symbol 'GOLD'; the market data symbols are GC=F, \^GSPC"):
            prices_import_csv(symbol="GOLD", path=path)
        assert not DataLoad.objects.exists()


class TestImportPricesCommand:
    def test_prints_a_one_line_summary(self, write_csv, capsys):
        path = write_csv("gc.csv", f"{SEED_HEADER}\n{GOOD_ROWS}")

        call_command("import_prices", "GC=F", str(path))

        assert (
            capsys.readouterr().out == "GC=F: 2 inserted, 0 updated, 0 unchanged, 0 skipped (2025-01-13 … 2025-01-14)\n"
        )

    def test_a_bad_row_is_a_command_error_naming_the_line(self, write_csv):
        path = write_csv("bad.csv", f"{SEED_HEADER}\n{GOOD_ROWS}15/01/2025,-2002,2012,1992,1997,7\n")

        with pytest.raises(CommandError, match=r"bad\.csv, line 4: close is negative \(-2002\.0\)"):
            call_command("import_prices", "GC=F", str(path))
        assert not PriceBar.objects.exists()

    def test_an_ambiguous_file_exits_non_zero_naming_the_format_to_pass(self, write_csv):
        path = write_csv("us.csv", seed_file("10/01/2025", "10/02/2025"))

        with pytest.raises(CommandError, match=r"us\.csv, line 2: .*pass --date-format dd/mm/yyyy") as raised:
            call_command("import_prices", "GC=F", str(path))

        assert raised.value.returncode == 1
        assert not PriceBar.objects.exists()

    def test_date_format_option(self, write_csv, capsys):
        path = write_csv("us.csv", seed_file("10/01/2025", "10/02/2025"))

        call_command("import_prices", "GC=F", str(path), "--date-format", "mm/dd/yyyy")

        assert "(2025-10-01 … 2025-10-02)" in capsys.readouterr().out

    def test_an_unknown_date_format_is_a_usage_error(self, write_csv):
        path = write_csv("gc.csv", seed_file("13/01/2025"))

        with pytest.raises(CommandError, match="invalid choice: 'dd.mm.yyyy'"):
            call_command("import_prices", "GC=F", str(path), "--date-format", "dd.mm.yyyy")

    def test_an_unknown_symbol_is_a_command_error(self, write_csv):
        path = write_csv("gc.csv", f"{SEED_HEADER}\n{GOOD_ROWS}")
        with pytest.raises(CommandError, match="Unknown symbol"):
            call_command("import_prices", "XAU", str(path))
