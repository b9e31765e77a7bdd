"""Every name a bench script imports from the project exists: the scripts are not run by the suite, so an
import inside a function (made only when the script prints its report) would otherwise break unseen."""

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
PROJECT_PACKAGES = ("bench", "forecasts", "goldsite", "tests", "training")


def project_imports() -> list[tuple[str, str, str]]:
    """(where, module, name) for every `from <project module> import name` in bench/, at any depth."""
    found = []
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_from = isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
            if is_from and node.module.split(".")[0] in PROJECT_PACKAGES:
                found += [(f"{path.name}:{node.lineno}", node.module, alias.name) for alias in node.names]
    return found


def test_bench_scripts_import_project_names():
    assert project_imports(), "no project imports found in bench/: the walk is broken"


@pytest.mark.parametrize(("where", "module", "name"), project_imports(), ids=lambda value: str(value))
def test_every_project_name_a_bench_script_imports_exists(where, module, name):
    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None, (
        f"{where}: `from {module} import {name}`: {module} has no {name}"
    )
