"""Load-test `GET /api/forecasts/latest/` on gunicorn as deployed, against PostgreSQL, over loopback.

Creates a throw-away PostgreSQL database on the server of DATABASE_URL (default: postgres@127.0.0.1:5432), seeds
it (400 days of bars, a champion and its naive baseline, 60 days of live forecasts and the next day's), creates
a user and a token, starts `docker/entrypoint.sh web` (gunicorn, WEB_CONCURRENCY workers, production settings)
and drives it with Debian's `wrk` (a Lua script adds the token and reports the percentiles), or a Python
thread-pool client when wrk is absent. Prints requests/s, p50/p90/p99 latency and errors, then drops the database.
Target: p99 ≤ 25 ms at ≥ 300 requests/s.

    .venv/bin/python bench/api_load.py [--seconds 60] [--connections 4] [--conn-max-age 0] [--cache-seconds 0]
"""

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import harness  # noqa: E402

URL_PATH = "/api/forecasts/latest/"
WRK_SCRIPT = """
wrk.headers["Authorization"] = "Token %(token)s"

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"errors": {"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
"""


def seed(env: dict[str, str]) -> str:
    """Migrate and seed the database through the ORM (production settings); returns a user's API token."""
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from forecasts.calendar import last_completed_trading_day, next_trading_day
    from forecasts.models import Forecast
    from tests.factories import DataLoadFactory, ForecastFactory, ModelVersionFactory, TrainingRunFactory, UserFactory
    from tests.forecasts.forecasters import gold_close, store_closes, trading_days
    from training.models import ModelVersion

    call_command("migrate", verbosity=0)
    newest = last_completed_trading_day()
    days = trading_days(newest - dt.timedelta(days=400), newest)
    store_closes(days)
    DataLoadFactory(first_date=days[0], last_date=newest, finished_at=timezone.now())
    run = TrainingRunFactory()
    naive = ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, training_run=run)
    champion = ModelVersionFactory(architecture=ModelVersion.Architecture.MLP, training_run=run, is_champion=True)
    targets = [*days[-60:], next_trading_day(newest)]
    for as_of, target in zip(days[-61:], targets, strict=True):
        close = gold_close(as_of)
        for version in (champion, naive):
            ForecastFactory(
                model_version=version,
                kind=Forecast.Kind.LIVE,
                target_date=target,
                as_of_date=as_of,
                last_close=close,
                predicted_close=close,
                lower_80=close * 0.98,
                upper_80=close * 1.02,
                lower_95=close * 0.97,
                upper_95=close * 1.03,
            )
    token = Token.objects.create(user=UserFactory(username="bench")).key
    connection.close()
    return token


def run_wrk(url: str, token: str, *, seconds: int, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"token": token})
    try:
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", script.name]
        command.append(url)
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        Path(script.name).unlink()
    stats = json.loads(output.strip().splitlines()[-1])
    return {
        "tool": f"wrk -t{threads} -c{connections}",
        "requests": stats["requests"],
        "seconds": stats["duration_us"] / 1e6,
        "p50_ms": stats["p50_us"] / 1000,
        "p90_ms": stats["p90_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "max_ms": stats["max_us"] / 1000,
        "errors": sum(stats["errors"].values()),
    }


def run_threads(port: int, token: str, *, seconds: int, connections: int) -> dict:
    """The fallback client: `connections` threads, each with one keep-alive connection, as fast as they can."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=5)
        mine, failed = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", URL_PATH, headers={"Authorization": f"Token {token}"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = HTTPConnection("127.0.0.1", port, timeout=5)
            mine.append(time.perf_counter() - started)
            failed += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "tool": f"python threads x{connections}",
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": cuts[49] * 1000,
        "p90_ms": cuts[89] * 1000,
        "p99_ms": cuts[98] * 1000,
        "max_ms": max(latencies) * 1000,
        "errors": errors[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="measured load duration")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--conn-max-age", type=int, default=None, help="CONN_MAX_AGE (default: production's 60)")
    parser.add_argument(
        "--cache-seconds", type=int, default=None, help="API_LATEST_CACHE_SECONDS (default: the settings' 5)"
    )
    parser.add_argument("--python-client", action="store_true", help="use the thread-pool client even with wrk")
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="goldsite-bench-api-"))
    port = harness.free_port()
    with harness.temporary_database(harness.postgres_server_url(args.database_url)) as database_url:
        overrides = {"PORT": str(port), "WEB_CONCURRENCY": str(args.workers)}
        if args.conn_max_age is not None:
            overrides["CONN_MAX_AGE"] = str(args.conn_max_age)
        if args.cache_seconds is not None:
            overrides["API_LATEST_CACHE_SECONDS"] = str(args.cache_seconds)
        env = harness.stack_environment(database_url=database_url, broker_url=None, workdir=workdir, **overrides)
        token = seed(env)
        web = harness.Process(name="web", args=("web",), env=env, logdir=workdir).start()
        try:
            harness.wait_for_http(f"http://127.0.0.1:{port}/health/", seconds=60, process=web)
            use_wrk = shutil.which("wrk") and not args.python_client
            url = f"http://127.0.0.1:{port}{URL_PATH}"
            if use_wrk:
                run_wrk(url, token, seconds=args.warmup, connections=args.connections, threads=args.threads)
                result = run_wrk(url, token, seconds=args.seconds, connections=args.connections, threads=args.threads)
            else:
                run_threads(port, token, seconds=args.warmup, connections=args.connections)
                result = run_threads(port, token, seconds=args.seconds, connections=args.connections)
        finally:
            web.stop()
    shutil.rmtree(workdir, ignore_errors=True)

    rate = result["requests"] / result["seconds"]
    print(
        f"GET {URL_PATH}: gunicorn {args.workers} workers, PostgreSQL, "
        f"CONN_MAX_AGE={'default' if args.conn_max_age is None else args.conn_max_age}, "
        f"API_LATEST_CACHE_SECONDS={'default' if args.cache_seconds is None else args.cache_seconds}, "
        f"{result['tool']}, {result['seconds']:.0f} s"
    )
    print(
        f"  {rate:8.1f} requests/s   p50 {result['p50_ms']:6.2f} ms   p90 {result['p90_ms']:6.2f} ms   "
        f"p99 {result['p99_ms']:6.2f} ms   max {result['max_ms']:7.2f} ms   errors {result['errors']}"
    )
    met = result["p99_ms"] <= 25 and rate >= 300 and result["errors"] == 0
    print(f"  target p99 <= 25 ms at >= 300 requests/s, no errors: {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
