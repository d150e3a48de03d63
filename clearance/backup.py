"""Encrypted, consistent backups of the database and the files dir, and their restore.

    flask --app app backup [--output PATH]
    flask --app app verify-backup PATH
    flask --app app restore PATH [--yes]

Archive = a short plaintext preamble (magic and the archive id) followed by a
clearance.crypto STREAM (its own random DEK wrapped by the current KEK, bound
to Context("backup", "archive", <archive id>, 2)) whose plaintext is a tar:

    database.sqlite | database.pgdump    consistent snapshot (see below)
    files/<2 hex>/<64 hex>               every stored file (already encrypted)
    manifest.json                        last: schema revision, row counts per
                                         table, size and SHA-256 of each member,
                                         time, key versions

Nothing is ever written to disk in plaintext while the archive is made: the
tar is generated on demand and pulled through encrypt_stream into a
temporary file next to the output, renamed into place when complete.

* SQLite: the online backup API copies the live database into an in-memory
  database (a consistent snapshot while the app writes), serialised into the
  tar. Memory is the size of the database: SQLite installs are small; use
  PostgreSQL for large ones.
* PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the row
  counts are taken in it and `pg_dump --format=custom --snapshot=…` dumps
  exactly that state. The dump is piped into an ephemeral-key EncryptedSpool
  (its size must be known for the tar header), never a plaintext file.

Restore reads the whole archive first (decrypt and check every member
against the manifest), refuses a damaged or foreign archive before touching
anything, then restores in this order: files into a staging directory,
database (SQLite: the backup API in reverse, one atomic step that other
connections see as a single commit, WAL-safe; PostgreSQL: pg_restore --clean
--single-transaction), then the staging directory swapped in for the files
dir (the old one is kept aside).

The archive needs the KEK it was written under (and the records inside need
theirs): keys are backed up separately, never inside the archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import click
from flask.cli import with_appcontext
from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from clearance import audit
from clearance.audit import Kind
from clearance.config import INSTANCE
from clearance.crypto import Context, CryptoError, DecryptionError, decrypt_stream, encrypt_stream, get_provider
from clearance.crypto.spool import EncryptedSpool

MAGIC = b"TWBK1\n"
FORMAT = "taiwa-backup"
FORMAT_VERSION = 1
CHUNK = 1 << 20
MANIFEST = "manifest.json"
_FILE_MEMBER = re.compile(r"files/([0-9a-f]{2})/([0-9a-f]{64})")
_STORAGE_NAME = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """The backup or restore cannot proceed; the message tells the operator why."""


def archive_context(archive_id: str) -> Context:
    return Context("backup", "archive", archive_id, 2)


# ---------------------------------------------------------------------------
# Streaming helpers
# ---------------------------------------------------------------------------


class IterReader(io.RawIOBase):
    """A readable stream over an iterator of byte chunks (pull-based, constant memory)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it = iter(chunks)
        self._buf = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        while self._pos >= len(self._buf):
            try:
                self._buf, self._pos = next(self._it), 0
            except StopIteration:
                return 0
        n = min(len(view), len(self._buf) - self._pos)
        view[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n


@dataclass
class Member:
    name: str
    size: int
    chunks: Callable[[], Iterator[bytes]]


def _tar_header(name: str, size: int, mtime: float) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    info.type = tarfile.REGTYPE
    return info.tobuf(format=tarfile.GNU_FORMAT)  # GNU: base-256 sizes beyond 8 GiB


def _tar_stream(members: Iterable[Member], manifest: dict[str, Any], now: float) -> Iterator[bytes]:
    """A tar generated on demand; each member's SHA-256 is recorded in the manifest, written last."""
    for m in members:
        yield _tar_header(m.name, m.size, now)
        digest = hashlib.sha256()
        sent = 0
        for chunk in m.chunks():
            digest.update(chunk)
            sent += len(chunk)
            yield chunk
        if sent != m.size:
            raise BackupError(f"{m.name} changed size while it was being archived ({m.size} → {sent} bytes)")
        if m.size % 512:
            yield bytes(512 - m.size % 512)
        manifest["members"].append({"name": m.name, "size": m.size, "sha256": digest.hexdigest()})
    body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
    yield _tar_header(MANIFEST, len(body), now)
    yield body
    if len(body) % 512:
        yield bytes(512 - len(body) % 512)
    yield bytes(1024)  # end-of-archive marker


def _chunks_of(data: bytes) -> Callable[[], Iterator[bytes]]:
    def gen() -> Iterator[bytes]:
        view = memoryview(data)
        for i in range(0, len(data), CHUNK):
            yield bytes(view[i : i + CHUNK])

    return gen


def _chunks_from(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return
        yield chunk


# ---------------------------------------------------------------------------
# Database snapshots
# ---------------------------------------------------------------------------


def _backend(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_counts(conn: sqlite3.Connection) -> tuple[dict[str, int], list[str]]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )]
    counts = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608 - names from the catalog
    revisions = sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version")) if "alembic_version" in counts else []
    return counts, revisions


def _sqlite_snapshot(engine: Engine) -> tuple[bytes, dict[str, int], list[str]]:
    """Online backup API into memory: a consistent copy while other connections write."""
    raw = engine.raw_connection()
    try:
        mem = sqlite3.connect(":memory:")
        try:
            raw.driver_connection.backup(mem)
            counts, revisions = _sqlite_counts(mem)
            data = mem.serialize()
        finally:
            mem.close()
    finally:
        raw.close()
    return data, counts, revisions


def _pg_args(engine: Engine) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments for pg_dump/pg_restore; the password goes in the environment, not argv."""
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    # A connection left open by a running app would make DROP TABLE wait forever: fail instead.
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c lock_timeout=30s").strip()
    return args, env


def _pg_tool(name: str) -> str:
    """Absolute path of a PostgreSQL client program (TAIWA_PG_BIN, else PATH); its major
    version must be at least the server's."""
    from flask import current_app, has_app_context

    bindir = current_app.config.get("TAIWA_PG_BIN") if has_app_context() else None
    found = shutil.which(name, path=bindir) if bindir else shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs or set TAIWA_PG_BIN")
    return found


def _pg_counts(conn: Any) -> tuple[dict[str, int], list[str]]:
    tables = [r[0] for r in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    ))]
    counts = {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}  # noqa: S608
    revisions = sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) if "alembic_version" in counts else []
    return counts, revisions


def _pg_snapshot(engine: Engine, spool_dir: Path) -> tuple[EncryptedSpool, int, dict[str, int], list[str]]:
    """pg_dump of an exported snapshot (the counts come from the same snapshot),
    piped into an ephemeral-key spool so its size is known without a plaintext file."""
    args, env = _pg_args(engine)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts, revisions = _pg_counts(conn)
            spool = EncryptedSpool(spool_dir)
            proc = subprocess.Popen(  # noqa: S603 - fixed program, arguments from our config
                [_pg_tool("pg_dump"), "--format=custom", "--no-password", f"--snapshot={snapshot}", *args],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            )
            assert proc.stdout is not None and proc.stderr is not None
            size = 0
            for chunk in _chunks_from(proc.stdout):
                spool.write(chunk)
                size += len(chunk)
            err = proc.stderr.read().decode(errors="replace")
            if proc.wait() != 0:
                spool.close()
                raise BackupError(f"pg_dump failed: {err.strip()[:500]}")
    spool.seek(0)
    return spool, size, counts, revisions


# ---------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    archive_id: str
    manifest: dict[str, Any]


def _file_members(files_dir: Path, skipped: list[str]) -> Iterator[Member]:
    if not files_dir.is_dir():
        return
    for sub in sorted(files_dir.iterdir()):
        if not (sub.is_dir() and re.fullmatch(r"[0-9a-f]{2}", sub.name)):
            continue  # .spool and anything else that is not a stored file
        for path in sorted(sub.iterdir()):
            if not _STORAGE_NAME.fullmatch(path.name) or path.name[:2] != sub.name:
                continue  # temporary .part files
            try:
                fh = open(path, "rb")  # closed by the member's generator
            except FileNotFoundError:
                skipped.append(path.name)  # deleted since the listing
                continue
            size = os.fstat(fh.fileno()).st_size  # the open inode: a concurrent re-wrap cannot change it

            def chunks(fh: BinaryIO = fh, size: int = size) -> Iterator[bytes]:
                with fh:
                    left = size
                    while left:
                        chunk = fh.read(min(CHUNK, left))
                        if not chunk:
                            return
                        left -= len(chunk)
                        yield chunk

            yield Member(f"files/{sub.name}/{path.name}", size, chunks)


def default_output() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return INSTANCE / "backups" / f"taiwa-{stamp}.twbk"


def create_backup(engine: Engine, files_dir: Path, output: Path, *, key_versions: dict[str, int] | None = None) -> BackupResult:
    """Write an encrypted archive of the database and the files dir to `output` (mode 0600)."""
    backend = _backend(engine)
    archive_id = str(uuid.uuid4())
    now = time.time()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    spool_dir = output.parent
    provider = get_provider()
    key_id, key_version = provider.current()
    skipped: list[str] = []
    spool: EncryptedSpool | None = None
    if backend == "sqlite":
        data, counts, revisions = _sqlite_snapshot(engine)
        db_member = Member("database.sqlite", len(data), _chunks_of(data))
    else:
        spool, size, counts, revisions = _pg_snapshot(engine, spool_dir)
        db_member = Member("database.pgdump", size, lambda: _chunks_from(spool))  # type: ignore[arg-type]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "archive_id": archive_id,
        "created_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        "backend": backend,
        "schema_revisions": revisions,
        "tables": counts,
        "archive_key": {"key_id": key_id, "version": key_version},
        "record_key_versions": key_versions or {},
        "members": [],
        "skipped_files": skipped,
    }

    def members() -> Iterator[Member]:
        yield db_member
        yield from _file_members(files_dir, skipped)

    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=".backup-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as dst:
            dst.write(MAGIC + archive_id.encode("ascii") + b"\n")
            encrypt_stream(IterReader(_tar_stream(members(), manifest, now)), dst, archive_context(archive_id))
            dst.flush()
            os.fsync(dst.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        if spool is not None:
            spool.close()
    manifest["files"] = sum(1 for m in manifest["members"] if m["name"].startswith("files/"))
    return BackupResult(output, archive_id, manifest)


# ---------------------------------------------------------------------------
# Reading and verifying
# ---------------------------------------------------------------------------


def _open_archive(fh: BinaryIO) -> tuple[str, Iterator[bytes]]:
    head = fh.read(len(MAGIC) + 37)
    if not head.startswith(MAGIC) or not head.endswith(b"\n"):
        raise BackupError("not a Taiwa backup archive (bad magic)")
    archive_id = head[len(MAGIC) : -1].decode("ascii", errors="replace")
    try:
        uuid.UUID(archive_id)
    except ValueError:
        raise BackupError("not a Taiwa backup archive (bad archive id)") from None
    return archive_id, decrypt_stream(fh, archive_context(archive_id))


def _valid_member_name(name: str) -> bool:
    """Only names we write: nothing can point outside the staging directory."""
    if name in ("database.sqlite", "database.pgdump", MANIFEST):
        return True
    m = _FILE_MEMBER.fullmatch(name)
    return m is not None and m.group(1) == m.group(2)[:2]


class _Hashed:
    """Chunks of a member, hashed and counted as they are read."""

    def __init__(self, src: BinaryIO) -> None:
        self.src = src
        self.digest = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.src.read(CHUNK):
            self.digest.update(chunk)
            self.size += len(chunk)
            yield chunk


MemberSink = Callable[[str, int, Iterator[bytes]], None]


def read_archive(path: Path, sink: MemberSink | None = None) -> dict[str, Any]:
    """Decrypt the whole archive, check every member against the manifest and
    return the manifest. `sink(name, size, chunks)` receives each data member;
    it must consume the chunks. Raises BackupError on any damage."""
    try:
        with open(path, "rb") as fh:
            archive_id, plain = _open_archive(fh)
            seen: list[dict[str, Any]] = []
            manifest: dict[str, Any] | None = None
            with tarfile.open(fileobj=IterReader(plain), mode="r|") as tar:
                for info in tar:
                    if manifest is not None:
                        raise BackupError("archive has members after its manifest")
                    if not info.isreg() or not _valid_member_name(info.name):
                        raise BackupError(f"archive holds an unexpected member {info.name!r}")
                    src = tar.extractfile(info)
                    assert src is not None
                    if info.name == MANIFEST:
                        manifest = json.loads(src.read(16 << 20))
                        continue
                    hashed = _Hashed(src)
                    if sink is not None:
                        sink(info.name, info.size, iter(hashed))
                    for _ in hashed:  # whatever the sink left unread still counts
                        pass
                    seen.append({"name": info.name, "size": hashed.size, "sha256": hashed.digest.hexdigest()})
    except DecryptionError as exc:
        raise BackupError(f"the archive does not decrypt: {exc}") from None
    except (tarfile.TarError, ValueError, EOFError) as exc:
        raise BackupError(f"the archive is damaged: {exc}") from None
    if manifest is None:
        raise BackupError("the archive has no manifest")
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError("the archive's manifest is not a Taiwa backup manifest of a known version")
    if manifest.get("archive_id") != archive_id:
        raise BackupError("the manifest belongs to another archive")
    if seen != manifest.get("members"):
        raise BackupError("the archive's members do not match its manifest (sizes or SHA-256)")
    return manifest


def verify_archive(path: Path) -> dict[str, Any]:
    return read_archive(path)


# ---------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    files: int = 0
    old_files_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)


def restore_backup(path: Path, engine: Engine, files_dir: Path) -> RestoreResult:
    """Verify, then restore the database and the files dir from an archive.

    Nothing is changed unless the whole archive verifies, and its backend
    matches the configured database. Stop the app first: its connections would
    otherwise keep serving (or block on) the old state."""
    backend = _backend(engine)
    manifest = read_archive(path)  # pass 1: all or nothing before any change
    if manifest["backend"] != backend:
        raise BackupError(f"the archive holds a {manifest['backend']} database; this app uses {backend}")
    files_dir = Path(files_dir)
    files_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = files_dir.parent / f".{files_dir.name}.restore-{manifest['archive_id'][:8]}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    result = RestoreResult(manifest)
    state: dict[str, Any] = {}

    def sink(name: str, size: int, chunks: Iterator[bytes]) -> None:
        if name == "database.sqlite":
            state["sqlite"] = b"".join(chunks)
        elif name == "database.pgdump":
            spool = EncryptedSpool(staging)
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            state["pg"] = spool
        else:
            m = _FILE_MEMBER.fullmatch(name)
            assert m is not None
            target_dir = staging / m.group(1)
            target_dir.mkdir(exist_ok=True, mode=0o700)
            with open(target_dir / m.group(2), "wb") as out:  # stored files are ciphertext already
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            result.files += 1

    live_generation = _generation(engine)
    try:
        # pass 2 from the same verified content; the manifest is checked again at its end
        again = read_archive(path, sink)
        if again != manifest:
            raise BackupError("the archive changed while it was being restored")
        if backend == "sqlite":
            _restore_sqlite(engine, state["sqlite"])
        else:
            _restore_pg(engine, state["pg"])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if "pg" in state:
            state["pg"].close()
    # The database is restored; now swap the files dir in (two renames in one directory).
    if files_dir.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        result.old_files_dir = files_dir.parent / f"{files_dir.name}.before-restore-{stamp}"
        os.replace(files_dir, result.old_files_dir)
    os.replace(staging, files_dir)
    with contextlib.suppress(OSError):
        fd = os.open(files_dir.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    _move_generation_past(engine, live_generation)
    counts = _live_counts(engine)
    for table, n in manifest["tables"].items():
        if counts.get(table) != n:
            result.warnings.append(f"{table}: {counts.get(table)} rows after restore, {n} in the archive")
    return result


def _generation(engine: Engine) -> int:
    from clearance.freshness import CURRENT

    try:
        with engine.connect() as conn:
            return int(conn.execute(CURRENT).scalar() or 0)
    except SQLAlchemyError:  # a database from before the generation existed
        return 0


def _move_generation_past(engine: Engine, live: int) -> None:
    """The restored counter is older than the live one: move it past both, so a worker still
    running never serves a page cached under a number the restored data reuses."""
    from clearance.freshness import DataGeneration

    table = DataGeneration.__table__
    with contextlib.suppress(SQLAlchemyError), engine.begin() as conn:
        restored = int(conn.execute(select(table.c.value).where(table.c.name == "data")).scalar() or 0)
        conn.execute(table.update().where(table.c.name == "data").values(value=max(live, restored) + 1))


def _restore_sqlite(engine: Engine, data: bytes) -> None:
    image = bytearray(data)
    if len(image) >= 20 and image[18] == 2:
        image[18] = image[19] = 1  # a WAL-mode image cannot be deserialised into memory as such
    mem = sqlite3.connect(":memory:")
    try:
        mem.deserialize(bytes(image))
        if mem.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the archived SQLite database fails its integrity check")
        raw = engine.raw_connection()
        try:
            # The backup API in reverse: one atomic replacement that other connections
            # see as a commit, and safe with the live database's WAL (replacing the
            # file underneath would let SQLite replay a stale -wal onto it).
            mem.backup(raw.driver_connection)
        finally:
            raw.close()
    finally:
        mem.close()
    engine.dispose()


def _restore_pg(engine: Engine, spool: EncryptedSpool) -> None:
    args, env = _pg_args(engine)
    engine.dispose()  # our own pooled connections would block DROP TABLE
    proc = subprocess.Popen(  # noqa: S603
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", "--no-password", *args],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    assert proc.stdin is not None
    # --exit-on-error keeps stderr short, so it cannot fill its pipe while we write.
    with contextlib.suppress(BrokenPipeError):  # pg_restore stopped early: its stderr says why
        for chunk in _chunks_from(spool):  # type: ignore[arg-type]
            proc.stdin.write(chunk)
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed: single transaction): {err.decode(errors='replace').strip()[:800]}")


def _live_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return _sqlite_counts(conn.connection.driver_connection)[0]
        return _pg_counts(conn)[0]


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def _engine_and_files() -> tuple[Engine, Path]:
    from clearance.db import db
    from clearance.files import files_dir

    return db.engine, files_dir()


def _record_key_versions() -> dict[str, int]:
    from clearance.crypto import key_status
    from clearance.db import db

    try:
        return {f"{k} v{v}": n for (k, v), n in sorted(key_status(db.session).items())}
    finally:
        db.session.rollback()


def _audit(summary: str, data: dict[str, Any]) -> None:
    from clearance.db import db

    audit.append(db.session, realm="backup", kind=Kind.INFO, summary=summary, data=data)
    db.session.commit()


@click.command("backup")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="archive path (default instance/backups/taiwa-<time>.twbk)")
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Write an encrypted, consistent archive of the database and the files (the app may keep running)."""
    engine, fdir = _engine_and_files()
    try:
        result = create_backup(engine, fdir, output or default_output(), key_versions=_record_key_versions())
    except (BackupError, CryptoError) as exc:
        raise click.ClickException(str(exc)) from None
    m = result.manifest
    _audit("Backup written", {"archive_id": result.archive_id, "files": m["files"], "tables": len(m["tables"])})
    click.echo(f"backup {result.archive_id} written to {result.path}")
    click.echo(f"  {sum(m['tables'].values())} rows in {len(m['tables'])} tables, {m['files']} files; "
               f"archive key {m['archive_key']['key_id']} v{m['archive_key']['version']}")
    if m["skipped_files"]:
        click.echo(f"  {len(m['skipped_files'])} files were deleted while the backup ran and are not in it")
    click.echo("  Keep the key file (or TAIWA_KEYS) backed up separately: the archive cannot be read without it.")


@click.command("verify-backup")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@with_appcontext
def verify_backup_command(path: Path) -> None:
    """Decrypt an archive completely and check it against its manifest; changes nothing."""
    try:
        m = verify_archive(path)
    except (BackupError, CryptoError) as exc:
        raise click.ClickException(f"archive is NOT usable: {exc}") from None
    click.echo(f"archive {m['archive_id']} is intact: {m['backend']} database of {m['created_at']}, "
               f"{sum(m['tables'].values())} rows, {sum(1 for x in m['members'] if x['name'].startswith('files/'))} files")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Verify an archive, then replace the database and the files with its content. Stop the app first."""
    engine, fdir = _engine_and_files()
    from clearance.db import db

    db.session.remove()  # no transaction of ours may hold a lock on what is restored
    try:
        m = verify_archive(path)
    except (BackupError, CryptoError) as exc:
        raise click.ClickException(f"refusing to restore: {exc}") from None
    click.echo(f"archive {m['archive_id']} of {m['created_at']} verified: {sum(m['tables'].values())} rows, "
               f"schema {', '.join(m['schema_revisions'])}")
    if not yes:
        click.confirm(f"Replace the database {engine.url.render_as_string(hide_password=True)} and the files in "
                      f"{fdir} with this archive?", abort=True)
    try:
        result = restore_backup(path, engine, fdir)
    except (BackupError, CryptoError) as exc:
        raise click.ClickException(f"restore failed: {exc}. If a lock timed out, stop the app and retry.") from None
    _audit("Backup restored", {"archive_id": m["archive_id"], "created_at": m["created_at"], "files": result.files})
    click.echo(f"restored {result.files} files and the database")
    if result.old_files_dir:
        click.echo(f"  the previous files dir was kept at {result.old_files_dir}; remove it once checked")
    for warning in result.warnings:
        click.echo(f"  warning: {warning}", err=True)
    _check_restored_keys()
    click.echo("  Run `flask --app app db upgrade heads` if the archive is older than this version of Taiwa.")


def _check_restored_keys() -> None:
    """The restored database brings its own key checks: say now, not at the next start, if the
    keys here do not open what it holds (docs/OPERATIONS.md, Keys)."""
    from clearance import keycheck
    from clearance.crypto import get_provider
    from clearance.db import db
    from clearance.startup import StartupError

    try:
        if keycheck.table_exists(db.session):
            keycheck.verify(db.session, get_provider())
    except StartupError as exc:
        click.echo(f"  warning: the app will refuse to start: {exc.message}", err=True)
    finally:
        db.session.remove()


COMMANDS = (backup_command, verify_backup_command, restore_command)
