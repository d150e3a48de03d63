"""Flask commands of the audit log: audit-verify, audit-checkpoint, audit-prove, audit-check-proof."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from clearance import audit
from clearance.audit_proof import check_proof, read_published
from clearance.db import db


def _published_path(given: str | None) -> Path:
    return Path(given) if given else audit.publish_dir(current_app.config) / audit.PUBLISHED_FILE


@click.command("audit-verify")
@click.option("--published", "published_file", type=click.Path(dir_okay=False),
              help="published checkpoint file (default: the one in TAIWA_AUDIT_PUBLISH_DIR)")
@with_appcontext
def verify_command(published_file: str | None) -> None:
    """Check entries, MACs, checkpoints, signatures and the published heads; exit 1 at the first fault."""
    path = _published_path(published_file)
    published = audit.published_records(path)
    if published is None and published_file:
        raise click.ClickException(f"published file {path} not found")
    stats = audit.Verified()
    started = time.monotonic()
    broken = audit.verify(db.session, published, stats)
    db.session.rollback()
    if broken is not None:
        click.echo(f"audit log BROKEN at {broken.describe()}", err=True)
        sys.exit(1)
    where = f"{stats.published} published in {path}" if published is not None else f"no published file at {path}"
    click.echo(f"audit log intact: {stats.entries} entries, {stats.checkpoints} checkpoints ({where}), "
               f"{stats.unsealed} not yet checkpointed; {time.monotonic() - started:.1f} s")


@click.command("audit-checkpoint")
@click.option("--if-due", is_flag=True, help="only when entries arrived or the last checkpoint is an hour old")
@with_appcontext
def checkpoint_command(if_due: bool) -> None:
    """Sign a checkpoint over the new entries and publish it (the periodic runner does this every minute)."""
    try:
        cp = audit.make_checkpoint(db.session, only_if_due=if_due)
        db.session.commit()
    except audit.CheckpointRefused as exc:
        db.session.rollback()
        raise click.ClickException(f"checkpoint refused: {exc}") from None
    published = audit.publish(db.session, audit.publish_dir(current_app.config))
    db.session.rollback()
    if cp is None:
        click.echo(f"no checkpoint due; {published} published")
    else:
        click.echo(f"checkpoint {cp.id}: {cp.size} entries ({cp.total} in all), root {cp.root[:16]}; "
                   f"{published} published")


@click.command("audit-prove")
@click.argument("entry_id", type=click.IntRange(min=1))
@with_appcontext
def prove_command(entry_id: int) -> None:
    """Print the inclusion proof of ENTRY_ID (JSON) against its signed checkpoint."""
    try:
        proof = audit.prove(db.session, entry_id)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(proof, ensure_ascii=False, indent=2))


@click.command("audit-check-proof")
@click.argument("proof_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--published", "published_file", type=click.Path(dir_okay=False),
              help="published checkpoint file (default: the one in TAIWA_AUDIT_PUBLISH_DIR, if present)")
@with_appcontext
def check_proof_command(proof_file: str, published_file: str | None) -> None:
    """Check an inclusion proof against its signature and the published checkpoints, without the log."""
    try:
        proof = json.loads(Path(proof_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {proof_file}: {exc}") from None
    path = _published_path(published_file)
    published = read_published(path) if path.exists() else None
    if published is None and published_file:
        raise click.ClickException(f"published file {path} not found")
    problems = check_proof(proof, published)
    for p in problems:
        click.echo(f"FAIL: {p}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"proof holds: entry {proof['entry']['seq']} is in checkpoint {proof['checkpoint']['checkpoint']['id']}"
               + (" (as published)" if published is not None else " (no published file checked)"))


COMMANDS = (verify_command, checkpoint_command, prove_command, check_proof_command)
