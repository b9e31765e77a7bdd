"""`manage.py import_prices` as an operator runs it: a real process on a real SQLite file.

What it must do on failure: exit non-zero with one line naming the file line (or, when another import holds the
database, saying so and to retry), never a traceback, and write nothing.
"""

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent.parent

pytestmark = pytest.mark.slow


class Site:
    """A migrated SQLite database in a temporary folder and a way to run manage.py against it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = folder / "goldsite.sqlite3"
        # A one-second lock wait (the setting's default is 20 s) keeps the locked case quick.
        self.env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "goldsite.settings.base",
            "DATABASE_URL": f"sqlite:///{self.database}?timeout=1",
        }

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )

    def csv(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def count(self, table: str) -> int:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 (a fixed name)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    site = Site(tmp_path_factory.mktemp("import-site"))
    migrated = site.manage("migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    return site


GOOD = """
    Date,Close,High,Low,Open,Volume
    13/01/2025,2000,2010,1990,2000,5
    14/01/2025,2001,2011,1991,2001,6
"""


def test_a_bad_line_exits_1_naming_it_without_a_traceback(site):
    path = site.csv("bad.csv", GOOD + "    15/01/2025,2002,2012,1992,1997,1e308\n")

    result = site.manage("import_prices", "GC=F", str(path))

    assert result.returncode == 1
    assert f"CommandError: {path}, line 4: volume 1e+308 is too large" in result.stderr
    assert "Traceback" not in result.stderr
    assert site.count("forecasts_pricebar") == 0


def test_the_loser_of_a_locked_database_exits_1_saying_another_write_holds_it(site):
    path = site.csv("good.csv", GOOD)
    holder = sqlite3.connect(site.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another import in the middle of its write
    try:
        result = site.manage("import_prices", "GC=F", str(path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("CommandError:")]
    assert f"{path}: another import or write holds the database" in error
    assert "nothing was written; try again when it has finished" in error
    assert site.count("forecasts_pricebar") == 0

    again = site.manage("import_prices", "GC=F", str(path))  # the retry it suggests

    assert again.returncode == 0, again.stderr
    assert site.count("forecasts_pricebar") == 2
