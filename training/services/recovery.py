"""Lost training runs: fail every active run that can no longer finish, so a new one can start.

A run is lost when
- its process is provably gone: it executes in one process (no broker: a page's background thread or
  `manage.py train`), that process ran on this machine, in this boot and pid namespace, and the pid now names
  no process, a zombie, or a process that started at another moment (the pid was reused);
- its heartbeat is older than TRAINING_HEARTBEAT_TIMEOUT, wherever it runs (a Celery run fans out over workers,
  possibly on other machines, so no single process stands for it: the heartbeat decides);
- it is queued and no worker picked it up within TRAINING_QUEUE_TIMEOUT.

`training_runs_recover` is the one definition: `training_run_start` calls it first, so the embedded default
(no beat, so no reaper) recovers on the next start, and the reaper (`training_runs_reap`, beat every minute)
calls it for the distributed case.

The pid check reads Linux's /proc. Elsewhere only the pid's existence is visible: a dead pid fails the run, and
a pid reused by another process keeps it until its heartbeat goes stale.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from training.models import TrainingRun

logger = logging.getLogger(__name__)

IN_PROCESS = "in-process"
PROC = Path("/proc")


def training_run_process() -> dict:
    """Where the calling code executes, as TrainingRun fields (host, pid, worker, process_start)."""
    pid = os.getpid()
    return {
        "host": socket.gethostname()[:255],
        "pid": pid,
        "worker": _worker_name(),
        "process_start": process_start(pid) or "",
    }


def training_runs_recover(*, now: dt.datetime | None = None, by: str = "the next start") -> list[int]:
    """Fail every active run that can no longer finish (see the module docstring); returns their ids. `by` says
    in the run's error who found it: the next start of a run, or the reaper."""
    from training.services.runs import training_run_fail  # runs calls this module first thing when starting a run

    now = now or timezone.now()
    here = training_run_process()
    silent_since = now - dt.timedelta(seconds=settings.TRAINING_HEARTBEAT_TIMEOUT)
    queued_since = now - dt.timedelta(seconds=settings.TRAINING_QUEUE_TIMEOUT)
    recovered = []
    for run in TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).order_by("id"):
        reason = _process_gone(run, here=here)
        if reason is None and run.heartbeat_at is not None and run.heartbeat_at < silent_since:
            reason = (
                f"The worker stopped responding (no heartbeat for more than "
                f"{settings.TRAINING_HEARTBEAT_TIMEOUT} s); marked failed by {by}."
            )
        if reason is not None:
            training_run_fail(run_id=run.pk, error=reason)
            recovered.append(run.pk)
    for run in TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED, created_at__lt=queued_since).order_by("id"):
        training_run_fail(
            run_id=run.pk,
            error=f"No worker picked the run up within {settings.TRAINING_QUEUE_TIMEOUT} s; is a worker running?",
        )
        recovered.append(run.pk)
    if recovered:
        logger.warning("Recovered lost training run(s) %s", ", ".join(f"#{pk}" for pk in recovered))
    return recovered


def process_start(pid: int) -> str | None:
    """The marker "<boot id>/<pid namespace>/<start ticks>" of a live process; None when there is none.

    A zombie (killed, not yet reaped) counts as none. Without /proc (not Linux) the answer is always None.
    """
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        boot_id = (PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
        namespace = str((PROC / "self" / "ns" / "pid").readlink())  # "pid:[4026531836]": ours, the pid's if visible
    except OSError:
        return None
    # The command name, field 2, is in parentheses and may hold spaces; field 3 (state) follows the last ")".
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{boot_id}/{namespace.partition('[')[2].rstrip(']')}/{fields[19]}"  # field 22: start time after boot


def _process_gone(run: TrainingRun, *, here: dict) -> str | None:
    """Why the run's process is provably gone, or None when it may be alive or cannot be checked from here."""
    if run.worker != IN_PROCESS or not run.pid or run.host != here["host"]:
        return None
    gone = f"The process {run.pid} on {run.host} is gone (killed or crashed) while it ran; marked failed."
    recorded, ours = run.process_start, here["process_start"]
    if recorded and ours:
        if _place(recorded) != _place(ours):  # same hostname, yet another machine, boot or container
            return None
        current = process_start(run.pid)
        if current is None:
            return gone
        if current != recorded:
            return (
                f"The process that ran it on {run.host} is gone: pid {run.pid} now belongs to another process; "
                "marked failed."
            )
        return None
    if recorded or ours:  # only one side has /proc: nothing to compare
        return None
    return None if _pid_exists(run.pid) else gone


def _place(marker: str) -> str:
    return marker.rpartition("/")[0]


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists and belongs to another user
        return True
    return True


def _worker_name() -> str:
    """The Celery worker executing the current task ("celery@host"), or "in-process" (no broker, eager)."""
    from celery import current_task

    request = current_task.request if current_task else None
    if request is not None and not request.is_eager and request.hostname:
        return str(request.hostname)[:255]
    return IN_PROCESS
