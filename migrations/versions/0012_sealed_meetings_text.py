"""meetings: dialogue purposes and status reasons, and invitation revocation reasons, sealed at rest

Revision ID: 0012_sealed_meetings_text
Revises: 0009_invitation_revoked
Create Date: 2026-11-29

Hand-written. Issue 5 (encryption at rest), following 0008_sealed_text: the last free-text columns
of the dialogues area carried what the ministry tells companies in clear. Each gets a *_ct column
sealed with clearance.crypto (the configured key provider: Flask-Migrate runs this inside the app,
whose factory has configured it), existing rows are sealed, and the plaintext column is dropped.
On the "meetings" branch (both tables are its own), after 0009, which added revoke_reason.

Associated data, as the models' EncryptedFields build it: (table, field, row id, level) where the
field is the logical name (the old column's name) and the level is the dialogue's own `level` for
the dialogue fields, 0 for the invitation's reason. Empty text meant "none given" and becomes NULL,
as the app now writes it.

SQLite: both tables have children with ON DELETE CASCADE (dialogue: hosts, agenda, invitations,
topics; invitation: RSVP tokens) and the app connects with foreign_keys=ON, which cannot be switched
off inside the migration's transaction, so neither table is rebuilt: the new columns are nullable
(plain ADD COLUMN) and the old ones go with SQLite's own ALTER TABLE DROP COLUMN (3.35+); no index
or constraint names them.

Old plaintext may survive outside the live rows: SQLite runs this with secure_delete on (freed
pages are zeroed); on PostgreSQL run VACUUM FULL dialogue, invitation afterwards. Backups made
before the upgrade still hold the plaintext (docs/SECURITY.md §2).

Downgrade decrypts back into plaintext columns and refuses, naming the row, if a value does not
open. Offline (--sql) mode cannot seal rows and is refused.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0012_sealed_meetings_text"
down_revision = "0009_invitation_revoked"
branch_labels = None
depends_on = None

#: (table, field = old column, level column or None for level 0)
FIELDS = (
    ("dialogue", "purpose", "level"),
    ("dialogue", "status_reason", "level"),
    ("invitation", "revoke_reason", None),
)
_BATCH = 500


def _rows(bind, table: str, column: str, level: str | None):
    """(id, value, level) of every row with a value, in primary-key pages (names are the constants above)."""
    last = ""
    level_sql = f", {level}" if level else ""
    while True:
        page = bind.execute(sa.text(
            f"SELECT id, {column}{level_sql} FROM {table} WHERE {column} IS NOT NULL AND id > :last "  # noqa: S608
            f"ORDER BY id LIMIT {_BATCH}"), {"last": last}).all()
        if not page:
            return
        yield [(r[0], r[1], int(r[2]) if level else 0) for r in page]
        last = page[-1][0]


def _seal_rows(bind, table: str, field: str, level: str | None) -> None:
    from clearance import crypto

    update = sa.text(f"UPDATE {table} SET {field}_ct = :ct WHERE id = :id")  # noqa: S608 - constants
    for page in _rows(bind, table, field, level):
        params = [{"id": rid, "ct": crypto.seal_text(value, crypto.Context(table, field, rid, lvl))}
                  for rid, value, lvl in page if value != ""]
        if params:
            bind.execute(update, params)


def _open_rows(bind, table: str, field: str, level: str | None, *, write: bool) -> None:
    """Decrypt every value (write=False: only check that each one opens) into the plaintext column."""
    from clearance import crypto

    update = sa.text(f"UPDATE {table} SET {field} = :v WHERE id = :id")  # noqa: S608 - constants
    for page in _rows(bind, table, f"{field}_ct", level):
        params = []
        for rid, blob, lvl in page:
            try:
                params.append({"id": rid, "v": crypto.open_text(bytes(blob), crypto.Context(table, field, rid, lvl))})
            except crypto.DecryptionError as exc:
                raise RuntimeError(f"{table}.{field} of row {rid} does not decrypt ({exc}); "
                                   "the downgrade would lose it, so nothing was changed") from None
        if write:
            bind.execute(update, params)


def upgrade():
    if context.is_offline_mode():
        raise RuntimeError("0012_sealed_meetings_text seals existing rows with the application's keys; run it online")
    from clearance import crypto

    crypto.get_provider().current()  # no keys: stop before any change (KeyUnavailable says what to do)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Pages freed by the rewrites below are zeroed, so the old plaintext does not linger in the file.
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    for table, field, _level in FIELDS:
        op.add_column(table, sa.Column(f"{field}_ct", sa.LargeBinary(), nullable=True))
    for table, field, level in FIELDS:
        _seal_rows(bind, table, field, level)
    for table, field, _level in FIELDS:  # never rebuilt (see above): plain DROP COLUMN on both databases
        op.drop_column(table, field)


def downgrade():
    if context.is_offline_mode():
        raise RuntimeError("0012_sealed_meetings_text decrypts rows with the application's keys; run it online")
    bind = op.get_bind()
    # Every value must open before anything changes: SQLite's DDL here is not transactional.
    for table, field, level in FIELDS:
        _open_rows(bind, table, field, level, write=False)
    for table, field, _level in FIELDS:
        # NOT NULL as before 0012; the default fills the rows that had no text (NULL now).
        op.add_column(table, sa.Column(field, sa.Text(), nullable=False, server_default=""))
    for table, field, level in FIELDS:
        _open_rows(bind, table, field, level, write=True)
    for table, field, _level in FIELDS:
        op.drop_column(table, f"{field}_ct")
