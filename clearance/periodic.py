"""`flask --app app periodic`: the maintenance commands on their schedule, in one process.

gunicorn.conf.py starts it beside the web workers (one per host; TAIWA_PERIODIC=0 turns that
off, e.g. where cron runs the same commands). Each job is an ordinary `flask` command, run
in-process; when each last ran is kept in instance/periodic-state.json (TAIWA_PERIODIC_DIR moves it), so a
restart does not repeat a daily job. A lock file beside it keeps a second runner from starting.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext

log = logging.getLogger("taiwa.periodic")


@dataclass(frozen=True)
class Job:
    command: str  # a `flask` command name
    every: float  # seconds between runs
    args: tuple[str, ...] = ()


MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
RETRY = 600.0  # a failed job is tried again after at most ten minutes
JOBS: tuple[Job, ...] = (
    Job("send-mail", MINUTE),  # retries mail that failed right after commit
    # signs and publishes a checkpoint when entries arrived (or the last is an hour old)
    Job("audit-checkpoint", MINUTE, ("--if-due",)),
    Job("purge-sessions", HOUR),
    Job("feedback-intake", HOUR),
    Job("consult-reminders", DAY),
    Job("consult-purge", DAY),
    Job("clearance-reminders", DAY),
)


def due(jobs: tuple[Job, ...], last: dict[str, float], now: float) -> list[Job]:
    """The jobs whose interval has passed since they last ran (never run, or a last run in the
    future because the clock was stepped back: due)."""
    return [j for j in jobs if not 0 <= now - last.get(j.command, 0.0) < j.every]


def run_job(app: Flask, job: Job) -> bool:
    """Run one command in-process; a failure is logged and retried at its next turn."""
    command = app.cli.get_command(click.Context(app.cli), job.command)
    if command is None:
        log.error("periodic: no such command %s", job.command)
        return False
    from clearance.db import db

    # Each job in its own application context and database session, ended whatever happens: a job
    # that fails half-way must not keep its transaction (and the audit head's lock) open.
    with app.app_context():
        try:
            command.main(list(job.args), prog_name=f"flask {job.command}", standalone_mode=False,
                         obj=ScriptInfo(create_app=lambda: app))
            return True
        except Exception:  # one failing job must not stop the others
            log.exception("periodic: %s failed", job.command)
            return False
        finally:
            db.session.remove()


def _load(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
        return {k: float(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


@click.command("periodic")
@click.option("--once", is_flag=True, help="Run what is due now, then exit.")
@click.option("--tick", type=float, default=15.0, show_default=True, help="Seconds between checks.")
@with_appcontext
def periodic_command(once: bool, tick: float) -> None:
    """Run the maintenance commands on their schedule (mail, sessions, reminders, retention)."""
    app = current_app._get_current_object()
    instance = Path(app.config.get("TAIWA_PERIODIC_DIR") or app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    lock = open(instance / "periodic.lock", "w")  # held (and locked) for the life of the process
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        click.echo("periodic: another runner holds the lock; exiting")
        return
    state = instance / "periodic-state.json"
    last = _load(state)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_a: stop.update(now=True))
    parent = os.getppid()
    while not stop["now"] and os.getppid() == parent:  # an orphan (its gunicorn killed) stops too
        for job in due(JOBS, last, time.time()):
            if stop["now"]:
                break
            now = time.time()
            last[job.command] = now if run_job(app, job) else now - job.every + min(job.every, RETRY)
            partial = state.with_suffix(".tmp")
            partial.write_text(json.dumps(last))
            os.replace(partial, state)  # a crash mid-write must not forget when the daily jobs ran
        if once:
            break
        for _ in range(int(tick * 10)):
            if stop["now"]:
                break
            time.sleep(0.1)
