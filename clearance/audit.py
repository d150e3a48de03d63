"""Append-only audit log: keyed entries, signed Merkle checkpoints, published heads.

* Each entry carries a MAC (HMAC-SHA256 over its content digest) under a key derived from the key
  provider (clearance.crypto.audit_keys; never stored in the database) and the key version it was
  made under. Whoever can write the table but does not hold the keys cannot forge or recompute one.
* Appending takes no shared row lock. Entries get their number from a database sequence
  (PostgreSQL) and are committed with the action they record; each MAC covers its own entry only.
  The order is fixed later by a checkpoint: the RFC 9162 Merkle tree over the entries numbered
  (previous checkpoint, upto], signed with Ed25519 and chained by hash to the previous checkpoint.
  On PostgreSQL each appending transaction holds a *shared* advisory lock (shared holders never
  wait for each other); the checkpointer briefly takes it exclusively to learn a number below
  which every entry is committed or gone for good (docs/DECISIONS.md, "Audit integrity").
  SQLite serialises all writers anyway, so there the one-row audit_head is simply its sequence.
* Checkpoints are published outside the database (TAIWA_AUDIT_PUBLISH_DIR, an append-only JSON
  lines file) and summarised in the security officers' daily mail, so a rollback contradicts
  something already held elsewhere. `verify` reports the first bad entry or checkpoint.
* Database triggers refuse UPDATE and DELETE on entries and checkpoints; `verify` still catches
  an attacker who drops them.
"""

from __future__ import annotations

import json
import os
import time as _time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, func, insert, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from clearance.audit_proof import (
    GENESIS,
    PROOF_FORMAT,
    audit_path,
    checkpoint_hash,
    checkpoint_message,
    content_digest,
    leaf_hash,
    read_published,
    root_of,
    signature_ok,
    tree_levels,
)
from clearance.crypto import audit_keys, keyed_hash, same, sign
from clearance.crypto.errors import KeyUnavailable
from clearance.db import db, utcnow

#: advisory lock keys (PostgreSQL): appenders share APPEND_LOCK, the checkpointer takes it alone
#: for an instant; CHECKPOINT_LOCK keeps two checkpointers apart.
APPEND_LOCK = 0x7A1A_0001
CHECKPOINT_LOCK = 0x7A1A_0002
PUBLISHED_FILE = "checkpoints.jsonl"
#: a checkpoint is made every minute while entries arrive and at least this often otherwise
HEARTBEAT = timedelta(hours=1)


class Kind(StrEnum):
    POSITIVE = "positive"  # something was granted or succeeded
    CHANGE = "change"  # data or settings changed
    NEGATIVE = "negative"  # a failure, denial or lock-out
    INFO = "info"


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    #: the entry's number: from a sequence, increasing, with gaps where a transaction rolled back
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
    #: key version of the MAC, "main:1"
    key_ref: Mapped[str | None] = mapped_column(String(80))
    #: HMAC-SHA256 (hex) of the content digest under the audit MAC key of key_ref
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditHead(db.Model):
    """SQLite only: the entry counter (one row, id 1). PostgreSQL uses the sequence audit_entry_seq."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False, default=GENESIS)


class AuditCheckpoint(db.Model):
    """A signed tree head over the entries numbered (after_seq, upto_seq]."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[str] = mapped_column(String(32), nullable=False)  # ISO text, exactly as signed
    after_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    upto_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    #: JSON list of [first, last] numbers in the range that no committed entry holds (rollbacks)
    gaps: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    root: Mapped[str] = mapped_column(String(64), nullable=False)
    prev: Mapped[str] = mapped_column(String(64), nullable=False)
    key_ref: Mapped[str] = mapped_column(String(80), nullable=False)
    signature: Mapped[str] = mapped_column(String(128), nullable=False)

    def body(self) -> dict[str, Any]:
        return {"v": 1, "id": self.id, "time": self.created_at, "after": self.after_seq, "upto": self.upto_seq,
                "size": self.size, "total": self.total, "gaps": json.loads(self.gaps), "root": self.root,
                "prev": self.prev, "key": self.key_ref}

    def record(self) -> dict[str, Any]:
        """The published form: body, signature and the signer's public key."""
        return {"checkpoint": self.body(), "signature": self.signature,
                "public_key": audit_keys.public_key(self.key_ref).hex()}


def canonical(data: dict[str, Any] | None) -> str:
    return json.dumps(data or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _next_seq(session: Session) -> int:
    if _is_postgres(session):
        # The shared lock is taken before the number (MATERIALIZED keeps that order): see the checkpointer.
        return session.execute(text(
            "WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(:k)) "
            "SELECT nextval('audit_entry_seq') FROM l"), {"k": APPEND_LOCK}).scalar_one()
    head_t = AuditHead.__table__
    return session.execute(
        update(head_t).where(head_t.c.id == 1).values(seq=head_t.c.seq + 1).returning(head_t.c.seq)
    ).scalar_one()


def _bench_skips_writes(session: Session) -> bool:
    """TAIWA_AUDIT_BENCH_SKIP_WRITES: bench/audit_bench.py's unaudited baseline, refused elsewhere."""
    from flask import current_app, has_app_context

    return (has_app_context() and bool(current_app.config.get("TAIWA_AUDIT_BENCH_SKIP_WRITES"))
            and current_app.config.get("TAIWA_ENV") == "bench")


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
    entry = AuditEntry(occurred_at=utcnow(), actor_id=actor_id, actor=actor[:254], realm=realm, kind=str(kind),
                       summary=summary[:300], data=canonical(data), key_ref=audit_keys.current_ref())
    if _bench_skips_writes(session):
        return entry
    entry.seq = _next_seq(session)
    entry.mac = keyed_hash(audit_keys.mac_key(entry.key_ref), _digest_of(entry)).hex()
    # A Core INSERT: the ORM unit of work costs more than the rest of the append, on every audited read.
    # session.execute autoflushes the caller's pending objects first, as session.flush() did. The
    # returned entry is not attached to the session (load it with session.get to change nothing anyway).
    session.execute(insert(AuditEntry.__table__).values({c: getattr(entry, c) for c in _ENTRY_COLS}))
    return entry


def _digest_of(e: Any) -> bytes:
    if type(e) is not AuditEntry:  # a row of _ENTRY_COLS: positional access is the fast path
        return content_digest(*e[:9])
    return content_digest(e.seq, e.occurred_at, e.actor_id, e.actor, e.realm, e.kind, e.summary, e.data, e.key_ref)


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


class CheckpointRefused(Exception):
    """The entries to be checkpointed do not verify: sealing them would launder a forgery."""


_ENTRY_COLS = ("seq", "occurred_at", "actor_id", "actor", "realm", "kind", "summary", "data", "key_ref", "mac")


def _rows(session: Session, after: int, upto: int | None = None, batch: int = 20000) -> Iterator[Any]:
    """Entries numbered above `after` (up to `upto`) in order, as plain rows, streamed."""
    t = AuditEntry.__table__
    stmt = select(*[t.c[c] for c in _ENTRY_COLS]).where(t.c.seq > after).order_by(t.c.seq)
    if upto is not None:
        stmt = stmt.where(t.c.seq <= upto)
    # Per statement: execution_options on the session's connection would stay on it for every later statement.
    yield from session.execute(stmt.execution_options(yield_per=batch))


def _mac_ok(row: Any, keys: dict[str, bytes]) -> tuple[bool, bytes, str | None]:
    """(MAC verifies, content digest, problem). A missing key version is a problem of its own."""
    digest = _digest_of(row)
    if not row.mac or not row.key_ref:
        return False, digest, "entry has no MAC (inserted without the key)"
    key = keys.get(row.key_ref)
    if key is None:
        try:
            key = keys[row.key_ref] = audit_keys.mac_key(row.key_ref)
        except KeyUnavailable as exc:
            return False, digest, f"MAC key {row.key_ref[:40]} unavailable: {exc}"
    if not same(keyed_hash(key, digest).hex(), row.mac):
        return False, digest, "content changed (MAC does not match)"
    return True, digest, None


def _settled_upto(session: Session) -> int:
    """A number at or below which every entry is committed or rolled back for good."""
    if not _is_postgres(session):
        # SQLite: writers are serialised and an entry's number is max+1 under the write lock, which
        # the UPDATE below now holds too: no entry can still appear below the head.
        head_t = AuditHead.__table__
        session.execute(update(head_t).where(head_t.c.id == 1).values(seq=head_t.c.seq))
        return session.execute(select(head_t.c.seq).where(head_t.c.id == 1)).scalar_one()
    # Every appender holds APPEND_LOCK shared from before it draws its number until it ends. Holding
    # it exclusively for an instant means all who drew a number so far have finished; the sequence's
    # value read then bounds them. Try without queueing first (a queued exclusive request would make
    # new readers wait behind it), then wait, bounded by lock_timeout.
    got = False
    for _ in range(200):
        if session.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": APPEND_LOCK}).scalar_one():
            got = True
            break
        _time.sleep(0.01)
    if not got:
        session.execute(text("SET LOCAL lock_timeout = '5s'"))
        session.execute(text("SELECT pg_advisory_lock(:k)"), {"k": APPEND_LOCK})
    try:
        last, called = session.execute(text("SELECT last_value, is_called FROM audit_entry_seq")).one()
    finally:
        session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": APPEND_LOCK})
    return last if called else last - 1


def last_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).scalar_one_or_none()


def make_checkpoint(session: Session, *, only_if_due: bool = False, now: datetime | None = None) -> AuditCheckpoint | None:
    """Sign a checkpoint over the entries since the last one (in the caller's transaction; commit,
    then publish). With only_if_due, None when there is nothing new and the last is under an hour old."""
    now = now or utcnow()
    if _is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHECKPOINT_LOCK})
    upto = _settled_upto(session)
    last = last_checkpoint(session)
    after = last.upto_seq if last else 0
    upto = max(upto, after)
    if only_if_due and upto == after and last is not None and now - datetime.fromisoformat(last.created_at) < HEARTBEAT:
        return None
    keys: dict[str, bytes] = {}
    leaves: list[bytes] = []
    gaps: list[list[int]] = []
    expected = after + 1
    for row in _rows(session, after, upto):
        ok, digest, problem = _mac_ok(row, keys)
        if not ok:
            raise CheckpointRefused(f"entry {row.seq}: {problem}; run `flask audit-verify`")
        if row.seq > expected:
            gaps.append([expected, row.seq - 1])
        expected = row.seq + 1
        leaves.append(leaf_hash(digest, bytes.fromhex(row.mac)))
    if expected <= upto:
        gaps.append([expected, upto])
    ref = audit_keys.current_ref()
    cp = AuditCheckpoint(
        id=(last.id + 1) if last else 1, created_at=now.replace(microsecond=0).isoformat(), after_seq=after,
        upto_seq=upto, size=len(leaves), total=(last.total if last else 0) + len(leaves), gaps=json.dumps(gaps),
        root=root_of(leaves).hex(), prev=checkpoint_hash(last.body(), last.signature) if last else GENESIS,
        key_ref=ref, signature="")
    cp.signature = sign(audit_keys.signing_seed(ref), checkpoint_message(cp.body())).hex()
    session.add(cp)
    session.flush()
    return cp


def publish_dir(config: Any) -> Path:
    from flask import current_app

    return Path(config.get("TAIWA_AUDIT_PUBLISH_DIR") or os.path.join(current_app.instance_path, "audit-published"))


def _last_published_id(path: Path) -> int:
    """The id on the file's last complete line (read from the end: the file grows for years)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 65536))
            lines = fh.read().split(b"\n")
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            return int(json.loads(line)["checkpoint"]["id"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0


def publish(session: Session, directory: Path) -> int:
    """Append every committed checkpoint not yet in the published file; returns how many. Appends
    only (O_APPEND) and fsyncs; a checkpoint whose publication failed is published next time."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PUBLISHED_FILE
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        # Several hosts' periodic runners may share one directory: one writer at a time, and the
        # last published id read under the lock, so no checkpoint is written twice.
        fcntl.flock(fd, fcntl.LOCK_EX)
        done = _last_published_id(path)
        pending = session.execute(select(AuditCheckpoint).where(AuditCheckpoint.id > done)
                                  .order_by(AuditCheckpoint.id)).scalars().all()
        if not pending:
            return 0
        data = "".join(json.dumps(cp.record(), sort_keys=True, separators=(",", ":")) + "\n" for cp in pending)
        os.write(fd, data.encode())
        os.fsync(fd)
        return len(pending)
    finally:
        os.close(fd)  # releases the lock


def digest_line(session: Session) -> str:
    """One line for the security officers' daily mail: the latest signed head, to be kept."""
    cp = last_checkpoint(session)
    if cp is None:
        return "監査ログ / audit log: no checkpoint yet"
    return (f"監査ログ / audit log checkpoint {cp.id}: {cp.created_at}Z, {cp.total} entries, "
            f"head {cp.root[:16]}, signature {cp.signature[:16]}")


# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first bad position: an entry number, and the checkpoint when the fault is in one."""

    seq: int
    reason: str
    checkpoint: int | None = None

    def describe(self) -> str:
        if self.checkpoint is not None:
            return f"checkpoint {self.checkpoint} (entries from {self.seq}): {self.reason}"
        return f"entry {self.seq}: {self.reason}"


@dataclass
class Verified:
    entries: int = 0
    checkpoints: int = 0
    published: int = 0
    unsealed: int = 0  # entries after the last checkpoint


def _gap_set(gaps: list[list[int]]) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in gaps]


def verify(session: Session, published: list[dict[str, Any]] | None = None,
           stats: Verified | None = None) -> Break | None:
    """Check every entry's MAC, every checkpoint's signature, chain and tree, and that the database
    still holds (and extends) every checkpoint in `published`. Returns the first fault or None."""
    stats = stats if stats is not None else Verified()
    keys: dict[str, bytes] = {}
    pub_by_id: dict[int, dict[str, Any]] = {}
    for n, rec in enumerate(published or [], 1):
        body = rec.get("checkpoint") if isinstance(rec, dict) else None
        if not isinstance(body, dict) or body.get("id") != n:
            return Break(0, f"published file line {n} is not checkpoint {n}", n)
        try:
            trusted = audit_keys.public_key(str(body.get("key"))).hex()
        except KeyUnavailable:
            return Break(int(body.get("after", 0)) + 1, "published checkpoint's signing key is unknown", n)
        if not signature_ok(rec, trusted):
            return Break(int(body.get("after", 0)) + 1, "published checkpoint's signature does not verify", n)
        pub_by_id[n] = rec

    entries = _rows(session, 0)
    pending = next(entries, None)
    prev, after, expected_id = GENESIS, 0, 1
    cps = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars()
    for cp in cps:
        if cp.id != expected_id:
            return Break(after + 1, "checkpoint missing" if cp.id > expected_id else "duplicate checkpoint",
                         expected_id)
        first = after + 1
        if cp.prev != prev or cp.after_seq != after:
            return Break(first, "does not chain to the previous checkpoint (replaced or removed)", cp.id)
        try:
            public = audit_keys.public_key(cp.key_ref)
        except KeyUnavailable:
            return Break(first, f"signing key {cp.key_ref[:40]} unknown", cp.id)
        record = {"checkpoint": cp.body(), "signature": cp.signature}
        if not signature_ok(record, public.hex()):
            return Break(first, "signature does not verify (checkpoint forged or edited)", cp.id)
        pub = pub_by_id.get(cp.id)
        if pub is not None and (pub["checkpoint"] != record["checkpoint"] or pub["signature"] != cp.signature):
            return Break(first, "differs from the published checkpoint (the log was rewritten)", cp.id)
        gaps = _gap_set(json.loads(cp.gaps))
        leaves: list[bytes] = []
        want = _wanted(after, cp.upto_seq, gaps)
        for seq in want:
            if pending is None or pending.seq > seq:
                return Break(seq, "entry missing (deleted)")
            if pending.seq < seq:
                return Break(pending.seq, "entry not in its checkpoint (inserted)")
            ok, digest, problem = _mac_ok(pending, keys)
            if not ok:
                return Break(pending.seq, problem or "bad entry")
            leaves.append(leaf_hash(digest, bytes.fromhex(pending.mac)))
            pending = next(entries, None)
        if pending is not None and pending.seq <= cp.upto_seq:
            return Break(pending.seq, "entry not in its checkpoint (inserted)")
        if len(leaves) != cp.size or root_of(leaves).hex() != cp.root:
            return Break(first, "entries do not hash to the signed root", cp.id)
        stats.entries += len(leaves)
        stats.checkpoints += 1
        prev, after, expected_id = checkpoint_hash(cp.body(), cp.signature), cp.upto_seq, cp.id + 1
    if expected_id <= len(pub_by_id):
        return Break(after + 1, f"the database ends at checkpoint {expected_id - 1} but checkpoint "
                     f"{len(pub_by_id)} was published (restored from an older backup: rolled back)", expected_id)
    # Entries after the last checkpoint: MACs only (their order is fixed by the next checkpoint).
    last_seq = after
    while pending is not None:
        ok, _, problem = _mac_ok(pending, keys)
        if not ok:
            return Break(pending.seq, problem or "bad entry")
        if not _is_postgres(session) and pending.seq != last_seq + 1:
            return Break(last_seq + 1, "entry missing (deleted)")  # SQLite numbers have no gaps
        last_seq = pending.seq
        stats.entries += 1
        stats.unsealed += 1
        pending = next(entries, None)
    if not _is_postgres(session):
        head = session.get(AuditHead, 1)
        if head is not None and head.seq > last_seq:
            return Break(last_seq + 1, "entries removed from the end of the log")
    stats.published = len(pub_by_id)
    return None


def _wanted(after: int, upto: int, gaps: list[tuple[int, int]]) -> Iterator[int]:
    """The numbers in (after, upto] outside the gaps, in order."""
    n = after + 1
    for a, b in sorted(gaps):
        while n < a:
            yield n
            n += 1
        n = max(n, b + 1)
    while n <= upto:
        yield n
        n += 1


def published_records(path: str | Path) -> list[dict[str, Any]] | None:
    """The published file's records, or None when there is no file yet."""
    try:
        return read_published(path)
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------------------
# Inclusion proofs
# ---------------------------------------------------------------------------


class NotYetCheckpointed(LookupError):
    pass


def entry_record(row: Any) -> dict[str, Any]:
    return {"seq": row.seq, "occurred_at": row.occurred_at.isoformat(timespec="microseconds"),
            "actor_id": row.actor_id, "actor": row.actor, "realm": row.realm, "kind": row.kind,
            "summary": row.summary, "data": row.data, "key": row.key_ref, "mac": row.mac,
            "digest": _digest_of(row).hex()}


def prove(session: Session, seq: int) -> dict[str, Any]:
    """Inclusion proof of entry `seq` in its signed checkpoint (LookupError if none covers it yet)."""
    if session.get(AuditEntry, seq) is None:
        raise LookupError(f"no audit entry {seq}")
    cp = session.execute(select(AuditCheckpoint).where(AuditCheckpoint.after_seq < seq,
                                                       AuditCheckpoint.upto_seq >= seq)).scalar_one_or_none()
    if cp is None:
        raise NotYetCheckpointed(f"entry {seq} is not in a checkpoint yet (the next one comes within a minute)")
    leaves, index, target = [], -1, None
    for row in _rows(session, cp.after_seq, cp.upto_seq):
        if row.seq == seq:
            index, target = len(leaves), row
        leaves.append(leaf_hash(_digest_of(row), bytes.fromhex(row.mac or "")))
    levels = tree_levels(leaves) if leaves else [[]]
    return {"format": PROOF_FORMAT, "entry": entry_record(target), "leaf_index": index, "tree_size": len(leaves),
            "audit_path": [h.hex() for h in audit_path(levels, index)], "checkpoint": cp.record()}


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


_APPEND_ONLY_TABLES = ("audit_entry", "audit_checkpoint")


def append_only_sqlite(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"]


APPEND_ONLY_SQLITE = append_only_sqlite("audit_entry")
APPEND_ONLY_POSTGRES = [
    "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
]
CHECKPOINT_APPEND_ONLY_POSTGRES = [
    "CREATE FUNCTION audit_checkpoint_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_checkpoint is append-only'; END $$",
    "CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint "
    "FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_append_only()",
]


def export_with_proofs(session: Session, seqs: list[int]) -> Iterator[dict[str, Any]]:
    """{"entry", "proof"} for each of `seqs` (ascending), each proof checkable on its own; a tree is
    built once per checkpoint however many of its entries are exported."""
    import bisect

    cps = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.upto_seq)).scalars().all()
    uptos = [cp.upto_seq for cp in cps]
    cached: tuple[int, Any, dict[int, int], dict[int, Any]] | None = None
    t = AuditEntry.__table__
    for seq in seqs:
        i = bisect.bisect_left(uptos, seq)
        cp = cps[i] if i < len(cps) and cps[i].after_seq < seq else None
        if cp is None:
            row = session.execute(select(*[t.c[c] for c in _ENTRY_COLS]).where(t.c.seq == seq)).first()
            if row is not None:
                yield {"entry": entry_record(row), "proof": None}
            continue
        if cached is None or cached[0] != cp.id:
            rows = list(_rows(session, cp.after_seq, cp.upto_seq))
            leaves = [leaf_hash(_digest_of(r), bytes.fromhex(r.mac or "")) for r in rows]
            cached = (cp.id, tree_levels(leaves) if leaves else [[]], {r.seq: n for n, r in enumerate(rows)},
                      {r.seq: r for r in rows})
        _, levels, index, by_seq = cached
        if seq not in index:
            continue
        record = entry_record(by_seq[seq])
        yield {"entry": record, "proof": {
            "format": PROOF_FORMAT, "entry": record, "leaf_index": index[seq], "tree_size": len(levels[0]),
            "audit_path": [h.hex() for h in audit_path(levels, index[seq])], "checkpoint": cp.record()}}
