"""Cheap sanity checks on the shell scripts that CI and the image run."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPTS = [".ci/run", "docker/entrypoint.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_bash_syntax(script):
    result = subprocess.run(["bash", "-n", script], cwd=ROOT, capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_shellcheck_clean(script):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    result = subprocess.run(["shellcheck", script], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout
