"""keycheck: one check value per key version, so the app refuses keys that do not match the data

Revision ID: 0014_key_check
Revises: 0001_foundation
Create Date: 2026-12-03

Hand-written. Issue 12, finding 1: with the key file missing, `make run` minted a new "main v1"
and served a database it could not read. `key_check` holds, per (key id, version), a known value
sealed under that version (clearance/keycheck.py); at start every recorded version must be
available and open its value, or the app refuses with one line.

Databases from before this revision: a row with a check value for every version the key
provider holds now (Flask-Migrate runs this inside the app, whose factory configured it), and a
row without a value for every version named by a sealed column's headers but missing from the
provider (80 bytes per row are read; no ORM, the models may be ahead of this schema). Such a
version must be restored before the app starts, unless nothing uses it any more. Encrypted
files are not scanned here; their versions are the columns' (both are sealed under the current
key at the time), and the start-up check scans them when a recorded version is missing.

Offline (--sql) mode cannot seal the check values and is refused.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0014_key_check"
down_revision = "0001_foundation"
branch_labels = ("keycheck",)
depends_on = None


def _sealed_columns(bind) -> list[tuple[str, str]]:
    """(table, column) of every EncryptedField the app registered that exists in this schema."""
    from sqlalchemy import inspect

    from clearance.crypto import REGISTRY

    insp = inspect(bind)
    tables = set(insp.get_table_names())
    out = set()
    for field in REGISTRY.values():
        mapper = inspect(field.owner, raiseerr=False)
        if mapper is None or field.owner.__tablename__ not in tables:
            continue
        column = mapper.columns[field.column_attr].name
        if column in {c["name"] for c in insp.get_columns(field.owner.__tablename__)}:
            out.add((field.owner.__tablename__, column))
    return sorted(out)


def upgrade():
    if context.is_offline_mode():
        raise RuntimeError("0014_key_check seals check values with the application's keys; run it online")
    from clearance import crypto, keycheck

    provider = crypto.get_provider()
    provider.current()  # no keys: stop before any change (KeyUnavailable says what to do)
    table = op.create_table(
        "key_check",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("check_ct", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", "version", name="pk_key_check"),
    )
    bind = op.get_bind()
    have = keycheck.available(provider)
    in_data = keycheck.versions_in_data(bind, _sealed_columns(bind))
    now = keycheck.utcnow()
    rows = [
        {"key_id": k, "version": v, "check_ct": keycheck.seal_check(provider, (k, v)), "recorded_at": now}
        for k, v in sorted(have)
    ]
    rows += [{"key_id": k, "version": v, "check_ct": None, "recorded_at": now} for k, v in sorted(in_data - have)]
    if rows:
        op.bulk_insert(table, rows)


def downgrade():
    op.drop_table("key_check")
