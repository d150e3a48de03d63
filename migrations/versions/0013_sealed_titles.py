"""sealed titles: dialogue titles, venues and online links, agenda item titles and briefing titles

Revision ID: 0013_sealed_titles
Revises: 0001_foundation
Create Date: 2026-12-03

Hand-written. Issue 11 ("titles are material too"): a level-1 dialogue's title and venue and its
online-meeting link, its agenda item titles and a briefing's title sat in clear in the database,
whatever the object's level (stop 9 had declared briefing titles unclassified by rule; the issue
overrules it). Each gets a *_ct column sealed with clearance.crypto at the object's level, like
0008_sealed_text and 0012_sealed_meetings_text did for the bodies, existing rows are sealed, and the
plaintext column is dropped. The tables belong to the meetings branch (dialogue, agenda_item) and
the clearance branch (briefing), so this is a branch of its own ("sealed_titles") that depends_on
0012 (the meetings branch in its sealed state: 0012's tests stop just below it) and 0004 (briefing).

Associated data, as the models' EncryptedFields build it: (table, field, row id, level) where the
field is the logical name (the old column's name) and the level is the dialogue's or briefing's own
`level`; an agenda item has no level of its own and is sealed at its dialogue's (derived). Empty
venues and links meant "none" and become NULL, as the app now writes them; titles are required.

Nothing indexes, constrains or sorts by these columns (lists order by date); no search column holds
them (the register's `search_text` columns are about companies, associations and groups only).

SQLite: dialogue and briefing have children with ON DELETE CASCADE and the app connects with
foreign_keys=ON, which cannot be switched off inside the migration's transaction, so neither is
rebuilt: their new columns are nullable (plain ADD COLUMN) and the old ones go with SQLite's own
ALTER TABLE DROP COLUMN (3.35+). agenda_item has no children: it is rebuilt in batch mode so that
title_ct becomes NOT NULL.

Old plaintext may survive outside the live rows: SQLite runs this with secure_delete on (freed
pages are zeroed); on PostgreSQL run VACUUM FULL dialogue, agenda_item, briefing afterwards. Backups
made before the upgrade still hold the plaintext (docs/SECURITY.md §2).

Downgrade decrypts back into plaintext columns and refuses, naming the row, if a value does not
open. Offline (--sql) mode cannot seal rows and is refused.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0013_sealed_titles"
down_revision = "0001_foundation"
branch_labels = ("sealed_titles",)
depends_on = ("0012_sealed_meetings_text", "0004_clearance")

#: (table, field = old column, plaintext type before, empty text stored as NULL)
FIELDS = (
    ("dialogue", "title", sa.String(200), False),
    ("dialogue", "venue", sa.String(300), True),
    ("dialogue", "online_url", sa.String(500), True),
    ("agenda_item", "title", sa.String(300), False),
    ("briefing", "title", sa.String(200), False),
)
#: where each table's rows find their level: (FROM clause, level expression); the row is `t`
_LEVEL = {
    "dialogue": ("dialogue t", "t.level"),
    "briefing": ("briefing t", "t.level"),
    "agenda_item": ("agenda_item t JOIN dialogue d ON d.id = t.dialogue_id", "d.level"),
}
#: tables never rebuilt (children with ON DELETE CASCADE): plain ADD / DROP COLUMN
_IN_PLACE = ("dialogue", "briefing")
_BATCH = 500


def _rows(bind, table: str, column: str):
    """(id, value, level) of every row with a value, in primary-key pages (names are the constants above)."""
    source, level = _LEVEL[table]
    last = ""
    while True:
        page = bind.execute(sa.text(
            f"SELECT t.id, t.{column}, {level} FROM {source} "  # noqa: S608 - constants
            f"WHERE t.{column} IS NOT NULL AND t.id > :last ORDER BY t.id LIMIT {_BATCH}"), {"last": last}).all()
        if not page:
            return
        yield [(r[0], r[1], int(r[2])) for r in page]
        last = page[-1][0]


def _seal_rows(bind, table: str, field: str, empty_null: bool) -> None:
    from clearance import crypto

    update = sa.text(f"UPDATE {table} SET {field}_ct = :ct WHERE id = :id")  # noqa: S608 - constants
    for page in _rows(bind, table, field):
        params = [{"id": rid, "ct": crypto.seal_text(value, crypto.Context(table, field, rid, lvl))}
                  for rid, value, lvl in page if not (empty_null and value == "")]
        if params:
            bind.execute(update, params)


def _open_rows(bind, table: str, field: str, *, write: bool) -> None:
    """Decrypt every value (write=False: only check that each one opens) into the plaintext column."""
    from clearance import crypto

    update = sa.text(f"UPDATE {table} SET {field} = :v WHERE id = :id")  # noqa: S608 - constants
    for page in _rows(bind, table, f"{field}_ct"):
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
        raise RuntimeError("0013_sealed_titles seals existing rows with the application's keys; run it online")
    from clearance import crypto

    crypto.get_provider().current()  # no keys: stop before any change (KeyUnavailable says what to do)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Pages freed by the rewrites below are zeroed, so the old plaintext does not linger in the file.
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    for table, field, _type, _empty in FIELDS:
        op.add_column(table, sa.Column(f"{field}_ct", sa.LargeBinary(), nullable=True))
    for table, field, _type, empty_null in FIELDS:
        _seal_rows(bind, table, field, empty_null)
    for table, field, _type, _empty in FIELDS:
        if table in _IN_PLACE:
            op.drop_column(table, field)
    with op.batch_alter_table("agenda_item") as b:
        b.alter_column("title_ct", existing_type=sa.LargeBinary(), nullable=False)
        b.drop_column("title")


def downgrade():
    if context.is_offline_mode():
        raise RuntimeError("0013_sealed_titles decrypts rows with the application's keys; run it online")
    bind = op.get_bind()
    # Every value must open before anything changes: SQLite's DDL here is not transactional.
    for table, field, _type, _empty in FIELDS:
        _open_rows(bind, table, field, write=False)
    for table, field, plain, _empty in FIELDS:
        # NOT NULL as before 0013; the default fills the rows that had no venue or link (NULL now).
        op.add_column(table, sa.Column(field, plain, nullable=False, server_default=""))
    for table, field, _type, _empty in FIELDS:
        _open_rows(bind, table, field, write=True)
    for table, field, _type, _empty in FIELDS:
        if table in _IN_PLACE:
            op.drop_column(table, f"{field}_ct")
    with op.batch_alter_table("agenda_item") as b:
        b.drop_column("title_ct")
