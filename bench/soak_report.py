"""The soak's report: requests by endpoint, the answers that were not 2xx, forecasts lost, runs left, the
champion against MLflow's alias, and the servers' logs (bench/soak.py)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

from bench.soak_stack import HEARTBEAT_TIMEOUT, REAPER_PERIOD, forecast_rows
from bench.soak_traffic import Call, Soak
from tests.e2e import harness


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(soak: Soak, *, bootstrap_seconds: float, drained: float, logs: dict[str, harness.Process]) -> None:
    from django.db import connection

    calls = soak.journal.calls
    print(
        f"\n== Soak: {soak.seconds / 60:g} min of traffic, worker killed {soak.kills} times; "
        f"bootstrap ({soak.args.bootstrap}) took {bootstrap_seconds:.0f} s"
    )
    endpoints_print(calls, seconds=soak.seconds)
    answers_print(calls)
    try:
        forecasts_lost_print(soak)
        runs_left_print(soak, drained=drained)
        champion_print(soak)
    finally:
        connection.close()
    logs_print(logs)


def endpoints_print(calls: list[Call], *, seconds: float) -> None:
    """Requests by endpoint: how many, p50/p95/max latency, statuses."""
    by_label: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_label[call.label].append(call)
    print(f"\nRequests by endpoint ({len(calls)} in all, {len(calls) / seconds:.1f}/s):")
    print(f"  {'endpoint':38} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses")
    for label in sorted(by_label):
        group = by_label[label]
        latencies = [c.seconds * 1000 for c in group]
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(Counter(str(c.status) for c in group).items()))
        print(
            f"  {label:38} {len(group):6d} {percentile(latencies, 50):8.1f} {percentile(latencies, 95):8.1f} "
            f"{max(latencies):8.1f}  {statuses}"
        )


def answers_print(calls: list[Call]) -> None:
    """The 5xx answers, the other non-2xx ones and the requests with no answer, with a few examples of each."""
    server_errors = [c for c in calls if isinstance(c.status, int) and c.status >= 500]
    other = [c for c in calls if isinstance(c.status, int) and 300 <= c.status < 500]
    unanswered = [c for c in calls if not isinstance(c.status, int)]
    print(f"\n5xx answers: {len(server_errors)} (target 0)")
    samples(server_errors)
    print(f"Other non-2xx answers: {dict(sorted(Counter(c.status for c in other).items())) or 0}")
    samples(other)
    print(f"Requests without an answer (timeouts, connection errors): {len(unanswered)}")
    samples(unanswered)


def forecasts_lost_print(soak: Soak) -> None:
    """Rows seen that are gone or changed, and the latest forecast's non-200 answers once a live one existed."""
    calls = soak.journal.calls
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


def runs_left_print(soak: Soak, *, drained: float) -> None:
    """The runs still queued or running after the reaper's chance, and every run of the soak."""
    from training.models import TrainingRun

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


def champion_print(soak: Soak) -> None:
    """The promotions, and whether the database's one champion is the version MLflow's alias names."""
    from django.conf import settings

    from tests.training.registry import alias_version
    from training.models import ChampionChange, ModelVersion
    from training.services.promotion import CHAMPION_ALIAS

    champions = list(ModelVersion.objects.filter(is_champion=True))
    print(
        f"Promotions through the API: {dict(soak.promotions)}; champion changes stored: "
        f"{ChampionChange.objects.count()}"
    )
    if len(champions) != 1:
        print(f"Champion / MLflow alias: {len(champions)} champions in the database: DISAGREE")
        return
    champion = champions[0]
    alias = alias_version(champion.registered_name, CHAMPION_ALIAS, tracking_uri=settings.MLFLOW_TRACKING_URI)
    verdict = "agree" if alias == champion.version else "DISAGREE"
    print(f"Champion / MLflow alias: database {champion}, alias '{CHAMPION_ALIAS}' → v{alias}: {verdict}")


def logs_print(logs: dict[str, harness.Process]) -> None:
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
