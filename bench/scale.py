"""Benchmark one tune run spread over Celery workers, against the real Redis and PostgreSQL on this machine.

The same tune (naive, drift, MLP, CNN, LSTM and their ensemble; 10 trials per network in batches of
TRAINING_TRIAL_BATCH, 5 CV folds, walk-forward refits every 21 days, the served refits) on the history in
../shared/data, three times: with 1 worker process (concurrency 1), with 2 worker processes (concurrency 1
each) and with 1 worker at concurrency 2, every process with one TensorFlow thread (GOLDSITE_TF_THREADS=1).
Prints per configuration: wall time (run started → succeeded), fits, fits per minute, the speedup over one
worker, how many fits each worker process ran, and whether every configuration chose the same champion with
identical CV metrics (the graph's outcome must not depend on the workers).

    .venv/bin/python bench/scale.py [--trials 10] [--configs 1x1,2x1,1x2]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis at 127.0.0.1:6379: it creates and drops the
database `goldsite_bench_scale` and uses Redis database 12. Targets: speedup ≥ 1.6× with 2 workers; the full
tune ≤ 180 s with one worker on 2 cores.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.history import DATA, FILES  # noqa: E402

PYTHON = sys.executable
DATABASE = "goldsite_bench_scale"
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
BROKER = "redis://127.0.0.1:6379/12"


def run(command: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True, **kwargs)


def environment(store: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "goldsite.settings.base",
        "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DATABASE}",
        "CELERY_BROKER_URL": BROKER,
        "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}",
        "MLFLOW_ARTIFACT_ROOT": str(store / "artifacts"),
        "GOLDSITE_TF_THREADS": "1",
        "TRAINING_HEARTBEAT_TIMEOUT": "1800",
    }


def fresh_database(env: dict) -> None:
    psql = ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", "postgres", "-qc"]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DATABASE}"], check=True, capture_output=True)
    subprocess.run([*psql, f"CREATE DATABASE {DATABASE}"], check=True, capture_output=True)
    run([PYTHON, "manage.py", "migrate", "--noinput"], env)
    for symbol, file in (("GC=F", FILES["gold"]), ("^GSPC", FILES["spx"])):
        run([PYTHON, "manage.py", "import_prices", symbol, str(DATA / file)], env)


def start_workers(env: dict, processes: int, concurrency: int, log_dir: Path) -> list[subprocess.Popen]:
    workers = []
    for i in range(processes):
        log = (log_dir / f"worker-{i + 1}.log").open("wb")
        command = [
            PYTHON, "-m", "celery", "-A", "goldsite", "worker", "-Q", "default,training",
            "--concurrency", str(concurrency), "--prefetch-multiplier", "1", "-n", f"bench-{i + 1}@%h",
            "--without-gossip", "--without-mingle", "-l", "warning",
        ]  # fmt: skip
        workers.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    time.sleep(15)  # TensorFlow and Django start in each process
    return workers


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


REPORT = """
import json, django
django.setup()
from django.db.models import Count
from training.models import TrainingRun
run = TrainingRun.objects.order_by("-id").first()
print(json.dumps({
    "status": run.status, "error": run.error,
    "seconds": (run.finished_at - run.started_at).total_seconds() if run.finished_at else None,
    "fits": run.fits.count(),
    "by_worker": {r["worker"]: r["n"] for r in run.fits.values("worker").annotate(n=Count("id"))},
    "champion": next((f"{v.architecture}" for v in run.model_versions.all() if v.is_champion), None),
    "cv": {v.architecture: [v.cv_metrics.get("mae"), v.cv_metrics.get("p_value"), v.hyperparameters]
           for v in run.model_versions.all()},
    "test": {v.architecture: v.test_metrics.get("rmae") for v in run.model_versions.all()},
}))
"""


def measure(env: dict, *, processes: int, concurrency: int, trials: int, log_dir: Path) -> dict:
    subprocess.run(["redis-cli", "-n", "12", "flushdb"], check=True, capture_output=True)
    workers = start_workers(env, processes, concurrency, log_dir)
    try:
        started = time.perf_counter()
        run([PYTHON, "manage.py", "train", "--trials", str(trials)], env, timeout=3 * 60 * 60)
        wall = time.perf_counter() - started
    finally:
        stop(workers)
    report = json.loads(run([PYTHON, "-c", REPORT], env).stdout.strip().splitlines()[-1])
    report["command_seconds"] = wall
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--configs", default="1x1,2x1,1x2", help="processes x concurrency, comma-separated")
    args = parser.parse_args()
    if not (DATA / FILES["gold"]).is_file():
        print(f"skipped: {DATA} is absent")
        return 0
    configs = [tuple(int(n) for n in config.split("x")) for config in args.configs.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="goldsite-bench-scale-") as tmp:
        for processes, concurrency in configs:
            store = Path(tmp) / f"{processes}x{concurrency}"
            store.mkdir()
            env = environment(store)
            fresh_database(env)  # every configuration starts from the same database: no earlier tune to reuse
            name = f"{processes} worker{'s' if processes > 1 else ''} × concurrency {concurrency}"
            print(f"{name}: tuning with {args.trials} trials per network ...", flush=True)
            results[name] = measure(env, processes=processes, concurrency=concurrency, trials=args.trials,
                                    log_dir=store)  # fmt: skip
    baseline = next(iter(results.values()))
    print()
    header = f"{'configuration':<28} {'wall s':>7} {'fits':>5} {'fits/min':>8} {'speedup':>7}  fits per worker"
    print(header)
    print("-" * len(header))
    for name, report in results.items():
        if report["status"] != "succeeded":
            print(f"{name:<28} run {report['status']}: {report['error']}")
            continue
        per_worker = ", ".join(str(n) for n in sorted(report["by_worker"].values(), reverse=True))
        print(
            f"{name:<28} {report['seconds']:7.1f} {report['fits']:5d} {report['fits'] / report['seconds'] * 60:8.1f} "
            f"{baseline['seconds'] / report['seconds']:6.2f}x  {per_worker}"
        )
    same = all(r["champion"] == baseline["champion"] and r["cv"] == baseline["cv"] for r in results.values())
    print()
    print(f"champion: {baseline['champion']}; test rMAE by candidate: {baseline['test']}")
    print(f"same champion and identical CV metrics and hyperparameters in every configuration: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
