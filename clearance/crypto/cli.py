"""Flask CLI commands for key management. Register in app.py:

    from clearance.crypto import cli as crypto_cli
    for command in crypto_cli.COMMANDS:
        app.cli.add_command(command)

All models must be imported by create_app so that REGISTRY is complete.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext

from .errors import CryptoError
from .keys import get_provider
from .rotation import key_status, retire_version, rotate_keys


def _session() -> Any:  # the Flask-SQLAlchemy scoped session
    from clearance.db import db

    return db.session


def _audit(summary: str, data: dict[str, Any]) -> None:
    """One audit entry per key operation, committed on its own (the operation already happened).
    Key ids, versions and counts only: never key material. Skipped on a database without the
    audit tables (the crypto unit tests' throwaway schema)."""
    from sqlalchemy import inspect

    from clearance import audit

    session = _session()
    if not inspect(session.connection()).has_table("audit_head"):
        return
    audit.append(session, realm="crypto", kind=audit.Kind.CHANGE, summary=summary, data=data)
    session.commit()


def _record_target(target: tuple[str, int]) -> None:
    """Before the first row is re-wrapped: the database records the new version's check value."""
    from clearance import keycheck

    session = _session()
    if keycheck.table_exists(session):
        keycheck.record(session, get_provider(), target, reason="rotation target")
        session.commit()
    _audit(f"key rotation to {target[0]} v{target[1]} started", {"key_id": target[0], "version": target[1]})


@click.command("rotate-keys")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1), help="rows per commit")
@with_appcontext
def rotate_keys_command(batch_size: int) -> None:
    """Create a new key version (or resume a rotation) and re-wrap every data key."""
    from clearance import keycheck

    session = _session()
    try:
        report = rotate_keys(
            session, batch_size=batch_size, on_batch=lambda name, n: click.echo(f"  {name}: {n} re-wrapped"),
            reserved=keycheck.recorded_versions(session), on_target=_record_target,
        )
    except CryptoError as exc:
        _audit("key rotation failed", {"error": str(exc)[:200]})
        raise click.ClickException(str(exc)) from None
    kid, ver = report.target
    _audit(
        f"key rotation to {kid} v{ver} {'finished' if report.finished else 'not finished'}",
        {"key_id": kid, "version": ver, "rewrapped": report.rewrapped, "files_rewrapped": report.files_rewrapped,
         "conflicts": report.conflicts, "failures": len(report.failures),
         "remaining": {f"{k} v{v}": n for (k, v), n in sorted(report.remaining.items())}},
    )
    click.echo(f"target {kid} v{ver}: {report.rewrapped} rows and {report.files_rewrapped} files re-wrapped")
    if report.conflicts:
        click.echo(f"{report.conflicts} rows changed concurrently and were left as written by the app")
    for failure in report.failures:
        click.echo(f"could not re-wrap {failure}", err=True)
    if report.finished:
        click.echo("rotation finished; old versions can be retired with `flask retire-key`")
    else:
        left = ", ".join(f"{k} v{v}: {n}" for (k, v), n in sorted(report.remaining.items()))
        raise click.ClickException(f"rotation not finished, still on other versions: {left}; run rotate-keys again")


@click.command("key-status")
@with_appcontext
def key_status_command() -> None:
    """Count encrypted records and files per key version."""
    try:
        provider = get_provider()
        status = key_status(_session())
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None
    rows = {(v.key_id, v.version): v for v in provider.versions()}
    target = getattr(provider, "rotation_target", lambda: None)()
    click.echo(f"{'key':<24}{'records':>10}  state")
    for ref in sorted(set(rows) | set(status)):
        info = rows.get(ref)
        state = []
        if info and info.current:
            state.append("current")
        if info and info.retired:
            state.append("retired")
        if info is None:
            state.append("NOT AVAILABLE")
        if ref == target:
            state.append("rotation in progress")
        click.echo(f"{ref[0] + ' v' + str(ref[1]):<24}{status.get(ref, 0):>10}  {', '.join(state)}")


@click.command("retire-key")
@click.argument("key_id")
@click.argument("version", type=click.IntRange(min=1))
@with_appcontext
def retire_key_command(key_id: str, version: int) -> None:
    """Retire KEY_ID VERSION; refused while any record or file still uses it."""
    from clearance import keycheck

    session = _session()
    try:
        done = retire_version(session, key_id, version)
    except CryptoError as exc:
        _audit(f"key {key_id} v{version} not retired", {"key_id": key_id, "version": version, "error": str(exc)[:200]})
        raise click.ClickException(str(exc)) from None
    if keycheck.table_exists(session):
        keycheck.mark_retired(session, (key_id, version), reason="flask retire-key")
        session.commit()
    else:
        _audit(f"key {key_id} v{version} retired", {"key_id": key_id, "version": version})
    click.echo(done)


COMMANDS = (rotate_keys_command, key_status_command, retire_key_command)
