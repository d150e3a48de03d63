"""sealing: briefing summaries and withdrawal reasons, correction requests, notification titles, minutes return notes

Revision ID: 0008_sealed_text
Revises: 0001_foundation
Create Date: 2026-11-28

Hand-written. Issue 5 (encryption at rest) for text columns that carried what companies told
the ministry or what the ministry told them in clear. Each gets a *_ct column sealed with
clearance.crypto (the configured key provider: Flask-Migrate runs this inside the app, whose
factory has configured it), existing rows are sealed, and the plaintext column is dropped.
The tables belong to four branches, so this is a branch of its own ("sealing") that
depends_on them, like 0007 (meetings through 0007, which depends on it).

Associated data, as the models' EncryptedFields build it: (table, field, row id, level) where
the field is the logical name (the old column's name) and the level is the briefing's own
`level` for briefing fields, 0 for the rest.

SQLite: briefing and minutes have children with ON DELETE CASCADE and the app connects with
foreign_keys=ON (which cannot be switched off inside the migration's transaction), so those
tables are never rebuilt: their columns are dropped with SQLite's own ALTER TABLE DROP COLUMN
(3.35+). correction_request (a CHECK names the dropped column) and notification (title_ct
becomes NOT NULL) have no children and are rebuilt in batch mode.

Old plaintext may survive outside the live rows: SQLite runs this with secure_delete on (freed
pages are zeroed); on PostgreSQL run VACUUM FULL on the four tables afterwards. Backups made
before the upgrade still hold the plaintext (docs/SECURITY.md §2).

Downgrade decrypts back into plaintext columns and refuses, naming the row, if a value does
not open. Offline (--sql) mode cannot seal rows and is refused.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0008_sealed_text"
down_revision = "0001_foundation"
branch_labels = ("sealing",)
# 0007 depends on 0003 (meetings, where notification lives). Naming 0003 here too makes alembic try to
# absorb a head 0007 already absorbed (KeyError when an existing database is upgraded to this revision).
# Upgrade with `upgrade heads` as everywhere: alembic cannot go from an empty database to exactly this
# revision (the same bookkeeping KeyError, on 0001_foundation).
depends_on = ("0002_registry", "0004_clearance", "0007_minutes_feedback")

#: (table, field = old column, level column or None for level 0, old column NOT NULL, empty text stored as NULL)
FIELDS = (
    ("briefing", "summary", "level", True, False),
    ("briefing", "withdrawn_reason", "level", False, True),
    ("correction_request", "proposed", None, True, False),
    ("correction_request", "original", None, True, False),
    ("correction_request", "note", None, True, False),
    ("correction_request", "decision_reason", None, True, True),
    ("notification", "title", None, True, False),
    ("minutes", "return_note", None, True, True),
)
_REJECTION = "rejection_has_reason"
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


def _check_name(bind, table: str, fragment: str) -> str:
    for check in sa.inspect(bind).get_check_constraints(table):
        if check.get("name") and fragment in (check.get("name") or ""):
            return check["name"]
    raise RuntimeError(f"{table} has no CHECK constraint named like {fragment}")


def upgrade():
    if context.is_offline_mode():
        raise RuntimeError("0008_sealed_text seals existing rows with the application's keys; run it online")
    from clearance import crypto

    crypto.get_provider().current()  # no keys: stop before any change (KeyUnavailable says what to do)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Pages freed by the rewrites below are zeroed, so the old plaintext does not linger in the file.
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    for table in _tables():
        for field, *_ in _fields(table):
            op.add_column(table, sa.Column(f"{field}_ct", sa.LargeBinary(), nullable=True))
    for table in _tables():
        for field, level, _notnull, empty_null in _fields(table):
            _seal_rows(bind, table, field, level, empty_null)

    for table in ("briefing", "minutes"):  # never rebuilt (see above): plain DROP COLUMN on both databases
        for field, *_ in _fields(table):
            op.drop_column(table, field)

    rejection = _check_name(bind, "correction_request", _REJECTION)
    with op.batch_alter_table("correction_request") as b:
        b.drop_constraint(op.f(rejection), type_="check")
        for field, *_ in _fields("correction_request"):
            b.drop_column(field)
        b.create_check_constraint(op.f(f"ck_correction_request_{_REJECTION}"),
                                  sa.text("status <> 'rejected' OR decision_reason_ct IS NOT NULL"))

    with op.batch_alter_table("notification") as b:
        b.alter_column("title_ct", existing_type=sa.LargeBinary(), nullable=False)
        b.drop_column("title")


def _plain_type(table: str, field: str) -> sa.types.TypeEngine:
    return {("minutes", "return_note"): sa.String(1000), ("notification", "title"): sa.String(300)}.get(
        (table, field), sa.Text())


def downgrade():
    if context.is_offline_mode():
        raise RuntimeError("0008_sealed_text decrypts rows with the application's keys; run it online")
    bind = op.get_bind()
    # Every value must open before anything changes: SQLite's DDL here is not transactional.
    for table in _tables():
        for field, level, *_ in _fields(table):
            _open_rows(bind, table, field, level, write=False)
    for table in ("briefing", "minutes"):
        for field, _level, notnull, _ in _fields(table):
            op.add_column(table, sa.Column(field, _plain_type(table, field), nullable=not notnull,
                                           server_default="" if notnull else None))
    with op.batch_alter_table("correction_request") as b:
        for field, *_ in _fields("correction_request"):
            b.add_column(sa.Column(field, sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("notification") as b:
        b.add_column(sa.Column("title", sa.String(300), nullable=False, server_default=""))

    for table in _tables():
        for field, level, *_ in _fields(table):
            _open_rows(bind, table, field, level, write=True)

    rejection = _check_name(bind, "correction_request", _REJECTION)
    with op.batch_alter_table("correction_request") as b:
        b.drop_constraint(op.f(rejection), type_="check")
        b.create_check_constraint(op.f(f"ck_correction_request_{_REJECTION}"),
                                  sa.text("status <> 'rejected' OR length(decision_reason) > 0"))
        for field, *_ in _fields("correction_request"):
            b.drop_column(f"{field}_ct")
    with op.batch_alter_table("notification") as b:
        b.drop_column("title_ct")
    for table in ("briefing", "minutes"):
        for field, *_ in _fields(table):
            op.drop_column(table, f"{field}_ct")
