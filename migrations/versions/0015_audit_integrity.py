"""audit_integrity: keyed audit entries, a sequence instead of the head row's lock, signed checkpoints

Revision ID: 0015_audit_integrity
Revises: 0001_foundation
Create Date: 2026-12-03

Hand-written. Issue 13. The audit chain was plain SHA-256 linked through a one-row head that every
audited transaction locked. Now (clearance/audit.py):

* audit_entry gains key_ref and mac: HMAC-SHA256 of the entry's content digest under a key derived
  from the key provider (Flask-Migrate runs this inside the app, whose factory configured it). The
  existing chain is verified first (the upgrade refuses, naming the entry, if it is broken: a
  broken log must be investigated, not sealed), then every existing entry is MACed and prev_hash /
  entry_hash are dropped. The first checkpoint the app makes seals them in a signed tree.
* PostgreSQL: entries are numbered by the sequence audit_entry_seq (owned by the column, so
  TRUNCATE ... RESTART IDENTITY resets it), continuing after the head's count. SQLite keeps
  audit_head as its counter (SQLite serialises writers anyway).
* audit_checkpoint: signed Merkle tree heads, append-only like the entries.

Its own branch ("audit_integrity") from the foundation, which created the audit tables.
Downgrade rebuilds the SHA-256 chain (renumbering entries 1..n: the old code wants no gaps) and
drops the checkpoints. Offline (--sql) mode cannot MAC rows and is refused.
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import context, op

revision = "0015_audit_integrity"
down_revision = "0001_foundation"
branch_labels = ("audit_integrity",)
depends_on = None

GENESIS = "0" * 64
_TRIGGERS_SQLITE = ("audit_entry_no_update", "audit_entry_no_delete")


def _legacy_digest(r, prev_hash: str) -> str:
    """The SHA-256 of the old chain (clearance/audit.py before this revision), frozen here."""
    body = json.dumps(
        [r.seq, r.occurred_at.isoformat(timespec="microseconds"), r.actor_id, r.actor, r.realm, r.kind, r.summary,
         r.data, prev_hash],
        ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _entries(extra: tuple[str, ...] = ()):
    cols = [sa.column("seq", sa.Integer), sa.column("occurred_at", sa.DateTime), sa.column("actor_id", sa.String),
            sa.column("actor", sa.String), sa.column("realm", sa.String), sa.column("kind", sa.String),
            sa.column("summary", sa.String), sa.column("data", sa.Text)]
    cols += [sa.column(name, sa.String) for name in extra]
    return sa.table("audit_entry", *cols)


def _guard(bind, on: bool) -> None:
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_entry {'ENABLE' if on else 'DISABLE'} TRIGGER audit_entry_append_only")
    elif on:
        from clearance.audit import APPEND_ONLY_SQLITE

        for s in APPEND_ONLY_SQLITE:
            op.execute(s)
    else:
        for name in _TRIGGERS_SQLITE:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    if context.is_offline_mode():
        raise RuntimeError("0015_audit_integrity MACs existing audit entries and cannot run in --sql mode")
    from clearance.audit import CHECKPOINT_APPEND_ONLY_POSTGRES, append_only_sqlite
    from clearance.audit_proof import content_digest
    from clearance.crypto import audit_keys, keyed_hash

    bind = op.get_bind()
    old = _entries(("prev_hash", "entry_hash"))
    prev, expected = GENESIS, 1
    rows = bind.execute(sa.select(old).order_by(old.c.seq)).all()
    for r in rows:
        if r.seq != expected or r.prev_hash != prev or _legacy_digest(r, r.prev_hash) != r.entry_hash:
            raise RuntimeError(f"audit log broken at entry {expected}; run `flask audit-verify` on the previous "
                               "release and investigate before upgrading (a broken log must not be sealed)")
        prev, expected = r.entry_hash, expected + 1
    head = bind.execute(sa.text("SELECT seq, last_hash FROM audit_head WHERE id = 1")).first()
    if head is not None and rows and (head.seq != rows[-1].seq or head.last_hash != prev):
        raise RuntimeError(f"audit log broken at entry {len(rows) + 1} (entries removed from the end); investigate "
                           "before upgrading")

    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("key_ref", sa.String(80), nullable=True))
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    _guard(bind, False)
    ref = audit_keys.current_ref()
    key = audit_keys.mac_key(ref)
    new = _entries(("key_ref", "mac"))
    for r in rows:
        mac = keyed_hash(key, content_digest(r.seq, r.occurred_at, r.actor_id, r.actor, r.realm, r.kind, r.summary,
                                             r.data, ref)).hex()
        bind.execute(new.update().where(new.c.seq == r.seq).values(key_ref=ref, mac=mac))
    if bind.dialect.name == "postgresql":
        op.drop_column("audit_entry", "prev_hash")
        op.drop_column("audit_entry", "entry_hash")
    else:
        # SQLite 3.35+ ALTER TABLE DROP COLUMN: no index, trigger or constraint names these columns.
        op.execute("ALTER TABLE audit_entry DROP COLUMN prev_hash")
        op.execute("ALTER TABLE audit_entry DROP COLUMN entry_hash")
    _guard(bind, True)

    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("after_seq", sa.Integer(), nullable=False),
        sa.Column("upto_seq", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.Text(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("key_ref", sa.String(80), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
    )
    if bind.dialect.name == "postgresql":
        for s in CHECKPOINT_APPEND_ONLY_POSTGRES:
            op.execute(s)
        start = head.seq if head is not None else 0
        op.execute("CREATE SEQUENCE audit_entry_seq OWNED BY audit_entry.seq")
        if start > 0:
            op.execute(f"SELECT setval('audit_entry_seq', {int(start)})")
    else:
        for s in append_only_sqlite("audit_checkpoint"):
            op.execute(s)


def downgrade() -> None:
    if context.is_offline_mode():
        raise RuntimeError("0015_audit_integrity cannot be downgraded in --sql mode")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint")
        op.execute("DROP FUNCTION IF EXISTS audit_checkpoint_append_only()")
        op.execute("DROP SEQUENCE IF EXISTS audit_entry_seq")
    op.drop_table("audit_checkpoint")
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("entry_hash", sa.String(64), nullable=True))
    _guard(bind, False)
    t = _entries(("prev_hash", "entry_hash"))
    prev = GENESIS
    rows = bind.execute(sa.select(t).order_by(t.c.seq)).all()
    for n, r in enumerate(rows, 1):
        h = _legacy_digest(_Renumbered(r, n), prev)
        bind.execute(t.update().where(t.c.seq == r.seq).values(seq=n, prev_hash=prev, entry_hash=h))
        prev = h
    bind.execute(sa.text("UPDATE audit_head SET seq = :s, last_hash = :h WHERE id = 1"), {"s": len(rows), "h": prev})
    if bind.dialect.name == "postgresql":
        op.alter_column("audit_entry", "prev_hash", nullable=False)
        op.alter_column("audit_entry", "entry_hash", nullable=False)
        op.drop_column("audit_entry", "key_ref")
        op.drop_column("audit_entry", "mac")
    else:
        op.execute("ALTER TABLE audit_entry DROP COLUMN key_ref")
        op.execute("ALTER TABLE audit_entry DROP COLUMN mac")
    _guard(bind, True)


class _Renumbered:
    def __init__(self, row, seq: int) -> None:
        self._row, self.seq = row, seq

    def __getattr__(self, name):
        return getattr(self._row, name)
