"""Cold start of the web process, and proof that it never imports TensorFlow (or Keras, MLflow, hyperopt).

1. gunicorn as the entrypoint runs it (production settings, 1 worker, a migrated SQLite database in a temporary
   folder, no broker): seconds from starting the process to the first 200 from /health/. Target: ≤ 3 s.
   Also `docker/entrypoint.sh web`, which applies migrations first (what a container start costs).
2. `python -X importtime -c "import goldsite.wsgi"`: the import time of the WSGI application and whether any
   heavy ML package appears in it; then the same application serves a few pages in-process and `sys.modules`
   is checked again.

    .venv/bin/python bench/cold_start.py [--runs 5]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import harness  # noqa: E402

HEAVY = ("tensorflow", "keras", "mlflow", "hyperopt")
PROBE = """
import sys
import goldsite.wsgi
from django.test import Client
client = Client()
for path in ("/health/", "/accounts/login/", "/api/schema/", "/api/forecasts/latest/", "/api/docs/"):
    response = client.get(path)
    print(path, response.status_code)
print("heavy:", sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY)))
""".replace("HEAVY", repr(HEAVY))


def parse_importtime(lines: list[str]) -> dict[str, int]:
    """{module: self time in µs} from `-X importtime` lines: `import time: <self> | <cumulative> | <module>`."""
    modules = {}
    for line in lines:
        if not line.startswith("import time:"):
            continue
        own, _cumulative, name = line.removeprefix("import time:").split("|")
        if own.strip().isdigit():
            modules[name.strip()] = int(own)
    return modules


def time_to_first_health(env: dict[str, str], command: list[str], port: int) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        harness.wait_for_http(f"http://127.0.0.1:{port}/health/", seconds=60)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold starts to time")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="goldsite-bench-cold-"))
    port = harness.free_port()
    env = harness.stack_environment(
        database_url=f"sqlite:///{workdir / 'db.sqlite3'}",
        broker_url=None,
        workdir=workdir,
        PORT=str(port),
        WEB_CONCURRENCY="1",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
    )
    harness.entrypoint(env, "migrate")

    gunicorn = [
        str(harness.VENV_BIN / "gunicorn"),
        "goldsite.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--access-logfile",
        "-",
    ]
    plain = [time_to_first_health(env, gunicorn, port) for _ in range(args.runs)]
    with_migrate = [time_to_first_health(env, [str(harness.ENTRYPOINT), "web"], port) for _ in range(args.runs)]

    importtime = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import goldsite.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr.splitlines()
    modules = parse_importtime(importtime)
    total_us = sum(modules.values())
    heavy_imports = sorted({name.split(".")[0] for name in modules} & set(HEAVY))
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout

    print(f"gunicorn, 1 worker, production settings, SQLite, {args.runs} cold starts:")
    print(f"  process start -> first 200 on /health/: median {statistics.median(plain):.2f} s (max {max(plain):.2f} s)")
    print(f"  entrypoint.sh web (migrate, then gunicorn): median {statistics.median(with_migrate):.2f} s")
    print(f"  target <= 3 s: {'met' if statistics.median(plain) <= 3 else 'MISSED'}")
    print(f"python -X importtime -c 'import goldsite.wsgi': {total_us / 1e6:.2f} s of self time over all modules")
    print(f"  heavy ML packages imported: {heavy_imports or 'none'}")
    print("after serving pages in-process:")
    for line in probe.strip().splitlines():
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
