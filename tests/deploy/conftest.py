"""Fixtures for the deployment tests, which run project code and scripts in clean subprocesses."""

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def clean_env() -> Callable[..., dict[str, str]]:
    """Build a minimal environment (the project's interpreter first on PATH, no Django variables) plus overrides."""

    def build(**overrides: str) -> dict[str, str]:
        env = {
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
        }
        env.update(overrides)
        return env

    return build


ROOT = Path(__file__).resolve().parent.parent.parent
_ENV_READ = re.compile(r"""\b(?:env(?:\.\w+)?|_required)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
_DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


@pytest.fixture
def settings_variables() -> dict[str, set[str]]:
    """The environment variables each settings module reads (`env.<type>("NAME", ...)`), by file name."""
    files = sorted((ROOT / "goldsite" / "settings").glob("*.py")) + [ROOT / "goldsite" / "env.py"]
    return {path.name: set(_ENV_READ.findall(path.read_text())) for path in files}


@pytest.fixture
def documented_variables() -> list[str]:
    """The variables .env.example lists (`NAME=...` or `# NAME=...`), in order."""
    return _DOCUMENTED.findall((ROOT / ".env.example").read_text())
