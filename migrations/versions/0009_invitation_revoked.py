"""meetings: an officer can take back an invitation (invitation status "revoked", when and why)

Revision ID: 0009_invitation_revoked
Revises: 0003_meetings
Create Date: 2026-11-28

Hand-written. On the "meetings" branch (labelled at 0003_meetings), so no label of its own.

Widening the status CHECK needs a table rebuild on SQLite (batch "move and copy"). The app
connects with foreign_keys=ON and that cannot be switched off inside the migration's
transaction, so dropping the old `invitation` table would cascade-delete every rsvp_token
row and null every delegated_to_id. What points at invitation is copied aside before the
rebuild and put back after it. PostgreSQL simply swaps the constraint.
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0009_invitation_revoked"
down_revision = "0003_meetings"
branch_labels = None
depends_on = None

_OLD = "'pending', 'accepted', 'declined', 'delegated', 'withdrawn', 'waitlisted'"
_NEW = _OLD + ", 'revoked'"
#: the model's name; 0003 created it as ck_invitation_ck_invitation_status_known (convention applied twice)
_CHECK = "ck_invitation_status_known"


def _status_check_name(bind) -> str:
    """The name the status CHECK has in this database (0003's doubled name, or ours after 0009)."""
    for check in sa.inspect(bind).get_check_constraints("invitation"):
        if check.get("name") and "status" in (check.get("sqltext") or ""):
            return check["name"]
    raise RuntimeError("invitation has no status CHECK constraint to replace")


def _references(bind, parent: str) -> list[tuple[str, str, str, list[str]]]:
    """SQLite foreign keys into `parent` (itself included): (table, column, ON DELETE action, primary key)."""
    names = [r[0] for r in bind.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    found = []
    for name in names:
        # foreign_key_list columns: id, seq, table, from, to, on_update, on_delete, match
        for fk in bind.exec_driver_sql(f'PRAGMA foreign_key_list("{name}")').fetchall():
            if fk[2] == parent and fk[6].upper() in ("CASCADE", "SET NULL"):
                pk = [c[1] for c in sorted(bind.exec_driver_sql(f'PRAGMA table_info("{name}")').fetchall(),
                                           key=lambda c: c[5]) if c[5]]
                found.append((name, fk[3], fk[6].upper(), pk))
    return found


def _rebuild_sqlite(status_sql: str, columns: Callable[[BatchOperations], None]) -> None:
    """Rebuild `invitation` with a new CHECK (and the given batch steps), keeping what points at it.

    Dropping the old table fires ON DELETE actions: rsvp_token rows are deleted, and the copy's
    own delegated_to_id (its FK names "invitation") is set to NULL. Both are saved and put back.
    """
    bind = op.get_bind()
    current = _status_check_name(bind)
    refs = _references(bind, "invitation")
    saved = [_save(bind, f"_keep_invitation_{n}", *ref) for n, ref in enumerate(refs)]
    with op.batch_alter_table("invitation", recreate="always") as b:
        b.drop_constraint(op.f(current), type_="check")
        b.create_check_constraint(op.f(_CHECK), sa.text(f"status IN ({status_sql})"))
        columns(b)
    for restore in saved:
        for sql in restore:
            bind.exec_driver_sql(sql)


def _save(bind, keep: str, table: str, column: str, action: str, pk: list[str]) -> list[str]:
    """Copy aside what dropping the old table would delete or null; returns the SQL that puts it back.
    Every name here comes from the database's own catalog."""
    if action == "CASCADE":
        bind.exec_driver_sql(f'CREATE TEMP TABLE "{keep}" AS SELECT * FROM "{table}"')  # noqa: S608
        back = f'INSERT OR IGNORE INTO "{table}" SELECT * FROM "{keep}"'  # noqa: S608
    else:
        cols = ", ".join(f'"{c}"' for c in [*pk, column])
        bind.exec_driver_sql(f'CREATE TEMP TABLE "{keep}" AS SELECT {cols} FROM "{table}" '  # noqa: S608
                             f'WHERE "{column}" IS NOT NULL')
        match = " AND ".join(f'k."{c}" = "{table}"."{c}"' for c in pk)
        back = (f'UPDATE "{table}" SET "{column}" = (SELECT k."{column}" FROM "{keep}" k WHERE {match}) '  # noqa: S608
                f'WHERE EXISTS (SELECT 1 FROM "{keep}" k WHERE {match})')
    return [back, f'DROP TABLE "{keep}"']


def _add_columns(b: BatchOperations) -> None:
    b.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
    b.add_column(sa.Column("revoke_reason", sa.Text(), nullable=False, server_default=""))


def _drop_columns(b: BatchOperations) -> None:
    b.drop_column("revoke_reason")
    b.drop_column("revoked_at")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_NEW, _add_columns)
        return
    op.add_column("invitation", sa.Column("revoked_at", sa.DateTime(), nullable=True))
    op.add_column("invitation", sa.Column("revoke_reason", sa.Text(), nullable=False, server_default=""))
    op.drop_constraint(op.f(_status_check_name(op.get_bind())), "invitation", type_="check")
    op.create_check_constraint(op.f(_CHECK), "invitation", f"status IN ({_NEW})")


def downgrade():
    # A revoked invitation has no older equivalent: it becomes "withdrawn" (no place, no answer).
    op.execute("UPDATE invitation SET status = 'withdrawn' WHERE status = 'revoked'")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_OLD, _drop_columns)
        return
    op.drop_constraint(op.f(_status_check_name(op.get_bind())), "invitation", type_="check")
    op.create_check_constraint(op.f(_CHECK), "invitation", f"status IN ({_OLD})")
    op.drop_column("invitation", "revoke_reason")
    op.drop_column("invitation", "revoked_at")
