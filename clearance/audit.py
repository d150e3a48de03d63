"""Append-only, hash-chained audit log.

Each entry stores the hash of the previous entry and of its own content, so a
changed, removed or inserted entry breaks the chain at that point. A one-row
head table serialises writers (the UPDATE takes a row lock on PostgreSQL and the
write lock on SQLite) so two workers never fork the chain. Database triggers
refuse UPDATE and DELETE on entries; `audit-verify` still catches an attacker
who drops them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from clearance.db import db, utcnow

GENESIS = "0" * 64


class Kind(StrEnum):
    POSITIVE = "positive"  # something was granted or succeeded
    CHANGE = "change"  # data or settings changed
    NEGATIVE = "negative"  # a failure, denial or lock-out
    INFO = "info"


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    #: position in the chain, 1-based, no gaps
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    #: human-readable actor (e-mail or "system"), kept even if the account is later removed
    actor: Mapped[str] = mapped_column(String(254), nullable=False)
    realm: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    summary: Mapped[str] = mapped_column(String(300), nullable=False)
    #: canonical JSON of structured details
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditHead(db.Model):
    """The chain's head: one row, id 1."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False, default=GENESIS)


def canonical(data: dict[str, Any] | None) -> str:
    return json.dumps(data or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_digest(
    *, seq: int, occurred_at: datetime, actor_id: str | None, actor: str, realm: str, kind: str,
    summary: str, data: str, prev_hash: str,
) -> str:
    """SHA-256 over every stored field except the hash itself."""
    body = json.dumps(
        [seq, occurred_at.isoformat(timespec="microseconds"), actor_id, actor, realm, kind, summary, data, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    session: Session,
    *,
    realm: str,
    kind: Kind | str,
    summary: str,
    data: dict[str, Any] | None = None,
    actor_id: str | None = None,
    actor: str = "system",
) -> AuditEntry:
    """Add one entry inside the caller's transaction (it commits with the action it records)."""
    head_t = AuditHead.__table__
    # The UPDATE comes first so it takes the lock before we read the previous hash.
    seq, prev_hash = session.execute(
        update(head_t).where(head_t.c.id == 1).values(seq=head_t.c.seq + 1).returning(head_t.c.seq, head_t.c.last_hash)
    ).one()
    entry = AuditEntry(
        seq=seq,
        occurred_at=utcnow(),
        actor_id=actor_id,
        actor=actor[:254],
        realm=realm,
        kind=str(kind),
        summary=summary[:300],
        data=canonical(data),
        prev_hash=prev_hash,
    )
    entry.entry_hash = entry_digest(
        seq=entry.seq, occurred_at=entry.occurred_at, actor_id=entry.actor_id, actor=entry.actor,
        realm=entry.realm, kind=entry.kind, summary=entry.summary, data=entry.data, prev_hash=entry.prev_hash,
    )
    session.execute(update(head_t).where(head_t.c.id == 1).values(last_hash=entry.entry_hash))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


def verify(session: Session, batch: int = 5000) -> Break | None:
    """Walk the chain; return the first broken entry, or None when intact."""
    expected_seq, prev = 1, GENESIS
    for entry in _iter_entries(session, batch):
        if entry.seq != expected_seq:
            reason = "missing entry" if entry.seq > expected_seq else "duplicate entry"
            return Break(expected_seq, reason)
        if entry.prev_hash != prev:
            return Break(entry.seq, "link to the previous entry does not match (inserted or removed entry)")
        digest = entry_digest(
            seq=entry.seq, occurred_at=entry.occurred_at, actor_id=entry.actor_id, actor=entry.actor,
            realm=entry.realm, kind=entry.kind, summary=entry.summary, data=entry.data, prev_hash=entry.prev_hash,
        )
        if digest != entry.entry_hash:
            return Break(entry.seq, "content changed")
        prev, expected_seq = entry.entry_hash, expected_seq + 1
    head = session.get(AuditHead, 1)
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.last_hash != prev):
        return Break(last_seq + 1, "entries removed from the end of the log")
    return None


def _iter_entries(session: Session, batch: int) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
        ).scalars().all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
]
APPEND_ONLY_POSTGRES = [
    "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
]
