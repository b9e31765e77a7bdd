"""Loads checked against their neighbours and against history: no silent jump, no silent rewrite.

A bar that makes sense alone can still be wrong: a one-day move beyond settings.PRICE_MAX_DAILY_MOVE_PCT (25% by
default) is refused, naming the line, unless allowed; a load that would change stored closes by more than
settings.PRICE_OVERWRITE_TOLERANCE_PCT (0.5%) is refused, saying how many and by how much, unless told to
overwrite. Both apply to CSV imports and to Yahoo fetches; nothing is written when either refuses.
"""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from forecasts.exceptions import MarketDataError
from forecasts.models import DataLoad, PriceBar
from forecasts.services.prices import prices_fetch, prices_import_csv
from tests.factories import PriceBarFactory
from tests.forecasts.market_data import bars_snapshot, download_frame, seed_file

pytestmark = pytest.mark.django_db


def stored_closes(symbol: str = "GC=F") -> dict[dt.date, float]:
    return dict(PriceBar.objects.filter(symbol=symbol).values_list("date", "close"))


def store(day: str, close: float, symbol: str = "GC=F") -> PriceBar:
    return PriceBarFactory(symbol=symbol, date=dt.date.fromisoformat(day), close=close)


class TestJumps:
    def test_a_99_percent_one_day_move_is_refused_naming_the_line(self, write_csv):
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,2001", "15/01/2025,3990"))

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value) == (
            f"{path}, line 4: the close moves +99.4% from 2025-01-14 (2001.0, line 3) to 2025-01-15 (3990.0, line 4), "
            "more than the 25% a day allowed for GC=F; nothing was written. Pass --allow-jumps if the move is real."
        )
        assert not PriceBar.objects.exists()
        assert DataLoad.objects.get().status == DataLoad.Status.FAILED

    def test_a_crash_is_a_move_too(self, write_csv):
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,20"))

        with pytest.raises(MarketDataError, match=r"line 3: the close moves -99\.0% from 2025-01-13"):
            prices_import_csv(symbol="GC=F", path=path)

    def test_a_move_within_the_limit_passes(self, write_csv):
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,2490", "15/01/2025,1900"))

        assert prices_import_csv(symbol="GC=F", path=path).rows_inserted == 3

    def test_the_limit_is_a_setting_per_symbol(self, write_csv, settings):
        settings.PRICE_MAX_DAILY_MOVE_PCT = {**settings.PRICE_MAX_DAILY_MOVE_PCT, "GC=F": 5.0}
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,2110"))

        with pytest.raises(MarketDataError, match=r"more than the 5% a day allowed for GC=F"):
            prices_import_csv(symbol="GC=F", path=path)

    def test_allow_jumps_takes_a_real_move(self, write_csv):
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,3990"))

        load = prices_import_csv(symbol="GC=F", path=path, allow_jumps=True)

        assert load.rows_inserted == 2
        assert stored_closes()[dt.date(2025, 1, 14)] == 3990.0

    def test_the_stored_bar_before_the_file_is_a_neighbour(self, write_csv):
        store("2025-01-10", 2000.0)
        before = bars_snapshot()
        path = write_csv("gc.csv", seed_file("13/01/2025,3000", "14/01/2025,3001"))

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value).startswith(
            f"{path}, line 2: the close moves +50.0% from 2025-01-10 (2000.0, stored) to 2025-01-13 (3000.0, line 2)"
        )
        assert bars_snapshot() == before

    def test_the_stored_bar_after_the_file_is_a_neighbour(self, write_csv):
        store("2025-01-15", 2000.0)
        path = write_csv("gc.csv", seed_file("13/01/2025,3001", "14/01/2025,3000"))

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value).startswith(
            f"{path}, line 3: the close moves -33.3% from 2025-01-14 (3000.0, line 3) to 2025-01-15 (2000.0, stored)"
        )

    def test_a_stored_bar_between_the_files_rows_is_a_neighbour(self, write_csv):
        store("2025-01-14", 3000.0)
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "15/01/2025,2001"))

        with pytest.raises(
            MarketDataError, match=r"line 2: the close moves \+50\.0% from 2025-01-13 .* \(3000\.0, stored\)"
        ):
            prices_import_csv(symbol="GC=F", path=path)

    def test_bars_far_apart_are_not_neighbours(self, write_csv):
        store("2015-12-31", 1060.0)  # older history, years before the file: not a one-day move
        path = write_csv("gc.csv", seed_file("13/01/2025,2000"))

        assert prices_import_csv(symbol="GC=F", path=path).rows_inserted == 1

    def test_a_jump_already_stored_does_not_block_a_repeat_import(self, write_csv):
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,3990"))
        prices_import_csv(symbol="GC=F", path=path, allow_jumps=True)

        again = prices_import_csv(symbol="GC=F", path=path)

        assert (again.rows_inserted, again.rows_unchanged) == (0, 2)

    def test_a_fetched_bar_jumping_from_the_stored_ones_is_refused(self, yahoo):
        store("2025-09-22", 3775.1)
        before = bars_snapshot()
        yahoo.answer("GC=F", download_frame("GC=F", {"2025-09-23": (5700.0, 5710.0, 5690.0, 5700.0, 600.0)}))

        with pytest.raises(
            MarketDataError, match=r"Yahoo GC=F, bar 2025-09-23: the close moves \+51\.0% from 2025-09-22"
        ):
            prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))

        assert bars_snapshot() == before
        [load] = prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22), allow_jumps=True)
        assert load.rows_inserted == 1


class TestOverwrites:
    @pytest.fixture
    def history(self):
        for day, close in (("2025-01-13", 2000.0), ("2025-01-14", 2010.0), ("2025-01-15", 2020.0)):
            store(day, close)
        return bars_snapshot()

    def test_changing_stored_closes_beyond_the_tolerance_is_refused_saying_how_many_and_how_much(
        self, write_csv, history
    ):
        path = write_csv(
            "gc.csv", seed_file("13/01/2025,2000", "14/01/2025,2100", "15/01/2025,2020.5", "16/01/2025,2130")
        )

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value) == (
            f"{path}, line 3: the load would change 1 stored close by more than 0.5% (by up to +4.5%; the first is "
            "2025-01-14: 2010.0 -> 2100.0); nothing was written. Pass --overwrite if the new values are right."
        )
        assert bars_snapshot() == history
        assert DataLoad.objects.get().status == DataLoad.Status.FAILED

    def test_the_message_counts_every_changed_close_and_the_largest_change(self, write_csv, history):
        path = write_csv("gc.csv", seed_file("13/01/2025,1900", "14/01/2025,2100", "15/01/2025,2030"))

        with pytest.raises(MarketDataError) as raised:
            prices_import_csv(symbol="GC=F", path=path)

        assert str(raised.value).startswith(
            f"{path}, line 2: the load would change 2 stored closes by more than 0.5% "
            "(by up to -5.0%; the first is 2025-01-13: 2000.0 -> 1900.0)"
        )

    def test_small_revisions_pass(self, write_csv, history):
        path = write_csv("gc.csv", seed_file("13/01/2025,2001", "14/01/2025,2009", "15/01/2025,2020"))

        load = prices_import_csv(symbol="GC=F", path=path)

        assert (load.rows_updated, load.rows_unchanged) == (3, 0)  # the other columns were rewritten too
        assert stored_closes()[dt.date(2025, 1, 14)] == 2009.0

    def test_overwrite_takes_the_new_values(self, write_csv, history):
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,2100", "15/01/2025,2020"))

        load = prices_import_csv(symbol="GC=F", path=path, overwrite=True)

        assert stored_closes()[dt.date(2025, 1, 14)] == 2100.0
        assert load.rows_updated == 3

    def test_the_tolerance_is_a_setting(self, write_csv, history, settings):
        settings.PRICE_OVERWRITE_TOLERANCE_PCT = 5.0
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,2100", "15/01/2025,2020"))

        assert prices_import_csv(symbol="GC=F", path=path).rows_updated == 3

    def test_a_yahoo_revision_beyond_the_tolerance_is_refused_unless_overwrite(self, yahoo):
        store("2025-09-22", 3775.1)
        before = bars_snapshot()
        yahoo.answer("GC=F", download_frame("GC=F", {"2025-09-22": (3600.0, 3610.0, 3590.0, 3600.0, 600.0)}))

        with pytest.raises(MarketDataError, match=r"Yahoo GC=F, bar 2025-09-22: the load would change 1 stored close"):
            prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22))

        assert bars_snapshot() == before
        [load] = prices_fetch(symbols=["GC=F"], since=dt.date(2025, 9, 22), overwrite=True)
        assert (load.rows_updated, stored_closes()[dt.date(2025, 9, 22)]) == (1, 3600.0)


class TestWrongFile:
    """Issue 10: `import_prices GC=F sp500.csv` exited 0 with "186 inserted, 1254 updated"."""

    def test_sp500_values_into_gold_are_refused_and_nothing_is_written(self, shared_data):
        prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")
        before = bars_snapshot()

        with pytest.raises(CommandError) as raised:
            call_command("import_prices", "GC=F", str(shared_data / "sp500.csv"))

        message = str(raised.value)
        assert raised.value.returncode == 1
        assert "sp500.csv, line " in message
        assert "stored closes by more than 0.5%" in message and "Pass --overwrite" in message
        assert bars_snapshot() == before
        assert DataLoad.objects.latest("pk").status == DataLoad.Status.FAILED

    def test_with_overwrite_the_jump_at_the_boundary_still_refuses_it(self, shared_data):
        prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")
        before = bars_snapshot()

        with pytest.raises(CommandError, match=r"sp500\.csv, line \d+: the close moves .* Pass --allow-jumps"):
            call_command("import_prices", "GC=F", str(shared_data / "sp500.csv"), "--overwrite")

        assert bars_snapshot() == before


class TestCommandFlags:
    def test_allow_jumps_flag(self, write_csv, capsys):
        path = write_csv("gc.csv", seed_file("13/01/2025,2000", "14/01/2025,3990"))

        with pytest.raises(CommandError, match="line 3: the close moves"):
            call_command("import_prices", "GC=F", str(path))
        call_command("import_prices", "GC=F", str(path), "--allow-jumps")

        assert capsys.readouterr().out.startswith("GC=F: 2 inserted")

    def test_overwrite_flag(self, write_csv):
        store("2025-01-13", 2000.0)
        path = write_csv("gc.csv", seed_file("13/01/2025,2100"))

        with pytest.raises(CommandError, match="Pass --overwrite"):
            call_command("import_prices", "GC=F", str(path))
        call_command("import_prices", "GC=F", str(path), "--overwrite")

        assert stored_closes() == {dt.date(2025, 1, 13): 2100.0}

    def test_fetch_prices_takes_the_same_flags(self, yahoo):
        store("2025-09-22", 3775.1)
        yahoo.answer("GC=F", download_frame("GC=F", {"2025-09-22": (3600.0, 3610.0, 3590.0, 3600.0, 600.0)}))

        with pytest.raises(CommandError, match="Pass --overwrite"):
            call_command("fetch_prices", "--symbol", "GC=F", "--since", "2025-09-22")
        call_command("fetch_prices", "--symbol", "GC=F", "--since", "2025-09-22", "--overwrite", "--allow-jumps")

        assert stored_closes() == {dt.date(2025, 9, 22): 3600.0}
