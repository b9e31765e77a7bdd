""".env.example documents every variable the settings read, each with a comment, and changes nothing when copied."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ENV_EXAMPLE = ROOT / ".env.example"


def test_every_variable_the_settings_read_is_documented(settings_variables, documented_variables):
    missing = {
        f"{name} (read in {file})"
        for file, names in settings_variables.items()
        for name in names
        if name not in documented_variables
    }

    assert not missing, f"add to .env.example with a comment and the default: {sorted(missing)}"


def test_each_variable_is_documented_once(documented_variables):
    duplicates = {name for name in documented_variables if documented_variables.count(name) > 1}

    assert not duplicates


def _is_assignment(line: str) -> bool:
    return re.match(r"^#?\s*[A-Z][A-Z0-9_]*=", line) is not None


def test_each_variable_has_a_comment_line_above_it():
    lines = ENV_EXAMPLE.read_text().splitlines()
    bare = [
        line
        for previous, line in zip(["", *lines], lines, strict=False)
        if _is_assignment(line) and (not previous.startswith("# ") or _is_assignment(previous))
    ]

    assert not bare


def test_copying_it_to_dotenv_changes_nothing():
    """Every assignment is commented out: `cp .env.example .env` must not switch DEBUG on in production."""
    active = [line for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^\s*[A-Za-z_][A-Za-z0-9_]*=", line)]

    assert not active
