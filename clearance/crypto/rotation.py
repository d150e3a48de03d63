"""Key rotation, key status and retirement over every encrypted column and file.

Rotation only re-wraps DEKs (a few dozen bytes per record); content is never
re-encrypted. It is resumable and idempotent: the target version lives in the
key provider's state (the key file), and rows already on it are skipped.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import bindparam, inspect, select, update

from .envelope import Context, _rewrap, key_version_of
from .errors import CryptoError, DecryptionError, KeyInUse
from .fields import REGISTRY, EncryptedField
from .keys import KeyProvider, KeyRef, get_provider
from .stream import _rewrap_bytes, _rewrap_file, key_version_of_bytes, key_version_of_file


class SealedBlob(Protocol):
    """An encrypted file kept in the database (same STREAM format as on disk)."""

    context: Context
    data: bytes

    def replace(self, new: bytes) -> None:
        """Store the re-wrapped bytes (committed by rotate_keys)."""


#: a file source yields (path, context) for every encrypted file it owns on disk, and a
#: SealedBlob for every one it keeps in the database
FileSource = Callable[[Any], Iterable["tuple[str | os.PathLike[str], Context] | SealedBlob"]]
FILE_SOURCES: dict[str, FileSource] = {}
#: key_status bucket for values whose header cannot be parsed at all
UNREADABLE: KeyRef = ("<unreadable>", 0)


def register_file_source(name: str, source: FileSource) -> None:
    """Register a callable `source(session)` yielding (path, Context) for each
    encrypted file, so rotation and key-status cover files too."""
    FILE_SOURCES[name] = source


@dataclass
class RotationReport:
    target: KeyRef
    rewrapped: int = 0
    files_rewrapped: int = 0
    conflicts: int = 0  # rows changed concurrently; they are re-checked by the final status
    failures: list[str] = field(default_factory=list)  # "table.field:id" that could not be re-wrapped
    remaining: dict[KeyRef, int] = field(default_factory=dict)
    finished: bool = False


def _columns(fields: Iterable[EncryptedField] | None) -> list[EncryptedField]:
    out = list(REGISTRY.values()) if fields is None else list(fields)
    for f in out:
        if f.owner is None or inspect(f.owner, raiseerr=False) is None:
            raise CryptoError(f"EncryptedField {f.name!r} is declared on an unmapped class; declare it on the model")
    return out


def _sources(file_sources: Iterable[FileSource] | None) -> list[FileSource]:
    return list(FILE_SOURCES.values()) if file_sources is None else list(file_sources)


def _pk_and_column(f: EncryptedField) -> tuple[Any, Any, Any]:
    mapper = inspect(f.owner)
    if len(mapper.primary_key) != 1:
        raise CryptoError(f"{f.owner.__name__}: EncryptedField needs a single-column primary key 'id'")
    pk_col = mapper.primary_key[0]
    ct_col = mapper.columns[f.column_attr]
    return getattr(f.owner, mapper.get_property_by_column(pk_col).key), pk_col, ct_col


def _rotate_column(
    session: Any,
    f: EncryptedField,
    provider: KeyProvider,
    target: KeyRef,
    batch_size: int,
    report: RotationReport,
    on_batch: Callable[[str, int], None] | None,
) -> None:
    pk_attr, pk_col, ct_col = _pk_and_column(f)
    name = f"{f.owner.__tablename__}.{f.name}"
    # Compare-and-swap: a row rewritten by the app meanwhile is left alone (its
    # new value is sealed under the current key anyway), never overwritten.
    stmt = (
        update(pk_col.table)
        .where(pk_col == bindparam("_pk"), ct_col == bindparam("_old"))
        .values({ct_col.name: bindparam("_new")})
    )
    done = 0
    for objs in _object_pages(session, f, batch_size):
        params = []
        for obj in objs:
            old = getattr(obj, f.column_attr)
            try:
                if key_version_of(old) == target:
                    continue
                new = _rewrap(bytes(old), f.context(obj), provider)
            except DecryptionError:
                report.failures.append(f"{name}:{getattr(obj, pk_attr.key)}")
                continue
            params.append({"_pk": getattr(obj, pk_attr.key), "_old": old, "_new": new})
        if params:
            result = session.execute(stmt, params)
            changed = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(params)
            report.conflicts += len(params) - changed
            report.rewrapped += changed
            done += changed
        session.commit()  # one commit per batch: a crash loses at most one batch of work
        if on_batch is not None:
            on_batch(name, done)


def rotate_keys(
    session: Any,
    batch_size: int = 1000,
    *,
    fields: Iterable[EncryptedField] | None = None,
    file_sources: Iterable[FileSource] | None = None,
    on_batch: Callable[[str, int], None] | None = None,
    provider: KeyProvider | None = None,
    reserved: Iterable[KeyRef] = (),
    on_target: Callable[[KeyRef], None] | None = None,
) -> RotationReport:
    """Start (or resume) a rotation and re-wrap every registered column and file.

    With a key file, a new KEK version is created and recorded as the
    rotation target in the file; re-running after a crash resumes it. With
    TAIWA_KEYS or a KMS the operator makes the new version current first and
    this re-wraps everything to it. The rotation is marked finished only when
    key_status shows nothing left on another version.

    `reserved`: versions a new key version must not reuse (the database's key checks);
    `on_target(target)` runs before the first row is re-wrapped (the CLI records the target's
    key check value there, so a version never seals data without one).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    provider = provider or get_provider()
    begin = getattr(provider, "begin_rotation", None)
    target = begin(reserved=reserved) if begin else provider.current()
    if provider.current() != target:
        raise CryptoError(f"rotation target {target} is not the current key {provider.current()}")
    if on_target is not None:
        on_target(target)
    report = RotationReport(target=target)
    cols = _columns(fields)
    srcs = _sources(file_sources)
    for f in cols:
        _rotate_column(session, f, provider, target, batch_size, report, on_batch)
    for source in srcs:
        pending = 0
        for item in source(session):
            if not isinstance(item, tuple):  # a SealedBlob (a Protocol isinstance check would load .data)
                try:
                    new = _rewrap_bytes(item.data, item.context, provider)
                except DecryptionError:
                    report.failures.append(f"blob:{item.context.row_id}")
                    continue
                if new is not None:
                    item.replace(new)
                    report.files_rewrapped += 1
                    pending += 1
                    if pending >= batch_size:
                        session.commit()
                        pending = 0
                continue
            path, ctx = item
            try:
                if _rewrap_file(path, ctx, provider):
                    report.files_rewrapped += 1
            except DecryptionError:
                report.failures.append(f"file:{path}")
        session.commit()
    status = key_status(session, fields=cols, file_sources=srcs)
    report.remaining = {k: n for k, n in status.items() if k != target and n}
    if not report.remaining:
        finish = getattr(provider, "finish_rotation", None)
        if finish:
            finish(target)
        report.finished = True
    return report


def key_status(
    session: Any,
    *,
    fields: Iterable[EncryptedField] | None = None,
    file_sources: Iterable[FileSource] | None = None,
) -> dict[KeyRef, int]:
    """Count records and files per (key_id, version), reading headers only."""
    counts: Counter[KeyRef] = Counter()
    for f in _columns(fields):
        pk_attr, _, _ = _pk_and_column(f)
        ct_attr = getattr(f.owner, f.column_attr)
        last = None
        while True:  # keyset pages keep memory flat on big tables
            q = select(pk_attr, ct_attr).where(ct_attr.is_not(None)).order_by(pk_attr).limit(5000)
            if last is not None:
                q = q.where(pk_attr > last)
            rows = session.execute(q).all()
            if not rows:
                break
            last = rows[-1][0]
            for _, blob in rows:
                try:
                    counts[key_version_of(blob)] += 1
                except DecryptionError:
                    counts[UNREADABLE] += 1
    for source in _sources(file_sources):
        for item in source(session):
            # A listed file that is missing raises: better than retiring a key
            # a temporarily unmounted file still needs.
            try:
                if isinstance(item, tuple):
                    counts[key_version_of_file(item[0])] += 1
                else:
                    counts[key_version_of_bytes(item.data)] += 1
            except DecryptionError:
                counts[UNREADABLE] += 1
    return dict(counts)


def retire_version(
    session: Any,
    key_id: str,
    version: int,
    *,
    fields: Iterable[EncryptedField] | None = None,
    file_sources: Iterable[FileSource] | None = None,
    provider: KeyProvider | None = None,
) -> str:
    """Retire a KEK version once no record or file uses it. Returns what was done.

    The file provider deletes the key material (keeping a tombstone). For
    TAIWA_KEYS or a KMS this only verifies and tells the operator to remove
    or disable the version there.
    """
    provider = provider or get_provider()
    ref = (key_id, version)
    if provider.current() == ref:
        raise KeyInUse(f"{key_id} v{version} is the current key; run rotate-keys first")
    in_use = key_status(session, fields=fields, file_sources=file_sources).get(ref, 0)
    if in_use:
        raise KeyInUse(f"{key_id} v{version} still wraps {in_use} record(s) or file(s); run rotate-keys first")
    retire = getattr(provider, "retire", None)
    if retire is None:
        return (
            f"no record uses {key_id} v{version}: remove it from TAIWA_KEYS (or disable it in the KMS) on every "
            "worker, after keeping an escrow copy for as long as backups that use it are retained"
        )
    retire(key_id, version)
    return f"retired {key_id} v{version}: key material deleted from the key file"


def proves_version(session: Any, ref: KeyRef, *, fields: Iterable[EncryptedField] | None = None,
                   page: int = 500) -> bool | None:
    """Whether the provider's `ref` opens a record the database sealed under that version: True if the
    first such record opens, False if it does not, None if no record names the version. For a key
    check row recorded without a value (the version was missing when it was found in data), so that
    any bytes under that version number are not taken on trust. Reads pages until the first match."""
    from .envelope import open_

    for f in _columns(fields):
        for objs in _object_pages(session, f, page):
            for obj in objs:
                blob = bytes(getattr(obj, f.column_attr))
                try:
                    if key_version_of(blob) != ref:
                        continue
                    open_(blob, f.context(obj))
                except DecryptionError:
                    return False
                except CryptoError:
                    continue
                return True
    return None


def _object_pages(session: Any, f: EncryptedField, size: int) -> Iterator[list[Any]]:
    """The rows of `f`'s model that hold a value, in keyset pages of `size` (memory stays flat)."""
    pk_attr, _, _ = _pk_and_column(f)
    ct_attr = getattr(f.owner, f.column_attr)
    last = None
    while True:
        q = select(f.owner).where(ct_attr.is_not(None)).order_by(pk_attr).limit(size)
        if last is not None:
            q = q.where(pk_attr > last)
        objs = session.execute(q).scalars().all()
        if not objs:
            return
        last = getattr(objs[-1], pk_attr.key)
        yield objs
