"""`flask --app app consult-reminders` and `consult-purge`: run them daily from cron.

Daily on purpose: the desk's mails and audit entries about public activity
are sent in a batch, so their time says nothing about when anyone used the desk.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from clearance.db import db
from dialogue.consult import clock, service


@click.command("consult-reminders")
@with_appcontext
def consult_reminders() -> None:
    """Audit finished days of desk activity, mail the desk about activity and due acknowledgements."""
    report = service.send_reminders(db.session, base_url=current_app.config["TAIWA_BASE_URL"])
    db.session.commit()
    sessions = current_app.extensions["consult"]["store"].purge(clock.today())
    click.echo(f"consult: {report.days_audited} day(s) audited, {report.activity_mails} activity mail(s), "
               f"{report.reminder_mails} reminder(s), {sessions} expired desk session(s) removed")


@click.command("consult-purge")
@click.option("--dry-run", is_flag=True, help="Only say how many cases would be purged.")
@with_appcontext
def consult_purge(dry_run: bool) -> None:
    """Purge cases past their retention (closed: TAIWA_CONSULT_RETENTION_CLOSED_DAYS after closing;
    answered and left: TAIWA_CONSULT_RETENTION_ANSWERED_DAYS after the last activity)."""
    retention = service.Retention.from_config(current_app.config)
    if dry_run:
        click.echo(f"consult: {len(service.expired_cases(db.session, retention))} case(s) past retention")
        return
    if db.engine.dialect.name == "sqlite":
        # Deleted rows are overwritten with zeros instead of lingering in free pages.
        db.session.execute(text("PRAGMA secure_delete = ON"))
    n = service.purge_expired(db.session, retention)
    db.session.commit()
    if db.engine.dialect.name == "sqlite" and n:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    sessions = current_app.extensions["consult"]["store"].purge(clock.today())
    click.echo(f"consult: {n} case(s) purged with their files and keys; {sessions} expired desk session(s) removed"
               + ("; run VACUUM on PostgreSQL to reclaim the space" if n and db.engine.dialect.name == "postgresql" else ""))


COMMANDS = (consult_reminders, consult_purge)
