"""sealed_reasons: reasons recorded with clearances and certifications, minutes revision notes

Revision ID: 0011_sealed_reasons
Revises: 0001_foundation
Create Date: 2026-11-29

Hand-written. Issue 5 (encryption at rest), second pass after 0008_sealed_text: the free-text
reasons security officers record with personal clearances and company certifications (why a
record was made, approved or rejected, suspended or revoked) and the note saved with each
minutes revision get a *_ct column sealed with clearance.crypto (the configured key provider:
Flask-Migrate runs this inside the app, whose factory has configured it); existing rows are
sealed and the plaintext column is dropped.

The tables belong to the clearance (0004) and minutes (0007) branches, so this is a branch of
its own ("sealed_reasons") that depends_on both, like 0008 ("sealing"). Not stacked on 0008: that
would make 0008 a non-head, and its test could no longer bring a database to every head but 0008
and then run 0008 alone. Upgrade with `upgrade heads` as everywhere: as with 0008, alembic cannot
go from an empty database to exactly this revision (a bookkeeping KeyError on 0001_foundation,
after the DDL ran). Downgrade with `downgrade sealed_reasons@-1`.

Associated data, as the models' EncryptedFields build it: (table, field, row id, level) where
the field is the logical name (the old column's name) and the level is the revision's own
`level` for minutes_revision.note (fixed when the revision is saved, like its content) and 0
for the clearance tables (their `level` is the level a person or company is cleared for, not a
classification of the text; the access rule reads it in SQL and never opens a reason).

SQLite: personal_clearance and company_certification have children with ON DELETE CASCADE
(compartments, departments) and the app connects with foreign_keys=ON, which cannot be switched
off inside the migration's transaction, so a rebuild would delete the children. No table is
rebuilt (minutes_revision needs none either): the old columns go with SQLite's own ALTER TABLE
DROP COLUMN (3.35+; no index or constraint names them) and the new ones stay nullable on both
databases (SQLite cannot add a NOT NULL column without a default); the services insist on a reason.

Old plaintext may survive outside the live rows. SQLite runs this with secure_delete on (freed
pages and cells are zeroed), but the old pages stay in the main file until a checkpoint writes
the new ones over them, and the WAL keeps older frames until it is reset: with the app stopped,
the upgrade's own connection checkpoints and removes the WAL when it closes; with the app running,
run PRAGMA wal_checkpoint(TRUNCATE) afterwards. On PostgreSQL run VACUUM FULL on the three tables.
Backups made before the upgrade still hold the plaintext, and audit entries written before it
still quote the clearance reasons (docs/SECURITY.md §2).

Downgrade decrypts back into plaintext columns and refuses, naming the row, if a value does
not open. Offline (--sql) mode cannot seal rows and is refused.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0011_sealed_reasons"
down_revision = "0001_foundation"
branch_labels = ("sealed_reasons",)
depends_on = ("0004_clearance", "0007_minutes_feedback")

#: (table, field = old column, level column or None for level 0, old column NOT NULL, empty text stored as NULL)
FIELDS = (
    ("personal_clearance", "reason", None, True, False),
    ("personal_clearance", "decision_reason", None, False, True),
    ("personal_clearance", "status_reason", None, False, True),
    ("company_certification", "reason", None, True, False),
    ("company_certification", "decision_reason", None, False, True),
    ("company_certification", "status_reason", None, False, True),
    ("minutes_revision", "note", "level", True, True),
)
_BATCH = 500


def _tables() -> list[str]:
    return list(dict.fromkeys(t for t, *_ in FIELDS))


def _fields(table: str) -> list[tuple[str, str | None, bool, bool]]:
    return [(f, lvl, notnull, empty_null) for t, f, lvl, notnull, empty_null in FIELDS if t == table]


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


def _seal_rows(bind, table: str, field: str, level: str | None, empty_null: bool) -> None:
    from clearance import crypto

    update = sa.text(f"UPDATE {table} SET {field}_ct = :ct WHERE id = :id")  # noqa: S608 - constants
    for page in _rows(bind, table, field, level):
        params = [{"id": rid, "ct": crypto.seal_text(value, crypto.Context(table, field, rid, lvl))}
                  for rid, value, lvl in page if not (empty_null and value == "")]
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
        raise RuntimeError("0011_sealed_reasons seals existing rows with the application's keys; run it online")
    from clearance import crypto

    crypto.get_provider().current()  # no keys: stop before any change (KeyUnavailable says what to do)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Pages and cells freed by the rewrites below are zeroed, so the old plaintext does not linger in the file.
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    for table in _tables():
        for field, *_ in _fields(table):
            op.add_column(table, sa.Column(f"{field}_ct", sa.LargeBinary(), nullable=True))
    for table in _tables():
        for field, level, _notnull, empty_null in _fields(table):
            _seal_rows(bind, table, field, level, empty_null)
    for table in _tables():  # never rebuilt (see above): plain DROP COLUMN on both databases
        for field, *_ in _fields(table):
            op.drop_column(table, field)


def _plain_type(table: str, field: str) -> sa.types.TypeEngine:
    return sa.String(300) if (table, field) == ("minutes_revision", "note") else sa.Text()


def downgrade():
    if context.is_offline_mode():
        raise RuntimeError("0011_sealed_reasons decrypts rows with the application's keys; run it online")
    bind = op.get_bind()
    # Every value must open before anything changes: SQLite's DDL here is not transactional.
    for table in _tables():
        for field, level, *_ in _fields(table):
            _open_rows(bind, table, field, level, write=False)
    for table in _tables():
        for field, _level, notnull, _ in _fields(table):
            op.add_column(table, sa.Column(field, _plain_type(table, field), nullable=not notnull,
                                           server_default="" if notnull else None))
    for table in _tables():
        for field, level, *_ in _fields(table):
            _open_rows(bind, table, field, level, write=True)
    for table in _tables():
        for field, *_ in _fields(table):
            op.drop_column(table, f"{field}_ct")
