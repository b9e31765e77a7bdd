"""Reliability soak: mixed traffic against the deployed stack while its Celery worker is SIGKILLed and restarted.

The stack, on loopback, started the way docker/entrypoint.sh starts it (tests/e2e/harness.py): gunicorn (2
workers, production settings), a Celery worker (concurrency 2), Celery beat (the reaper every minute), PostgreSQL
(database `goldsite_soak`, created and dropped here; server from --database-url) and Redis (two empty db numbers
claimed here and flushed afterwards: the broker and the cache; server from --redis-url), MLflow in a SQLite store
under a temporary folder.

Before the traffic: migrate, the schedules, the history of ../shared/data loaded and a champion with its
next-day forecast (`--bootstrap quick`, the default: `manage.py bootstrap`, its quick profile of 3 trials per
network; `--bootstrap small`: the imports and a 1-trial MLP tune). For --minutes, then:
- readers (a plain user's token): GET /api/forecasts/latest/, /api/forecasts/, /api/accuracy/, /api/models/,
  /health/, --rate requests/s in all;
- POST /api/predict/ every --predict-every seconds;
- POST /api/models/{id}/promote/ of two versions in turn, every --promote-every seconds, by a member of the
  "ML engineers" group (`training.promote_modelversion`), not staff;
- one CSV import (`manage.py import_prices` of both files of ../shared/data) at 5% of the time;
- a tuning run (POST /api/training-runs/, --trials per network of --architectures) at 10%, polled through the
  API; once more if it failed (the killed worker's run, failed by the reaper) and a quarter of the time is left;
- the worker SIGKILLed (its whole process group: no warm shutdown) twice and restarted --down-seconds later:
  first in the middle of the first tuning run (once its networks' trials are under way; at 40% of the time at
  the latest), then while no run is active (between 65% and 90%).
Then the traffic stops and the reaper gets its chance: the script waits until no run is queued or running, or
until every active run's heartbeat is older than TRAINING_HEARTBEAT_TIMEOUT plus two reaper periods.

It prints requests by endpoint (status counts, p50/p95/max latency), the 5xx count (target 0), the other non-2xx
answers by status, requests that got no answer at all, forecasts lost, runs left queued/running, and whether the
database's champion is the version MLflow's `champion` alias names. Forecasts lost (target 0) counts every
forecast row seen during the soak (the database is read every few seconds) that is gone or whose predicted
close changed at the end, plus every answer of /api/forecasts/latest/ other than 200 after the first live
forecast existed. Runs left (target 0) are the runs still queued or running once the reaper had its chance.

Exit status 0 whenever the figures were printed (a benchmark asserts nothing); 1 when the soak could not run.

    .venv/bin/python bench/soak.py [--minutes 10] [--bootstrap quick|small] [--rate 6] [--trials 2] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak_report import report  # noqa: E402
from bench.soak_stack import (  # noqa: E402
    HISTORY,
    HISTORY_FILES,
    bootstrap,
    champion_pair,
    django_setup,
    manage,
    processes_start,
    stack_environment,
    users_create,
)
from bench.soak_traffic import Journal, Soak, api_token, drain, run_actors  # noqa: E402
from tests.e2e import harness  # noqa: E402

# Modules: bench/soak_stack.py (the stack and its database), bench/soak_traffic.py (the clients and the actors),
# bench/soak_report.py (what is printed at the end).


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="minutes of traffic")
    parser.add_argument("--bootstrap", choices=("quick", "small"), default="quick", help="how the champion is made")
    parser.add_argument("--readers", type=int, default=3, help="reader threads")
    parser.add_argument("--rate", type=float, default=6, help="reads per second, all readers together")
    parser.add_argument("--predict-every", type=float, default=3, help="seconds between POST /api/predict/")
    parser.add_argument("--promote-every", type=float, default=20, help="seconds between promotions")
    parser.add_argument("--trials", type=int, default=2, help="tuning run trials per network")
    parser.add_argument("--architectures", default="mlp,cnn,lstm", help="tuning run networks (comma-separated)")
    parser.add_argument("--down-seconds", type=float, default=10, help="seconds the worker stays dead")
    parser.add_argument("--snapshot-every", type=float, default=5, help="seconds between forecast snapshots")
    parser.add_argument("--drain-minutes", type=float, default=15, help="longest wait for the runs to settle")
    parser.add_argument("--keep", action="store_true", help="keep the logs folder")
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default=os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not all((HISTORY / name).is_file() for _, name in HISTORY_FILES):
        print(f"soak: needs the history in {HISTORY}", file=sys.stderr)
        return 1

    workdir = Path(tempfile.mkdtemp(prefix="goldsite-soak-"))
    print(f"Logs and MLflow store in {workdir}")
    processes: dict[str, harness.Process] = {}
    try:
        with contextlib.ExitStack() as stack:
            env, port = stack_environment(stack, args, workdir)
            harness.entrypoint(env, "migrate")
            manage(env, "setup_schedules")
            django_setup(env)
            passwords = users_create()

            processes = {
                name: harness.Process(name=name, args=(name,), env=env, logdir=workdir)
                for name in ("web", "worker", "beat")
            }
            base_url = f"http://127.0.0.1:{port}"
            processes_start(processes, base_url=base_url)
            soak_run(args, env=env, base_url=base_url, processes=processes, passwords=passwords)
            for process in processes.values():
                process.stop()
    except (harness.ServiceUnavailable, RuntimeError, TimeoutError) as exc:
        for process in processes.values():
            process.stop()
            print(process.tail(40), file=sys.stderr)
        print(f"soak: could not run: {exc}\nLogs kept in {workdir}", file=sys.stderr)
        return 1
    if args.keep:
        print(f"\nLogs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def soak_run(
    args: argparse.Namespace,
    *,
    env: dict[str, str],
    base_url: str,
    processes: dict[str, harness.Process],
    passwords: dict[str, str],
) -> None:
    """Bootstrap, the traffic, the reaper's chance, the report."""
    print(f"Bootstrap ({args.bootstrap}) ...", flush=True)
    bootstrap_seconds = bootstrap(env, args.bootstrap)
    print(f"Bootstrap done in {bootstrap_seconds:.0f} s", flush=True)
    versions = champion_pair()
    if versions is None:
        raise RuntimeError("the bootstrap left no champion and a second version to promote in turn")
    tokens = {name: api_token(base_url, username=name, password=pw) for name, pw in passwords.items()}

    soak = Soak(
        base_url=base_url,
        env=env,
        worker=processes["worker"],
        journal=Journal(),
        tokens=tokens,
        versions=versions,
        seconds=args.minutes * 60,
        args=args,
    )
    print(f"Traffic for {args.minutes:g} min; promoting versions {versions} in turn", flush=True)
    run_actors(soak)
    drained = drain(soak)
    report(soak, bootstrap_seconds=bootstrap_seconds, drained=drained, logs=processes)


if __name__ == "__main__":
    sys.exit(main())
