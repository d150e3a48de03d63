"""Encrypted attachments: the one way the app stores and serves uploaded files.

    stored = files.save_upload(db.session, form.file.data.stream, filename=form.file.data.filename,
                               owner_table="briefing", owner_id=briefing.id, level=briefing.level,
                               kinds=AllowList.of("pdf", "docx", "xlsx"))
    ...
    return files.send_download(stored)          # in a view; fails closed and audits
    files.delete_file(db.session, stored)        # row now, file after commit

Every file is encrypted with clearance.crypto's STREAM format under its own
data key, bound to ("stored_file", "content", <row id>, <level>), and written
under a random 64-hex-digit name in TAIWA_FILES_DIR/<2 hex>/. The original
name is an EncryptedField. No plaintext is ever written to disk: the upload
is read from the request (whose multipart parser spools file parts through
an ephemeral-key encrypted spool, see clearance/crypto/spool.py and
`UploadRequest` below), encrypted segment by segment into a temporary file in
the target directory and renamed into place only once complete and accepted.

A file's type is decided by its content and must agree with its name
(clearance/filetypes.py); the size limit is checked while streaming.

`save_upload(..., in_database=True)` keeps the same ciphertext in the database
(stored_file_blob) instead of on disk: for the anonymous desk, where a new
file's ctime and its folder's mtime would record the second of a visit that
the database dates by the day only (docs/CONSULT.md, "Files and time").
Downloads, verification, key rotation, files-check and backups cover both.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import secrets
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import click
from flask import Flask, Response, current_app, has_app_context, stream_with_context
from flask import Request as FlaskRequest
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from clearance.config import INSTANCE
from clearance.crypto import (
    Context,
    DecryptionError,
    EncryptedField,
    decrypt_stream,
    encrypt_stream,
    register_file_source,
)
from clearance.db import db, new_id, utcnow
from clearance.filetypes import (
    DEFAULT_ALLOWED,
    HEAD_BYTES,
    KINDS,
    ZIP_TAIL_BYTES,
    AllowList,
    FileKind,
    TextCheck,
    extension_of,
    zip_member_names,
)

__all__ = [
    "DEFAULT_ALLOWED",
    "KINDS",
    "AllowList",
    "FileRejected",
    "StoredFile",
    "StoredFileBlob",
    "UploadRequest",
    "accepts_uploads",
    "content_disposition",
    "delete_file",
    "files_dir",
    "files_of",
    "init_app",
    "max_upload",
    "open_download",
    "save_upload",
    "send_download",
    "verify",
]

log = logging.getLogger("taiwa.files")

DEFAULT_MAX_UPLOAD = 20 * 1024 * 1024
#: files up to this size are decrypted and authenticated completely before the
#: response starts, so a damaged file is never delivered in part (a second pass
#: streams it); larger ones are verified segment by segment while streaming.
VERIFY_BEFORE_SEND = 64 * 1024 * 1024
MAX_NAME = 200


class FileRejected(Exception):
    """An upload was refused. `reason` is a stable code; `message` is for the user."""

    MESSAGES = {
        "empty": _l("The file is empty."),
        "too_large": _l("The file is too large."),
        "bad_name": _l("The file name is not usable. Rename the file and try again."),
        "type_not_allowed": _l("This type of file is not accepted here."),
        "type_mismatch": _l("The file's content does not match its name. Check that the file is what its extension says."),
    }

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details

    @property
    def message(self) -> str:
        base = str(self.MESSAGES[self.reason])
        if self.reason == "too_large" and self.details.get("limit"):
            return base + " " + str(_l("The limit is %(size)s.", size=human_size(self.details["limit"])))
        if self.reason == "type_not_allowed" and self.details.get("allowed"):
            return base + " " + str(_l("Accepted: %(types)s.", types=", ".join(self.details["allowed"])))
        return base


class StoredFile(db.Model):
    """One encrypted file on disk. The owner (briefing, consultation message…)
    is named by table and id, so any area can attach files without a schema change."""

    __tablename__ = "stored_file"
    __table_args__ = (
        CheckConstraint("level BETWEEN 0 AND 2", name="level_range"),
        CheckConstraint("size >= 0", name="size_nonnegative"),
        Index("ix_stored_file_owner", "owner_table", "owner_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_table: Mapped[str] = mapped_column(String(64), nullable=False)
    owner_id: Mapped[str] = mapped_column(String(36), nullable=False)
    #: classification level; part of the associated data of the content and the name
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: random 64 hex digits; the file is files_dir()/<first 2>/<name>
    storage_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    original_name_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    #: decided from the content (never taken from the browser)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    #: plaintext size in bytes
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    original_name = EncryptedField("original_name_ct", level="level")

    @property
    def content_context(self) -> Context:
        return Context(self.__tablename__, "content", str(self.id), self.level)

    @property
    def path(self) -> Path:
        return storage_path(self.storage_name)

    @property
    def kind(self) -> FileKind | None:
        return next((k for k in KINDS.values() if self.content_type.split(";")[0] == k.content_type), None)


class StoredFileBlob(db.Model):
    """The ciphertext of a file kept in the database rather than on disk (same STREAM format,
    same context). Nothing is written to the files dir for it, so no inode dates its upload."""

    __tablename__ = "stored_file_blob"

    stored_file_id: Mapped[str] = mapped_column(String(36), ForeignKey("stored_file.id", ondelete="CASCADE"),
                                                primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


def _blob_of(stored: StoredFile) -> StoredFileBlob | None:
    session = object_session(stored) or db.session
    return session.get(StoredFileBlob, stored.id)


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


def files_dir() -> Path:
    """TAIWA_FILES_DIR, default instance/files."""
    configured = current_app.config.get("TAIWA_FILES_DIR") if has_app_context() else None
    return Path(configured or INSTANCE / "files")


def max_upload() -> int:
    """TAIWA_MAX_UPLOAD in bytes (default 20 MiB)."""
    configured = current_app.config.get("TAIWA_MAX_UPLOAD") if has_app_context() else None
    return int(configured or DEFAULT_MAX_UPLOAD)


def storage_path(storage_name: str) -> Path:
    if len(storage_name) != 64 or any(c not in "0123456789abcdef" for c in storage_name):
        # Defends the path join against a tampered row ("../../etc/passwd").
        raise DecryptionError("stored file name is not a valid storage name")
    return files_dir() / storage_name[:2] / storage_name


def human_size(n: int) -> str:
    """20971520 -> "20 MiB"; 1536 -> "1.5 KiB" (for messages about limits)."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "bytes" or size == int(size) else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.0f} GiB" if size == int(size) else f"{size:.1f} GiB"


def clean_filename(filename: str | None) -> str:
    """The last path component, NFC, without control characters, at most MAX_NAME characters."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".").strip()
    if not name:
        raise FileRejected("bad_name")
    if len(name) > MAX_NAME:
        ext = extension_of(name)
        name = name[: MAX_NAME - len(ext)] + ext
    return name


# ---------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------


class _CheckingReader:
    """Wraps the upload stream for encrypt_stream: counts and limits bytes, and
    checks the content against the expected kind as it passes (constant memory)."""

    def __init__(self, src: BinaryIO, kind: FileKind, limit: int) -> None:
        self.src = src
        self.kind = kind
        self.limit = limit
        self.size = 0
        self.head = bytearray()
        self._head_checked = False
        self._text = TextCheck() if kind.family == "text" else None
        self._tail = bytearray() if kind.family == "ooxml" else None

    def read(self, n: int = -1) -> bytes:
        data = self.src.read(n if n and n > 0 else 1 << 20)
        if not data:
            self._check_head(final=True)
            return b""
        self.size += len(data)
        if self.size > self.limit:
            raise FileRejected("too_large", limit=self.limit)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        self._check_head(final=False)
        if self._text is not None:
            self._text.feed(data)
            if not self._text.ok:
                raise FileRejected("type_mismatch", expected=self.kind.name)
        if self._tail is not None:
            self._tail += data
            if len(self._tail) > ZIP_TAIL_BYTES:
                del self._tail[: len(self._tail) - ZIP_TAIL_BYTES]
        return data

    def _check_head(self, *, final: bool) -> None:
        if self._head_checked:
            return
        need = 8  # longest magic we check
        if len(self.head) < need and not final:
            return
        self._head_checked = True
        head = bytes(self.head)
        if not head:
            raise FileRejected("empty")
        kind = self.kind
        if kind.family == "magic":
            ok = head.startswith(kind.magic)
        elif kind.family == "ooxml":
            ok = head.startswith(b"PK\x03\x04")
        else:
            ok = True  # text is checked over the whole stream
        if not ok:
            raise FileRejected("type_mismatch", expected=kind.name)

    def finish(self) -> str:
        """Final verdict after EOF; returns the content type to store."""
        self._check_head(final=True)
        if self._text is not None:
            self._text.feed(b"", final=True)
            if not self._text.ok:
                raise FileRejected("type_mismatch", expected=self.kind.name)
            return f"{self.kind.content_type}; charset={self._text.charset}"
        if self._tail is not None:
            names = zip_member_names(bytes(self._tail), self.size)
            if names is None or not set(self.kind.members) <= names:
                raise FileRejected("type_mismatch", expected=self.kind.name)
        return self.kind.content_type


def save_upload(
    session: Session,
    stream: BinaryIO,
    *,
    filename: str,
    owner_table: str,
    owner_id: str,
    level: int = 0,
    kinds: AllowList | None = None,
    max_bytes: int | None = None,
    in_database: bool = False,
) -> StoredFile:
    """Encrypt an upload into a new random-named file and add its StoredFile row
    to `session` (flushed, not committed: it commits with the caller's action).
    With `in_database` the ciphertext goes into stored_file_blob instead and
    nothing at all is written under the files dir (the caller bounds the size:
    it is held in memory).

    Raises FileRejected (nothing written, nothing added) for an empty, too large,
    unaccepted or mislabelled file. If the transaction later rolls back, the
    file is removed again.
    """
    name = clean_filename(filename)
    allowed = kinds or DEFAULT_ALLOWED
    kind = allowed.for_filename(name)
    if kind is None:
        raise FileRejected("type_not_allowed", allowed=allowed.extensions)
    limit = max_upload() if max_bytes is None else max_bytes
    stored = StoredFile(
        id=new_id(), owner_table=owner_table, owner_id=str(owner_id), level=level,
        storage_name=secrets.token_hex(32), content_type=kind.content_type, size=0,
    )
    stored.original_name = name
    reader = _CheckingReader(stream, kind, limit)
    if in_database:
        sealed = io.BytesIO()
        encrypt_stream(reader, sealed, stored.content_context)  # type: ignore[arg-type]
        stored.content_type = reader.finish()
        stored.size = reader.size
        session.add(stored)
        session.flush()  # the row first: the blob's foreign key names it
        session.add(StoredFileBlob(stored_file_id=stored.id, content=sealed.getvalue()))
        session.flush()
        return stored
    target = stored.path
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp: mode 0600, O_EXCL; only ciphertext is ever written to it.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as dst:
            encrypt_stream(reader, dst, stored.content_context)  # type: ignore[arg-type]
            stored.content_type = reader.finish()
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    stored.size = reader.size
    session.add(stored)
    session.info.setdefault(_NEW_FILES, []).append(target)
    session.flush()
    return stored


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# Files written or deleted in a transaction are kept in session.info until it
# ends: a rollback removes the new ones; a commit removes the deleted ones. So
# neither a failed action nor a failed deletion leaves row and file apart.
_NEW_FILES = "taiwa_files_new"
_DELETED_FILES = "taiwa_files_deleted"


@event.listens_for(Session, "after_commit")
def _files_after_commit(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)
    for path in session.info.pop(_DELETED_FILES, []):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@event.listens_for(Session, "after_rollback")
def _files_after_rollback(session: Session) -> None:
    session.info.pop(_DELETED_FILES, None)
    for path in session.info.pop(_NEW_FILES, []):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def delete_file(session: Session, stored: StoredFile) -> None:
    """Delete the row now and the file when the transaction commits (retention purges)."""
    blob = _blob_of(stored)
    if blob is not None:
        session.delete(blob)
        session.flush()  # before its row: the foreign key
        session.delete(stored)
        return
    path = stored.path
    session.delete(stored)
    session.info.setdefault(_DELETED_FILES, []).append(path)


def files_of(session: Session, owner_table: str, owner_id: str) -> list[StoredFile]:
    """The files attached to one owner, oldest first."""
    return list(
        session.execute(
            select(StoredFile)
            .where(StoredFile.owner_table == owner_table, StoredFile.owner_id == str(owner_id))
            .order_by(StoredFile.created_at, StoredFile.id)
        ).scalars()
    )


# ---------------------------------------------------------------------------
# Download
# ---------------------------------------------------------------------------


def open_download(stored: StoredFile) -> Iterator[bytes]:
    """Decrypted segments of a stored file. The header is checked when this is
    called; each segment is authenticated before it is yielded. DecryptionError
    (also for a missing file) propagates: callers must fail closed."""
    blob = _blob_of(stored)
    try:
        fh: BinaryIO = io.BytesIO(blob.content) if blob is not None else open(stored.path, "rb")
    except FileNotFoundError:
        raise DecryptionError("stored file is missing on disk") from None
    try:
        segments = decrypt_stream(fh, stored.content_context)
    except BaseException:
        fh.close()
        raise
    return _closing(segments, fh, stored.size)


def _closing(segments: Iterator[bytes], fh: BinaryIO, expected: int) -> Iterator[bytes]:
    total = 0
    try:
        for chunk in segments:
            total += len(chunk)
            yield chunk
        if total != expected:
            # Authenticated content of the wrong length means the row was edited.
            raise DecryptionError("stored file size does not match its record")
    finally:
        fh.close()


def verify(stored: StoredFile) -> None:
    """Decrypt and authenticate a whole file, discarding the plaintext."""
    for _ in open_download(stored):
        pass


def content_disposition(filename: str, *, as_attachment: bool = True) -> str:
    """RFC 6266 / RFC 5987: an ASCII fallback plus filename*=UTF-8''… for Japanese names."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in filename)
    ext = extension_of(filename)
    stem = ascii_name[: len(ascii_name) - len(ext)] if ext else ascii_name
    if not any(c.isalnum() for c in stem):
        ascii_name = "file" + ext  # an all-Japanese name: the fallback says nothing anyway
    disposition = "attachment" if as_attachment else "inline"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def send_download(stored: StoredFile, *, as_attachment: bool = True) -> Response:
    """A streaming response for a view. Fails closed before anything is sent:
    files up to VERIFY_BEFORE_SEND are authenticated completely first, larger
    ones at least by header and first segment. A failure later in a large file
    aborts the connection: Content-Length is set, so the client sees an
    incomplete transfer, never a shorter file. Either way it is audited."""
    from clearance import failclosed

    try:
        if stored.size <= VERIFY_BEFORE_SEND:
            verify(stored)
        segments = open_download(stored)
        first = next(segments, b"")
        name = stored.original_name or "file"
    except DecryptionError as exc:
        failclosed.fail(exc, table=StoredFile.__tablename__, column="content", row_id=stored.id)

    audit_info = {"table": StoredFile.__tablename__, "column": "content", "row_id": stored.id}

    def body() -> Iterator[bytes]:
        try:
            if first:
                yield first
            yield from segments
        except DecryptionError as exc:
            failclosed.record(exc, **audit_info)
            raise  # the server drops the connection: the body stays short of Content-Length
        finally:
            close = getattr(segments, "close", None)
            if close:
                close()

    response = Response(stream_with_context(body()), mimetype=None, content_type=stored.content_type,
                        direct_passthrough=True)
    response.content_length = stored.size
    response.headers["Content-Disposition"] = content_disposition(name, as_attachment=as_attachment)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    # Even if a browser renders it, the file runs no script and reaches nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ---------------------------------------------------------------------------
# Rotation and key status cover every stored file
# ---------------------------------------------------------------------------


@dataclass
class _Blob:
    """A stored file kept in the database, as rotation and key status see it (crypto.rotation.SealedBlob)."""

    session: Any
    file_id: str
    context: Context

    @property
    def data(self) -> bytes:
        # Read when asked, one at a time: a page of rows never holds a page of files in memory.
        return self.session.execute(select(StoredFileBlob.content)
                                    .where(StoredFileBlob.stored_file_id == self.file_id)).scalar_one()

    def replace(self, new: bytes) -> None:
        from sqlalchemy import update

        self.session.execute(update(StoredFileBlob).where(StoredFileBlob.stored_file_id == self.file_id)
                             .values(content=new))


def _file_source(session: Any) -> Iterable[tuple[Path, Context] | _Blob]:
    last = None
    while True:
        q = (select(StoredFile, StoredFileBlob.stored_file_id)
             .outerjoin(StoredFileBlob, StoredFileBlob.stored_file_id == StoredFile.id)
             .order_by(StoredFile.id).limit(1000))
        if last is not None:
            q = q.where(StoredFile.id > last)
        rows = session.execute(q).all()
        if not rows:
            return
        page = [(row.id, row.content_context, in_db, row) for row, in_db in rows]
        for file_id, ctx, in_db, row in page:
            if in_db:
                yield _Blob(session, file_id, ctx)
                continue
            try:
                path = row.path
            except DecryptionError:
                # A tampered storage name: never joined to a path; downloads of it fail closed.
                log.error("stored_file %s has an invalid storage name; skipped", file_id)
                continue
            yield path, ctx
        last = page[-1][0]


register_file_source("stored_file", _file_source)


# ---------------------------------------------------------------------------
# Request parsing: file parts never reach the disk in plaintext
# ---------------------------------------------------------------------------


class UploadRequest(FlaskRequest):
    """Werkzeug writes file parts larger than 500 KB to a plaintext temporary
    file. Here every file part goes to an EncryptedSpool instead: ciphertext
    under a key that exists only in this process's memory for this one part,
    in a temporary file in TAIWA_FILES_DIR/.spool (memory stays at one segment)."""

    def _get_file_stream(
        self, total_content_length: int | None, content_type: str | None, filename: str | None = None,
        content_length: int | None = None,
    ) -> BinaryIO:
        from clearance.anonymity import is_anonymous_path
        from clearance.crypto.spool import EncryptedSpool

        # The anonymous desk spools in memory: a spool file would date the visit on disk (docs/CONSULT.md).
        directory = None if is_anonymous_path(self.path) else spool_dir()
        return EncryptedSpool(directory)  # type: ignore[return-value]

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """Views marked @accepts_uploads may receive their file limit plus the form around it;
        every other view keeps MAX_CONTENT_LENGTH (or a value set on this request)."""
        if self._max_content_length is not None:
            return self._max_content_length
        limit = FlaskRequest.max_content_length.fget(self)  # type: ignore[attr-defined]
        rule = self.url_rule
        if rule is not None and rule.endpoint in current_app.view_functions:
            upload = getattr(current_app.view_functions[rule.endpoint], "upload_limit", None)
            if upload is not None:
                return max(limit or 0, (max_upload() if upload is True else int(upload)) + FORM_OVERHEAD)
        return limit

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


FORM_OVERHEAD = 1024 * 1024  # other fields and multipart framing around the file


def accepts_uploads(limit: int | bool = True) -> Callable[[Any], Any]:
    """Mark a view that takes file uploads: its requests may be TAIWA_MAX_UPLOAD
    (or `limit` bytes) plus form overhead instead of MAX_CONTENT_LENGTH."""

    def mark(view: Any) -> Any:
        view.upload_limit = limit
        return view

    return mark


def spool_dir() -> Path:
    return files_dir() / ".spool"


# ---------------------------------------------------------------------------
# Consistency check: files without rows (a crash between rename and commit) and rows without files
# ---------------------------------------------------------------------------


@dataclass
class FilesReport:
    orphans: list[Path] = field(default_factory=list)  # on disk, no row (older than min_age)
    missing: list[str] = field(default_factory=list)  # stored_file ids whose file is gone


def check_files(session: Session, *, min_age: float = 3600.0) -> FilesReport:
    """Compare TAIWA_FILES_DIR with stored_file. Files younger than `min_age`
    seconds are left out: an upload may be between its rename and its commit."""
    report = FilesReport()
    known: set[str] = set()
    last = None
    while True:
        q = (select(StoredFile.id, StoredFile.storage_name, StoredFileBlob.stored_file_id)
             .outerjoin(StoredFileBlob, StoredFileBlob.stored_file_id == StoredFile.id)
             .order_by(StoredFile.id).limit(5000))
        if last is not None:
            q = q.where(StoredFile.id > last)
        rows = session.execute(q).all()
        if not rows:
            break
        for file_id, name, in_db in rows:
            known.add(name)
            if in_db:
                continue  # kept in the database (the desk's files): nothing on disk to find
            try:
                exists = storage_path(name).exists()
            except DecryptionError:
                exists = False
            if not exists:
                report.missing.append(file_id)
        last = rows[-1][0]
    root = files_dir()
    cutoff = time.time() - min_age
    if root.is_dir():
        for sub in sorted(root.iterdir()):
            if not (sub.is_dir() and len(sub.name) == 2):
                continue
            for path in sorted(sub.iterdir()):
                with contextlib.suppress(FileNotFoundError):
                    if path.name not in known and path.stat().st_mtime < cutoff:
                        report.orphans.append(path)  # includes .part files of crashed uploads
    return report


@click.command("files-check")
@click.option("--remove-orphans", is_flag=True, help="delete files that no row refers to (ciphertext only)")
@click.option("--min-age", default=3600, show_default=True, type=click.IntRange(min=60),
              help="seconds a file must be old to count as an orphan")
@with_appcontext
def files_check_command(remove_orphans: bool, min_age: int) -> None:
    """Report stored files without a row and rows without a file."""
    from clearance import audit

    report = check_files(db.session, min_age=min_age)
    click.echo(f"{len(report.orphans)} orphaned file(s), {len(report.missing)} row(s) without a file")
    for file_id in report.missing:
        click.echo(f"  missing: stored_file {file_id}")
    if remove_orphans and report.orphans:
        for path in report.orphans:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        audit.append(db.session, realm="crypto", kind=audit.Kind.CHANGE, summary="Orphaned files removed",
                     data={"count": len(report.orphans)})
        db.session.commit()
        click.echo(f"  removed {len(report.orphans)} orphaned file(s)")
    if report.missing:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    """Install the upload request class and the files-check command. Called by create_app."""
    app.request_class = UploadRequest
    app.cli.add_command(files_check_command)
