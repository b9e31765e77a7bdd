"""The project as a whole: configuration checks and what the web process must not load."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEAVY = ("tensorflow", "keras", "mlflow", "hyperopt")


def test_manage_check_passes():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_web_process_never_imports_ml_libraries():
    """Loading every URL, view, API and admin module must not pull in TensorFlow, MLflow or hyperopt."""
    code = (
        "import django, sys; django.setup();"
        "import goldsite.urls, goldsite.wsgi;"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "from django.contrib import admin; admin.autodiscover();"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]; print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "goldsite.settings.test", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
