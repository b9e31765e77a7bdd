"""The soak's traffic: what the clients saw (the journal), the clients, and the actors that read, predict,
promote, import, tune and kill the worker (bench/soak.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.soak_stack import (
    HEARTBEAT_TIMEOUT,
    HISTORY,
    HISTORY_FILES,
    REAPER_PERIOD,
    START_SECONDS,
    forecast_rows,
    manage,
)
from tests.e2e import harness

NETWORKS = ("mlp", "cnn", "lstm")
READS = (  # (path, weight)
    ("/api/forecasts/latest/", 4),
    ("/api/forecasts/?kind=live", 2),
    ("/api/accuracy/", 1),
    ("/api/models/", 1),
    ("/health/", 1),
)


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
