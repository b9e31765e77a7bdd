"""The one place the environment is read.

Every setting that can change between machines comes from an environment variable (or a `.env` file
beside `manage.py`, for local work). Defaults are the embedded ones: SQLite under `var/`, Celery tasks
run eagerly in-process, MLflow in a SQLite store under `var/`.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

_dotenv = BASE_DIR / ".env"
if _dotenv.is_file():
    environ.Env.read_env(str(_dotenv), overwrite=False)
