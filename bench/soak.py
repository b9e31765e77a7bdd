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
import datetime as dt
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import harness  # noqa: E402

HISTORY = ROOT.parent / "shared" / "data"
HISTORY_FILES = (("GC=F", "gold_data.csv"), ("^GSPC", "sp500.csv"))
DATABASE_NAME = "goldsite_soak"
HEARTBEAT_TIMEOUT = 90  # seconds: TRAINING_HEARTBEAT_TIMEOUT of the stack (production: 600)
REAPER_PERIOD = 60  # seconds: the "Reap stalled training runs" schedule (forecasts/schedules.py)
START_SECONDS = 180
NETWORKS = ("mlp", "cnn", "lstm")
READS = (  # (path, weight)
    ("/api/forecasts/latest/", 4),
    ("/api/forecasts/?kind=live", 2),
    ("/api/accuracy/", 1),
    ("/api/models/", 1),
    ("/health/", 1),
)
ADMIN = {"username": "soak-admin", "password": secrets.token_urlsafe(16)}


# --- what the clients saw ----------------------------------------------------------------------------------


@dataclass
class Call:
    at: float  # seconds since the traffic started
    label: str  # "GET /api/models/", "POST /api/models/{id}/promote/"
    status: int | str  # the HTTP status, or the exception's name when no answer came
    seconds: float
    body: str = ""  # the start of the body of a non-2xx answer


@dataclass
class Journal:
    started: float = field(default_factory=time.monotonic)
    calls: list[Call] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.started

    def call(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def event(self, text: str) -> None:
        with self.lock:
            self.events.append((self.now(), text))
        print(f"  [{self.now():6.1f} s] {text}", flush=True)


class Client:
    """One user's keep-alive session; every request is written into the journal."""

    def __init__(self, base_url: str, journal: Journal, token: str | None = None) -> None:
        import requests

        self.base_url = base_url
        self.journal = journal
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def request(self, method: str, path: str, *, label: str | None = None, timeout: float = 30, **kwargs):
        import requests

        label = f"{method} {label or path.split('?')[0]}"
        started = time.monotonic()
        try:
            response = self.session.request(method, f"{self.base_url}{path}", timeout=timeout, **kwargs)
        except requests.RequestException as exc:
            self.journal.call(Call(self.journal.now(), label, type(exc).__name__, time.monotonic() - started, str(exc)))
            self.session.close()  # a fresh connection next time
            return None
        body = "" if response.status_code < 300 else response.text[:300]
        self.journal.call(Call(self.journal.now(), label, response.status_code, time.monotonic() - started, body))
        return response


def api_token(base_url: str, *, username: str, password: str) -> str:
    import requests

    response = requests.post(
        f"{base_url}/api/auth/token/", json={"username": username, "password": password}, timeout=30
    )
    response.raise_for_status()
    return response.json()["token"]


# --- the stack ---------------------------------------------------------------------------------------------


def manage(env: dict[str, str], *args: str, timeout: float = 3600) -> tuple[float, str]:
    """`docker/entrypoint.sh manage ARGS...`; returns (seconds, its stdout); raises with the output if it fails."""
    started = time.monotonic()
    result = harness.entrypoint(env, "manage", *args, timeout=timeout)
    return time.monotonic() - started, result.stdout


def django_setup(env: dict[str, str]) -> None:
    """This process reads the soak's database through the ORM (the forecast snapshots, the final checks)."""
    os.environ.update({k: v for k, v in env.items() if k != "PATH"}, LOG_LEVEL="WARNING")
    import django

    django.setup()


def users_create() -> dict[str, str]:
    """A plain user (the readers) and an ML engineer (promotions, runs): group membership, not staff."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from training.permissions import ML_ENGINEERS_GROUP

    users = get_user_model()
    passwords = {"soak-reader": secrets.token_urlsafe(16), "soak-ml": secrets.token_urlsafe(16)}
    for username, password in passwords.items():
        users.objects.create_user(username, password=password)
    users.objects.get(username="soak-ml").groups.add(Group.objects.get(name=ML_ENGINEERS_GROUP))
    connection.close()
    return passwords


def bootstrap(env: dict[str, str], profile: str) -> float:
    """History loaded, a champion and its next-day forecast; returns the seconds it took."""
    started = time.monotonic()
    if profile == "quick":
        manage(env, "bootstrap", "--history-dir", str(HISTORY))
    else:
        for symbol, name in HISTORY_FILES:
            manage(env, "import_prices", symbol, str(HISTORY / name))
        manage(env, "train", "--trials", "1", "--architectures", "mlp", "--retrain-every", "63")
        manage(env, "predict_next_day")
    return time.monotonic() - started


# --- the database, read directly -----------------------------------------------------------------------------


def forecast_rows() -> dict[int, tuple]:
    from forecasts.models import Forecast

    rows = Forecast.objects.values_list("id", "model_version_id", "kind", "target_date", "predicted_close")
    return {pk: (version, kind, target, close) for pk, version, kind, target, close in rows}


def champion_pair() -> tuple[int, int] | None:
    """(the champion's id, another version's id to promote in turn): a network when the champion is not one."""
    from training.models import ModelVersion

    champion = ModelVersion.objects.filter(is_champion=True).first()
    if champion is None:
        return None
    others = ModelVersion.objects.exclude(pk=champion.pk).order_by("-id")
    networks = [v for v in others if v.architecture in ("mlp", "cnn", "lstm", "ensemble")]
    other = (networks or list(others) or [None])[0]
    return (champion.pk, other.pk) if other is not None else None


# --- the actors --------------------------------------------------------------------------------------------


@dataclass
class Soak:
    base_url: str
    env: dict[str, str]
    worker: harness.Process
    journal: Journal
    tokens: dict[str, str]
    versions: tuple[int, int]
    seconds: float
    args: argparse.Namespace
    stop: threading.Event = field(default_factory=threading.Event)
    runs: list[int] = field(default_factory=list)
    seen: dict[int, tuple] = field(default_factory=dict)
    first_live_at: float | None = None
    promotions: Counter = field(default_factory=Counter)
    tune_training: threading.Event = field(default_factory=threading.Event)  # a run's network trials under way
    run_idle: threading.Event = field(default_factory=threading.Event)  # no run of the tuner's is active
    kills: int = 0

    def at(self, fraction: float) -> float:
        return self.seconds * fraction

    def wait_until(self, moment: float) -> bool:
        """Sleep until `moment` (soak seconds); False when the soak stopped first."""
        return not self.stop.wait(max(0.0, moment - self.journal.now()))

    # Readers, predictions, promotions: until stopped.

    def reader(self, index: int) -> None:
        client = Client(self.base_url, self.journal, self.tokens["soak-reader"])
        paths = [path for path, weight in READS for _ in range(weight)]
        interval = self.args.readers / self.args.rate
        step, next_at = index, self.journal.now()
        while not self.stop.is_set():
            client.request("GET", paths[step % len(paths)])
            step += 1
            next_at = max(next_at + interval, self.journal.now() - interval)
            self.wait_until(next_at)

    def predictor(self) -> None:
        client = Client(self.base_url, self.journal, self.tokens["soak-reader"])
        while not self.stop.is_set():
            client.request("POST", "/api/predict/", json={"predict_tomorrow": True}, timeout=120)
            self.stop.wait(self.args.predict_every)

    def promoter(self) -> None:
        client = Client(self.base_url, self.journal, self.tokens["soak-ml"])
        first, second = self.versions
        while not self.stop.wait(self.args.promote_every):
            models = client.request("GET", "/api/models/?page_size=100")
            champion = None
            if models is not None and models.status_code == 200:
                champion = next((m["id"] for m in models.json()["results"] if m["is_champion"]), None)
            target = second if champion == first else first
            response = client.request(
                "POST", f"/api/models/{target}/promote/", label="/api/models/{id}/promote/", json={"reason": "soak"}
            )
            self.promotions[response.status_code if response is not None else "no answer"] += 1

    def snapshotter(self) -> None:
        """Every forecast row seen, as first seen; the moment the first live forecast existed."""
        from django.db import connection

        try:
            while True:
                rows = forecast_rows()
                for pk, row in rows.items():
                    self.seen.setdefault(pk, row)
                if self.first_live_at is None and any(row[1] == "live" for row in rows.values()):
                    self.first_live_at = self.journal.now()
                if self.stop.wait(self.args.snapshot_every):
                    return
        finally:
            connection.close()

    # The scripted part: the import, the tuning runs, the kills.

    def importer(self) -> None:
        if not self.wait_until(self.at(0.05)):
            return
        for symbol, name in HISTORY_FILES:
            self.journal.event(f"import_prices {symbol} {name} while the traffic runs")
            try:
                seconds, output = manage(self.env, "import_prices", symbol, str(HISTORY / name), timeout=600)
            except RuntimeError as exc:
                self.journal.event(f"import FAILED: {exc}")
                continue
            self.journal.event(f"import done in {seconds:.1f} s: {output.strip().splitlines()[-1]}")

    def tuner(self) -> None:
        """A tuning run at 10%; once more if it failed (a killed worker's run) and a quarter of the time is left."""
        client = Client(self.base_url, self.journal, self.tokens["soak-ml"])
        payload = {"kind": "tune", "trials": self.args.trials, "architectures": self.args.architectures.split(",")}
        self.run_idle.set()
        if not self.wait_until(self.at(0.10)):
            return
        while not self.stop.is_set():
            response = client.request("POST", "/api/training-runs/", json=payload)
            if response is None or response.status_code != 202:
                self.journal.event(f"tuning run not started: {response.status_code if response else 'no answer'}")
                self.stop.wait(10)
                continue
            run = response.json()["id"]
            self.runs.append(run)
            self.run_idle.clear()
            self.journal.event(f"tuning run #{run} started: {payload}")
            status = self.follow(client, run)
            self.tune_training.clear()
            self.run_idle.set()
            if status != "failed" or self.seconds - self.journal.now() < self.seconds / 4:
                return

    def follow(self, client: Client, run: int) -> str:
        """Poll the run through the API until it ends (or the soak does); returns its last status."""
        status = "queued"
        while not self.stop.wait(3):
            polled = client.request("GET", f"/api/training-runs/{run}/", label="/api/training-runs/{id}/")
            if polled is None or polled.status_code != 200:
                continue
            body = polled.json()
            status = body["status"]
            if status == "running" and body["message"].startswith(tuple(f"{k} trial" for k in NETWORKS)):
                self.tune_training.set()  # a network's trials under way: the middle of the run
            if status in ("succeeded", "failed"):
                self.journal.event(f"tuning run #{run} {status}: {(body['error'] or body['message'])[:200]}")
                break
        return status

    def killer(self) -> None:
        """Kill 1: in the middle of the first tuning run, as soon as its networks' trials are under way (at 40% of
        the time whatever is going on). Kill 2: while no run is active (65-90%; at 90% whatever is going on)."""
        first = (self.tune_training, self.at(0.10), self.at(0.40))
        second = (self.run_idle, self.at(0.65), self.at(0.90))
        for event, earliest, latest in (first, second):
            if not self.wait_until(earliest):
                return
            event.wait(max(0.0, latest - self.journal.now()))
            if self.stop.is_set():
                return
            self.journal.event("worker SIGKILLed (its whole process group)")
            self.worker.kill()
            self.kills += 1
            self.stop.wait(self.args.down_seconds)
            self.worker.start()
            try:
                self.worker.wait_for_output("ready.", seconds=START_SECONDS)
            except (RuntimeError, TimeoutError) as exc:
                self.journal.event(f"worker did not come back: {exc}")
                continue
            self.journal.event("worker restarted and ready")


def run_actors(soak: Soak) -> None:
    actors = [threading.Thread(target=soak.reader, args=(i,), name=f"reader-{i}") for i in range(soak.args.readers)]
    for target in (soak.predictor, soak.promoter, soak.snapshotter, soak.importer, soak.tuner, soak.killer):
        actors.append(threading.Thread(target=target, name=target.__name__))
    for actor in actors:
        actor.start()
    soak.stop.wait(soak.seconds)
    soak.stop.set()
    soak.journal.event("traffic stopped")
    for actor in actors:
        actor.join(timeout=180)


def drain(soak: Soak) -> float:
    """Wait for every run to finish or be reaped: until none is active, or every active one has had a stale
    heartbeat for two reaper periods (the reaper's chance), at most --drain-minutes. Returns the seconds waited."""
    from django.db import connection
    from django.utils import timezone

    from training.models import TrainingRun

    started = time.monotonic()
    limit = started + soak.args.drain_minutes * 60
    try:
        while time.monotonic() < limit:
            active = list(TrainingRun.objects.filter(status__in=TrainingRun.ACTIVE_STATUSES))
            if not active:
                break
            settled = timezone.now() - dt.timedelta(seconds=HEARTBEAT_TIMEOUT + 2 * REAPER_PERIOD)
            if all((run.heartbeat_at or run.created_at) < settled for run in active):
                break
            time.sleep(5)
    finally:
        connection.close()
    return time.monotonic() - started


# --- the report --------------------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(soak: Soak, *, bootstrap_seconds: float, drained: float, logs: dict[str, harness.Process]) -> None:
    from django.conf import settings
    from django.db import connection

    from training.ml.registry import get_alias_version
    from training.models import ChampionChange, ModelVersion, TrainingRun
    from training.services.promotion import CHAMPION_ALIAS

    calls = soak.journal.calls
    print(
        f"\n== Soak: {soak.seconds / 60:g} min of traffic, worker killed {soak.kills} times; "
        f"bootstrap ({soak.args.bootstrap}) took {bootstrap_seconds:.0f} s"
    )
    by_label: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_label[call.label].append(call)
    print(f"\nRequests by endpoint ({len(calls)} in all, {len(calls) / soak.seconds:.1f}/s):")
    print(f"  {'endpoint':38} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses")
    for label in sorted(by_label):
        group = by_label[label]
        latencies = [c.seconds * 1000 for c in group]
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(Counter(str(c.status) for c in group).items()))
        print(
            f"  {label:38} {len(group):6d} {percentile(latencies, 50):8.1f} {percentile(latencies, 95):8.1f} "
            f"{max(latencies):8.1f}  {statuses}"
        )

    server_errors = [c for c in calls if isinstance(c.status, int) and c.status >= 500]
    other = [c for c in calls if isinstance(c.status, int) and 300 <= c.status < 500]
    unanswered = [c for c in calls if not isinstance(c.status, int)]
    print(f"\n5xx answers: {len(server_errors)} (target 0)")
    samples(server_errors)
    print(f"Other non-2xx answers: {dict(sorted(Counter(c.status for c in other).items())) or 0}")
    samples(other)
    print(f"Requests without an answer (timeouts, connection errors): {len(unanswered)}")
    samples(unanswered)

    try:
        rows = forecast_rows()
        gone = [pk for pk in soak.seen if pk not in rows]
        changed = [pk for pk, row in soak.seen.items() if pk in rows and rows[pk][3] != row[3]]
        dark = [
            c
            for c in calls
            if c.label == "GET /api/forecasts/latest/"
            and soak.first_live_at is not None
            and c.at >= soak.first_live_at
            and c.status != 200
        ]
        live = sum(1 for row in rows.values() if row[1] == "live")
        print(
            f"\nForecasts lost: {len(gone) + len(changed) + len(dark)} (target 0): {len(gone)} of {len(soak.seen)} "
            f"rows seen are gone, {len(changed)} changed their predicted close, {len(dark)} answers of "
            f"/api/forecasts/latest/ were not 200 after the first live forecast existed ({live} live rows at the end)"
        )

        created = TrainingRun.objects.filter(pk__in=soak.runs) | TrainingRun.objects.filter(
            status__in=TrainingRun.ACTIVE_STATUSES
        )
        left = [run for run in created if run.status in TrainingRun.ACTIVE_STATUSES]
        print(
            f"Runs left queued/running: {len(left)} (target 0), after waiting {drained:.0f} s for the reaper "
            f"(heartbeat timeout {HEARTBEAT_TIMEOUT} s, reaper every {REAPER_PERIOD} s)"
        )
        for run in created.order_by("id"):
            took = (run.finished_at - run.created_at).total_seconds() if run.finished_at else None
            took_text = f"{took:.0f} s" if took is not None else "unfinished"
            print(f"  run #{run.pk} {run.kind} {run.status} ({took_text}): {(run.error or run.message)[:150]}")

        champions = list(ModelVersion.objects.filter(is_champion=True))
        print(
            f"Promotions through the API: {dict(soak.promotions)}; champion changes stored: "
            f"{ChampionChange.objects.count()}"
        )
        if len(champions) != 1:
            print(f"Champion / MLflow alias: {len(champions)} champions in the database: DISAGREE")
        else:
            champion = champions[0]
            alias = get_alias_version(
                champion.registered_name, CHAMPION_ALIAS, tracking_uri=settings.MLFLOW_TRACKING_URI
            )
            verdict = "agree" if alias == champion.version else "DISAGREE"
            print(f"Champion / MLflow alias: database {champion}, alias '{CHAMPION_ALIAS}' → v{alias}: {verdict}")
    finally:
        connection.close()

    print("\nServer logs:")
    for name, process in logs.items():
        text = "\n".join(log.read_text(errors="replace") for log in process.logs if log.exists())
        errors = text.count(" ERROR ") + text.count("ERROR/")
        print(
            f"  {name}: {len(process.logs)} log(s), {text.count('Traceback')} tracebacks, {errors} ERROR lines, "
            f"{text.count('WORKER TIMEOUT')} gunicorn worker timeouts"
        )


def samples(calls: list[Call], limit: int = 3) -> None:
    """A few examples of each (endpoint, status), with the start of their body."""
    shown: Counter = Counter()
    for call in calls:
        key = (call.label, str(call.status))
        shown[key] += 1
        if shown[key] <= limit:
            print(f"    {call.at:7.1f} s  {call.label}  {call.status}  {call.body[:200]!r}")


# --- main --------------------------------------------------------------------------------------------------


def main() -> int:
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
    args = parser.parse_args()
    if not all((HISTORY / name).is_file() for _, name in HISTORY_FILES):
        print(f"soak: needs the history in {HISTORY}", file=sys.stderr)
        return 1

    workdir = Path(tempfile.mkdtemp(prefix="goldsite-soak-"))
    print(f"Logs and MLflow store in {workdir}")
    processes: dict[str, harness.Process] = {}
    try:
        with contextlib.ExitStack() as stack:
            postgres = harness.postgres_server_url(args.database_url)
            redis = harness.redis_server_url(args.redis_url)
            database_url = stack.enter_context(harness.temporary_database(postgres, name=DATABASE_NAME))
            broker_url = stack.enter_context(harness.claimed_redis_db(redis))
            cache_url = stack.enter_context(harness.claimed_redis_db(redis))
            port = harness.free_port()
            env = harness.stack_environment(
                database_url=database_url,
                broker_url=broker_url,
                workdir=workdir,
                CACHE_URL=cache_url,
                PORT=str(port),
                WEB_CONCURRENCY="2",
                CELERY_CONCURRENCY="2",
                TRAINING_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
                TRAINING_QUEUE_TIMEOUT=str(HEARTBEAT_TIMEOUT),
                TRAINING_RETRAIN_EVERY="63",  # the quick profile's walk-forward: 4 refits, not 12
                DJANGO_SUPERUSER_USERNAME=ADMIN["username"],
                DJANGO_SUPERUSER_EMAIL="soak@example.com",
                DJANGO_SUPERUSER_PASSWORD=ADMIN["password"],
            )
            print(f"PostgreSQL {database_url}, broker {broker_url}, cache {cache_url}, gunicorn on :{port}")
            harness.entrypoint(env, "migrate")
            manage(env, "setup_schedules")
            django_setup(env)
            passwords = users_create()

            processes = {
                name: harness.Process(name=name, args=(name,), env=env, logdir=workdir)
                for name in ("web", "worker", "beat")
            }
            for process in processes.values():
                process.start()
            base_url = f"http://127.0.0.1:{port}"
            harness.wait_for_http(f"{base_url}/health/", seconds=START_SECONDS, process=processes["web"])
            processes["worker"].wait_for_output("ready.", seconds=START_SECONDS)
            processes["beat"].wait_for_output("beat: Starting...", seconds=START_SECONDS)

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


if __name__ == "__main__":
    sys.exit(main())
