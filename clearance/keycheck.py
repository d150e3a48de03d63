"""Key check values: the database remembers every key version that sealed data in it.

One row per (key id, version) in `key_check`, holding a known value sealed under exactly
that version. At start (create_app) every recorded version must be available and must open
its value, or the app refuses with one line (clearance.startup). Without this, a missing key
file once made `make run` mint a fresh "main v1" and serve a database it could not read.

Which versions sealed rows, cheaply: a version gets its row *before* it can seal anything —
at start for the current version, and in `flask rotate-keys` for the rotation target before
the first row is re-wrapped. Databases from before migration 0014 get rows for every version
the key provider held at upgrade time, plus a row without a value for every version found
in the sealed columns but missing then (it must come back before the app starts).
A recorded version that is missing is only refused while data still uses it: the full
header scan (crypto.key_status) runs in that case only, and a version nothing uses any more
is marked retired (audited) so removing an old key after a rotation does not lock you out.
Retired rows stay: their numbers are never given to a new key (see FileKeyProvider.add_version).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, LargeBinary, String, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from clearance import audit
from clearance.audit import Kind
from clearance.crypto import Context, DecryptionError, KeyProvider, key_status
from clearance.crypto.envelope import _open, _seal, key_version_of
from clearance.crypto.keys import KeyRef
from clearance.db import db, utcnow
from clearance.startup import DOCS, StartupError

CHECK_VALUE = b"taiwa key check v1"
TABLE = "key_check"


class KeyCheck(db.Model):
    __tablename__ = TABLE

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: CHECK_VALUE sealed under this version; NULL: seen in data at upgrade while its key was missing
    check_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    #: set when no record or file uses the version any more; the number stays taken
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


def check_context(ref: KeyRef) -> Context:
    return Context(TABLE, "check", f"{ref[0]}:{ref[1]}", 0)


def seal_check(provider: KeyProvider, ref: KeyRef) -> bytes:
    import os

    return _seal(CHECK_VALUE, check_context(ref), provider, os.urandom, key=ref)


def opens(provider: KeyProvider, ref: KeyRef, blob: bytes) -> bool:
    """True if `blob` is CHECK_VALUE sealed under this very key (same id, version and bytes)."""
    try:
        return key_version_of(blob) == ref and _open(bytes(blob), check_context(ref), provider) == CHECK_VALUE
    except DecryptionError:
        return False


def source_of(provider: KeyProvider) -> str:
    path = getattr(provider, "path", None)
    if path is not None:
        return f"key file {path}"
    if type(provider).__name__ == "EnvKeyProvider":
        return "TAIWA_KEYS"
    return type(provider).__name__


def available(provider: KeyProvider) -> set[KeyRef]:
    return {(v.key_id, v.version) for v in provider.versions() if not v.retired}


def table_exists(session: Session) -> bool:
    return inspect(session.connection()).has_table(TABLE)


def recorded_versions(session: Session) -> set[KeyRef]:
    """Every version the database knows, retired ones included (never reused for a new key)."""
    if not table_exists(session):
        return set()
    return {(k, v) for k, v in session.execute(select(KeyCheck.key_id, KeyCheck.version)).all()}


def record(session: Session, provider: KeyProvider, ref: KeyRef, *, reason: str, audited: bool = True) -> bool:
    """Record ref's check value unless the database has one. True if recorded now.

    Several workers starting at once may race: the loser's insert fails on the primary key
    inside a savepoint, and the winner's row is then verified like any other.
    """
    row = session.get(KeyCheck, ref)
    if row is not None and row.check_ct is not None:
        return False
    blob = seal_check(provider, ref)
    try:
        with session.begin_nested():
            if row is None:
                session.add(KeyCheck(key_id=ref[0], version=ref[1], check_ct=blob, recorded_at=utcnow()))
            else:
                row.check_ct = blob
            if audited:
                audit.append(
                    session, realm="crypto", kind=Kind.CHANGE, summary=f"key check recorded for {ref[0]} v{ref[1]}",
                    data={"key_id": ref[0], "version": ref[1], "reason": reason},
                )
    except IntegrityError:
        return False
    return True


def mark_retired(session: Session, ref: KeyRef, *, reason: str) -> None:
    row = session.get(KeyCheck, ref)
    if row is None:
        session.add(KeyCheck(key_id=ref[0], version=ref[1], check_ct=None, recorded_at=utcnow(), retired_at=utcnow()))
    elif row.retired_at is None:
        row.retired_at = utcnow()
    audit.append(
        session, realm="crypto", kind=Kind.CHANGE, summary=f"key {ref[0]} v{ref[1]} retired",
        data={"key_id": ref[0], "version": ref[1], "reason": reason},
    )


def verify(session: Session, provider: KeyProvider) -> list[str]:
    """Refuse (StartupError) unless every version that sealed data is here and opens its value.

    Records the current version's value if it has none, and retires recorded versions that
    are missing but no longer used. Commits what it changed. Returns notes for the log.
    """
    notes: list[str] = []
    where = source_of(provider)
    have = available(provider)
    rows = session.execute(select(KeyCheck).order_by(KeyCheck.key_id, KeyCheck.version)).scalars().all()
    usage: dict[KeyRef, int] | None = None
    first_key = not rows  # a new database: its first key is installation, not a key operation
    for row in rows:
        ref = (row.key_id, row.version)
        if ref in have:
            if row.check_ct is None:
                # Found in data at upgrade while missing. Bytes under this number prove nothing until a
                # record sealed with the version opens under them; then the check value is recorded.
                from clearance.crypto.rotation import proves_version

                proved = proves_version(session, ref)
                if proved is False:
                    raise StartupError(
                        f"key {ref[0]} v{ref[1]} in {where} does not open the records sealed with that version: "
                        f"restore the right key file or TAIWA_KEYS from backup, see {DOCS} (Keys)"
                    )
                if proved:
                    record(session, provider, ref, reason="proved by a record sealed with it", audited=True)
                    notes.append(f"key check recorded for {ref[0]} v{ref[1]} (a sealed record opened)")
                continue
            if not opens(provider, ref, row.check_ct):
                raise StartupError(
                    f"key {ref[0]} v{ref[1]} in {where} is not the key this database was sealed with (it does "
                    f"not open the database's check value): restore the right key file or TAIWA_KEYS from "
                    f"backup, see {DOCS} (Keys)"
                )
            continue
        if row.retired_at is not None:
            continue
        if usage is None:
            usage = key_status(session)  # full header scan: only when a recorded key is missing
        used = usage.get(ref, 0) + _audit_uses(session, ref)
        if used:
            raise StartupError(
                f"key {ref[0]} v{ref[1]} is missing from {where}, and {used} records or files in the database "
                f"are sealed with it (audit entries keyed by it included): restore that key version from backup, see {DOCS} (Keys)"
            )
        mark_retired(session, ref, reason="missing from the key provider; no record or file uses it")
        notes.append(f"key {ref[0]} v{ref[1]} is gone and nothing uses it: marked retired")
    current = provider.current()
    if record(session, provider, current, reason="first used at start", audited=not first_key):
        notes.append(f"key check recorded for {current[0]} v{current[1]}")
    row = session.get(KeyCheck, current)
    if row is not None and row.retired_at is not None:  # an old key made current again: it seals data again
        row.retired_at = None
        notes.append(f"key {current[0]} v{current[1]} is current again: no longer retired")
    session.commit()
    return notes


def versions_in_data(conn: Any, columns: Iterable[tuple[str, str]]) -> set[KeyRef]:
    """Key versions named by the headers in these (table, column)s, reading 80 bytes per row.

    For migration 0014 (no ORM: the models may be ahead of the schema being upgraded).
    """
    from sqlalchemy import column as col
    from sqlalchemy import func, table

    found: set[KeyRef] = set()
    for table_name, column_name in columns:
        c = col(column_name)
        q = select(func.substr(c, 1, 80)).select_from(table(table_name, c)).where(c.is_not(None))
        for (head,) in conn.execute(q):
            head = bytes(head)
            if len(head) < 10 or head[:3] not in (b"TWF", b"TWS"):
                continue
            n = head[4]
            if len(head) < 9 + n:
                continue
            try:
                found.add((head[5 : 5 + n].decode("ascii"), int.from_bytes(head[5 + n : 9 + n], "big")))
            except UnicodeDecodeError:
                continue
    return found


def _audit_uses(session: Session, ref: KeyRef) -> int:
    """Audit entries and checkpoints whose MAC or signature is keyed by this version: without it
    `flask audit-verify` can no longer check them, so the version is still in use."""
    from sqlalchemy import func

    from clearance.audit import AuditCheckpoint, AuditEntry

    name = f"{ref[0]}:{ref[1]}"
    return sum(session.scalar(select(func.count()).select_from(t).where(t.key_ref == name)) or 0
               for t in (AuditEntry, AuditCheckpoint))
