"""`flask --app app reports-worker` and `flask --app app feedback-intake`."""

from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("reports-worker")
@click.option("--once", is_flag=True, help="Render what is waiting, then exit (for cron).")
@with_appcontext
def reports_worker(once: bool) -> None:
    """Render queued reports (any number of these may run beside the web workers)."""
    from dialogue.reports import jobs

    stop = {"now": False}

    def _stop(*_args) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    app = current_app._get_current_object()
    n = jobs.worker_loop(app, once=once, should_stop=lambda: stop["now"])
    click.echo(f"rendered {n} report(s)")


@click.command("feedback-intake")
@with_appcontext
def feedback_intake() -> None:
    """Take in the anonymised passages the consultation desk has handed over."""
    from clearance.db import db
    from dialogue.feedback import service

    n = service.take_over_consultations(db.session, actor=None)
    db.session.commit()
    click.echo(f"took in {n} anonymised consultation passage(s)")


COMMANDS = [reports_worker, feedback_intake]
