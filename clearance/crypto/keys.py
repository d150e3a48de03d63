"""Key providers: where key-encryption keys (KEKs) live and how DEKs are wrapped.

The interface is built around wrap_dek/unwrap_dek rather than handing out raw
KEKs, so a KMS-backed provider can do both remotely and never expose its keys.
The file and environment providers implement it locally with AES-256-GCM.
"""

from __future__ import annotations

import abc
import base64
import binascii
import contextlib
import json
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError, KeyUnavailable

KEK_LEN = 32
DEK_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
#: local wrapped DEK = wrap nonce || AES-GCM(KEK, DEK, AD) (ciphertext || tag)
LOCAL_WRAPPED_LEN = NONCE_LEN + DEK_LEN + TAG_LEN
KEY_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
MAX_VERSION = 2**32 - 1
KEYFILE_FORMAT = "taiwa-keys"
KEYFILE_FORMAT_VERSION = 1

Rng = Callable[[int], bytes]
KeyRef = tuple[str, int]


@dataclass(frozen=True)
class KeyVersion:
    """One KEK version as listed by versions(); never carries key material."""

    key_id: str
    version: int
    current: bool = False
    retired: bool = False
    created_at: str | None = None


@runtime_checkable
class KeyProvider(Protocol):
    """What the envelope layer needs from a key source.

    wrap_dek takes the key version explicitly (instead of "wrap under current")
    so the caller can bind the version into the AD and a concurrent rotation
    cannot change the key between choosing and using it.
    """

    def current(self) -> KeyRef: ...

    def versions(self) -> list[KeyVersion]: ...

    def wrap_dek(self, dek: bytes, key_id: str, version: int, ad: bytes) -> bytes: ...

    def unwrap_dek(self, wrapped: bytes, key_id: str, version: int, ad: bytes) -> bytes: ...


def check_key_id(key_id: str) -> str:
    if not isinstance(key_id, str) or not KEY_ID_RE.match(key_id):
        raise ValueError("key id must be 1-64 characters of A-Z a-z 0-9 . _ -")
    return key_id


def check_version(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise ValueError("key version must be an integer in 1..2**32-1")
    return version


class LocalKeyProvider:
    """Holds KEKs in process memory and wraps DEKs with AES-256-GCM.

    Subclasses decide where keys come from. `rng` is injectable for the fixed
    test vectors only; production always uses os.urandom.
    """

    def __init__(self, keys: Mapping[KeyRef, bytes], current: KeyRef, *, rng: Rng = os.urandom) -> None:
        self._rng = rng
        self._set_keys(dict(keys), current, {})

    # -- state --------------------------------------------------------------
    def _set_keys(self, keys: dict[KeyRef, bytes], current: KeyRef, meta: dict[KeyRef, KeyVersion]) -> None:
        for (kid, ver), kek in keys.items():
            check_key_id(kid)
            check_version(ver)
            if len(kek) != KEK_LEN:
                raise KeyUnavailable(f"key {kid} v{ver} must be {KEK_LEN} bytes")
        if current not in keys:
            raise KeyUnavailable(
                f"the current key {current[0]} v{current[1]} has no key material; restore it or mark another version current"
            )
        # AESGCM objects are cached per version: building one per call costs ~1 us.
        self._aead = {ref: AESGCM(kek) for ref, kek in keys.items()}
        self._keys = keys
        self._current = current
        self._meta = meta

    def current(self) -> KeyRef:
        return self._current

    def get(self, key_id: str, version: int) -> bytes:
        """The raw KEK (local providers only; a KMS provider never exposes one)."""
        try:
            return self._keys[(key_id, version)]
        except KeyError:
            raise self._missing(key_id, version) from None

    def versions(self) -> list[KeyVersion]:
        refs = set(self._keys) | set(self._meta)
        out = []
        for ref in sorted(refs):
            meta = self._meta.get(ref)
            out.append(
                KeyVersion(
                    ref[0],
                    ref[1],
                    current=ref == self._current,
                    retired=ref not in self._keys,
                    created_at=meta.created_at if meta else None,
                )
            )
        return out

    def _missing(self, key_id: str, version: int) -> KeyUnavailable:
        return KeyUnavailable(f"key {key_id} v{version} is not available from {self.describe()}")

    def describe(self) -> str:
        return type(self).__name__

    def _aead_for(self, key_id: str, version: int) -> AESGCM:
        aead = self._aead.get((key_id, version))
        if aead is None:
            raise self._missing(key_id, version)
        return aead

    # -- wrap / unwrap ---------------------------------------------------------
    def wrap_dek(self, dek: bytes, key_id: str, version: int, ad: bytes) -> bytes:
        aead = self._aead_for(key_id, version)
        nonce = self._rng(NONCE_LEN)
        return nonce + aead.encrypt(nonce, dek, ad)

    def unwrap_dek(self, wrapped: bytes, key_id: str, version: int, ad: bytes) -> bytes:
        aead = self._aead_for(key_id, version)
        if len(wrapped) != LOCAL_WRAPPED_LEN:
            raise DecryptionError("wrapped data key has the wrong length")
        try:
            return aead.decrypt(wrapped[:NONCE_LEN], wrapped[NONCE_LEN:], ad)
        except InvalidTag:
            raise DecryptionError(
                f"data key wrapped by {key_id} v{version} does not authenticate for this context"
            ) from None


# ---------------------------------------------------------------------------
# Environment provider
# ---------------------------------------------------------------------------


def parse_env_keys(spec: str) -> tuple[dict[KeyRef, bytes], KeyRef]:
    """Parse TAIWA_KEYS: comma/whitespace separated entries `[*]key_id:version:base64key`.

    The entry prefixed with `*` is current; without a star the highest version
    is current if all entries share one key id. Errors never echo key bytes.
    """
    keys: dict[KeyRef, bytes] = {}
    starred: list[KeyRef] = []
    entries = [e for e in re.split(r"[,\s]+", spec.strip()) if e]
    if not entries:
        raise KeyUnavailable("TAIWA_KEYS is empty; expected entries like *main:1:<base64 of 32 random bytes>")
    for n, entry in enumerate(entries, 1):
        star = entry.startswith("*")
        parts = entry.lstrip("*").split(":")
        if len(parts) != 3:
            raise KeyUnavailable(f"TAIWA_KEYS entry {n} is not key_id:version:base64key")
        kid, ver_s, b64 = parts
        try:
            ref = (check_key_id(kid), check_version(int(ver_s)))
        except ValueError as exc:
            raise KeyUnavailable(f"TAIWA_KEYS entry {n}: {exc}") from None
        try:
            kek = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            kek = b""
        if len(kek) != KEK_LEN:
            raise KeyUnavailable(f"TAIWA_KEYS entry {n} ({ref[0]}:{ref[1]}): key is not base64 of {KEK_LEN} bytes")
        if ref in keys:
            raise KeyUnavailable(f"TAIWA_KEYS lists {ref[0]}:{ref[1]} twice")
        keys[ref] = kek
        if star:
            starred.append(ref)
    if len(starred) > 1:
        raise KeyUnavailable("TAIWA_KEYS marks more than one entry current with '*'")
    if starred:
        current = starred[0]
    elif len({kid for kid, _ in keys}) == 1:
        current = max(keys)
    else:
        raise KeyUnavailable("TAIWA_KEYS has several key ids: mark the current entry with a leading '*'")
    return keys, current


class EnvKeyProvider(LocalKeyProvider):
    """KEKs from the TAIWA_KEYS environment variable (scale-out deployments).

    Rotation: the operator adds a new entry, marks it `*`, restarts the
    workers, then runs `flask rotate-keys`; retiring means removing the entry.
    """

    def __init__(self, spec: str | None = None, *, var: str = "TAIWA_KEYS", rng: Rng = os.urandom) -> None:
        if spec is None:
            spec = os.environ.get(var)
            if not spec:
                raise KeyUnavailable(f"{var} is not set")
        keys, current = parse_env_keys(spec)
        super().__init__(keys, current, rng=rng)

    def describe(self) -> str:
        return "TAIWA_KEYS (add the missing version to the environment of every worker)"


# ---------------------------------------------------------------------------
# File provider
# ---------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _new_keyfile_doc(key_id: str) -> dict[str, Any]:
    return {
        "format": KEYFILE_FORMAT,
        "format_version": KEYFILE_FORMAT_VERSION,
        "current": {"key_id": key_id, "version": 1},
        "rotation": None,
        "keys": [{"key_id": key_id, "version": 1, "key": _b64(os.urandom(KEK_LEN)), "created_at": _now()}],
    }


def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable; not possible on every platform, hence best effort.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temp(directory: Path, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".keys-", suffix=".tmp")  # mkstemp: mode 0600
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def ensure_dev_keyfile(path: str | os.PathLike[str], key_id: str = "main") -> bool:
    """Create a development key file (mode 0600, one fresh version) unless one exists.

    Atomic: the content is written to a temp file and hard-linked into place,
    which fails if the path exists, so an existing key file is never replaced
    and no reader ever sees a half-written file. Returns True if created.
    """
    check_key_id(key_id)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target.exists():
        return False
    data = json.dumps(_new_keyfile_doc(key_id), indent=2).encode() + b"\n"
    tmp = _write_temp(target.parent, data)
    try:
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        except OSError:
            # Filesystem without hard links: O_EXCL still never overwrites.
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(target.parent)
    return True


class FileKeyProvider(LocalKeyProvider):
    """KEKs from a JSON key file in instance/ (embedded, single-host default).

    The file also records an in-progress rotation target so `rotate-keys` is
    resumable without writing key state into the database. Other processes
    pick up changes (new current version, rotation) by re-reading the file
    when its stat changes, checked at most every `refresh_interval` seconds and
    immediately when an unknown version is requested.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, refresh_interval: float = 2.0, rng: Rng = os.urandom
    ) -> None:
        self.path = Path(path)
        self._rng = rng
        self._refresh_interval = refresh_interval
        self._lock = threading.RLock()
        self._rotation: KeyRef | None = None
        self._sig: tuple[int, int, int, int] | None = None
        self._checked = 0.0
        self._load()

    def describe(self) -> str:
        return f"key file {self.path} (restore the version from backup, or re-open with the right key file)"

    # -- loading --------------------------------------------------------------
    def _read(self) -> tuple[dict[str, Any], tuple[int, int, int, int]]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise KeyUnavailable(
                f"key file {self.path} not found. Restore it from backup (never create new keys for an existing "
                "database: its records would become unreadable), or set TAIWA_KEYS; see docs/OPERATIONS.md (Keys)"
            ) from None
        except OSError as exc:  # permission denied, a directory, ...: one line, not a traceback
            raise KeyUnavailable(f"key file {self.path} cannot be read ({exc.strerror}); see docs/OPERATIONS.md (Keys)") from None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())  # fstat the opened file: no race with a chmod/replace
            if not stat.S_ISREG(st.st_mode):
                raise KeyUnavailable(f"key file {self.path} is not a regular file")
            if st.st_mode & 0o077:
                raise KeyUnavailable(
                    f"key file {self.path} has mode {stat.S_IMODE(st.st_mode):04o}: it must not be accessible by "
                    f"group or others. Run: chmod 600 {self.path}"
                )
            raw = fh.read()
        try:
            doc = json.loads(raw)
        except ValueError:
            raise KeyUnavailable(
                f"key file {self.path} is not valid JSON (truncated or damaged): restore it from backup; "
                "see docs/OPERATIONS.md (Keys)"
            ) from None
        return doc, (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _load(self) -> None:
        doc, sig = self._read()
        keys, current, meta, rotation = self._parse(doc)
        audit_retired = self._parse_audit_tombstones(doc)
        with self._lock:
            self._set_keys(keys, current, meta)
            self.__dict__.pop("_audit_key_cache", None)
            #: (key_id, version) -> (audit MAC key, public signing key) kept when the KEK was retired
            self.audit_retired = audit_retired
            self._rotation = rotation
            self._sig = sig
            self._checked = time.monotonic()

    def _parse(
        self, doc: Any
    ) -> tuple[dict[KeyRef, bytes], KeyRef, dict[KeyRef, KeyVersion], KeyRef | None]:
        where = f"key file {self.path}"
        if not isinstance(doc, dict) or doc.get("format") != KEYFILE_FORMAT:
            raise KeyUnavailable(f"{where} is not a Taiwa key file (format {KEYFILE_FORMAT!r})")
        if doc.get("format_version") != KEYFILE_FORMAT_VERSION:
            raise KeyUnavailable(f"{where} has unsupported format_version {doc.get('format_version')!r}")
        try:
            keys: dict[KeyRef, bytes] = {}
            meta: dict[KeyRef, KeyVersion] = {}
            for entry in doc["keys"]:
                ref = (check_key_id(entry["key_id"]), check_version(entry["version"]))
                if ref in meta:
                    raise ValueError(f"{ref[0]} v{ref[1]} listed twice")
                meta[ref] = KeyVersion(
                    ref[0], ref[1], retired=entry.get("key") is None, created_at=entry.get("created_at")
                )
                if entry.get("key") is not None:
                    kek = base64.b64decode(entry["key"], validate=True)
                    if len(kek) != KEK_LEN:
                        raise ValueError(f"{ref[0]} v{ref[1]} is not {KEK_LEN} bytes")
                    keys[ref] = kek
            cur = doc["current"]
            current = (check_key_id(cur["key_id"]), check_version(cur["version"]))
            rot = doc.get("rotation")
            rotation = None
            if rot:
                rotation = (check_key_id(rot["target"]["key_id"]), check_version(rot["target"]["version"]))
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            # ValueError texts above never contain key bytes.
            raise KeyUnavailable(f"{where} is malformed: {exc if isinstance(exc, ValueError) else 'missing field'}") from None
        return keys, current, meta, rotation

    def _parse_audit_tombstones(self, doc: dict[str, Any]) -> dict[KeyRef, tuple[bytes, bytes]]:
        out = {}
        for entry in doc.get("keys", []):
            audit = entry.get("audit") if isinstance(entry, dict) else None
            if entry.get("key") is None and isinstance(audit, dict):
                try:
                    ref = (check_key_id(entry["key_id"]), check_version(entry["version"]))
                    out[ref] = (base64.b64decode(audit["mac"], validate=True),
                                base64.b64decode(audit["public"], validate=True))
                except (KeyError, TypeError, ValueError, binascii.Error):
                    raise KeyUnavailable(f"key file {self.path}: malformed audit tombstone") from None
        return out

    def _maybe_refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self._refresh_interval:
            return
        self._checked = now
        try:
            st = os.stat(self.path)
        except OSError:
            return  # keep serving the keys we have; the next open will report
        if (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != self._sig:
            self._load()

    def current(self) -> KeyRef:
        self._maybe_refresh()
        return self._current

    def versions(self) -> list[KeyVersion]:
        self._maybe_refresh(force=True)
        return super().versions()

    def rotation_target(self) -> KeyRef | None:
        self._maybe_refresh(force=True)
        return self._rotation

    def _aead_for(self, key_id: str, version: int) -> AESGCM:
        aead = self._aead.get((key_id, version))
        if aead is None:
            # Another process may have added the version since we loaded.
            self._maybe_refresh(force=True)
            aead = self._aead.get((key_id, version))
            if aead is None:
                raise self._missing(key_id, version)
        return aead

    # -- mutation (rotation) -------------------------------------------------
    @contextlib.contextmanager
    def _locked_doc(self) -> Iterator[dict[str, Any]]:
        """Exclusive cross-process lock, fresh read, then atomic replace on success."""
        import fcntl  # POSIX only; the key file provider is for single-host installs

        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self._lock:
                doc, _ = self._read()
                self._parse(doc)
                yield doc
                self._parse(doc)  # never write a file we could not load again
                data = json.dumps(doc, indent=2).encode() + b"\n"
                tmp = _write_temp(self.path.parent, data)
                try:
                    os.replace(tmp, self.path)
                except BaseException:
                    os.unlink(tmp)
                    raise
                _fsync_dir(self.path.parent)
                self._load()
        finally:
            os.close(fd)  # releases the flock

    def add_version(self, key_id: str | None = None, *, reserved: Iterable[KeyRef] = ()) -> KeyRef:
        """Generate a new KEK version and make it current. `reserved`: versions the database has
        recorded (clearance.keycheck), which a new version never reuses either."""
        with self._locked_doc() as doc:
            ref = self._add_version(doc, key_id, reserved)
        return ref

    def _add_version(self, doc: dict[str, Any], key_id: str | None, reserved: Iterable[KeyRef] = ()) -> KeyRef:
        kid = check_key_id(key_id or doc["current"]["key_id"])
        # Versions are never reused, even retired ones, so a header always names one key; nor are
        # versions the database knows (a key file restored from an older backup lacks the newest).
        taken = [e["version"] for e in doc["keys"] if e["key_id"] == kid]
        taken += [ver for k, ver in reserved if k == kid]
        version = 1 + max(taken, default=0)
        doc["keys"].append({"key_id": kid, "version": version, "key": _b64(os.urandom(KEK_LEN)), "created_at": _now()})
        doc["current"] = {"key_id": kid, "version": version}
        return (kid, version)

    def begin_rotation(self, *, reserved: Iterable[KeyRef] = ()) -> KeyRef:
        """Start a rotation (new current version) or return the one in progress."""
        with self._locked_doc() as doc:
            rot = doc.get("rotation")
            if rot:
                target = (rot["target"]["key_id"], rot["target"]["version"])
                if doc["current"] != rot["target"]:
                    raise KeyUnavailable(
                        f"{self.path}: a rotation to {target[0]} v{target[1]} is in progress but the current key is "
                        "different; fix 'current' or 'rotation' in the key file"
                    )
            else:
                target = self._add_version(doc, None, reserved)
                doc["rotation"] = {"target": {"key_id": target[0], "version": target[1]}, "started_at": _now()}
        return target

    def finish_rotation(self, target: KeyRef) -> None:
        with self._locked_doc() as doc:
            rot = doc.get("rotation")
            if rot and (rot["target"]["key_id"], rot["target"]["version"]) == tuple(target):
                doc["rotation"] = None

    def retire(self, key_id: str, version: int) -> None:
        """Delete the key material of a version (a tombstone keeps its number used).
        Callers must first check no record uses it: see rotation.retire_version."""
        with self._locked_doc() as doc:
            if doc["current"] == {"key_id": key_id, "version": version}:
                raise KeyUnavailable(f"{key_id} v{version} is the current key; rotate first")
            for entry in doc["keys"]:
                if entry["key_id"] == key_id and entry["version"] == version:
                    if entry.get("key") is not None:
                        # The audit log's entries and checkpoints of this version must stay verifiable:
                        # keep the derived MAC key and the public signing key (neither opens a record).
                        from .audit_keys import retired_material

                        mac, public = retired_material(base64.b64decode(entry["key"]))
                        entry["audit"] = {"mac": _b64(mac), "public": _b64(public)}
                    entry["key"] = None
                    entry["retired_at"] = _now()
                    break
            else:
                raise KeyUnavailable(f"{key_id} v{version} is not in {self.path}")


# ---------------------------------------------------------------------------
# External KMS hook
# ---------------------------------------------------------------------------


class ExternalKmsProvider(abc.ABC):
    """Subclass to back Taiwa with an external KMS (cloud KMS, Vault transit, HSM).

    The KMS holds the KEKs and performs wrap/unwrap remotely; no raw KEK ever
    enters this process. Implement:

    * current() -> (key_id, version): the version new DEKs are wrapped under;
    * versions() -> list[KeyVersion];
    * wrap_dek(dek, key_id, version, ad) -> opaque bytes (at most 1024), passing
      `ad` as the KMS "encryption context"/"additional data" so the binding to
      the record survives;
    * unwrap_dek(wrapped, key_id, version, ad) -> 32-byte DEK, raising
      DecryptionError if the KMS rejects it, KeyUnavailable if unreachable.

    Rotation happens in the KMS: once current() reports the new version,
    `flask rotate-keys` re-wraps every record. A round trip per open is slow;
    a short-lived in-process cache of unwrapped DEKs keyed by the wrapped
    bytes is the usual remedy (bounded size, short TTL).
    """

    @abc.abstractmethod
    def current(self) -> KeyRef: ...

    @abc.abstractmethod
    def versions(self) -> list[KeyVersion]: ...

    @abc.abstractmethod
    def wrap_dek(self, dek: bytes, key_id: str, version: int, ad: bytes) -> bytes: ...

    @abc.abstractmethod
    def unwrap_dek(self, wrapped: bytes, key_id: str, version: int, ad: bytes) -> bytes: ...


# ---------------------------------------------------------------------------
# Module-level configuration
# ---------------------------------------------------------------------------

_provider: KeyProvider | None = None


def configure(provider: KeyProvider | None) -> None:
    """Set the process-wide provider (the app factory calls this once)."""
    global _provider
    if provider is not None and not isinstance(provider, KeyProvider):
        raise TypeError("provider must implement current/versions/wrap_dek/unwrap_dek")
    _provider = provider


def get_provider() -> KeyProvider:
    if _provider is None:
        raise KeyUnavailable(
            "encryption keys are not configured: create_app must call "
            "clearance.crypto.configure(clearance.crypto.load_provider(app.config))"
        )
    return _provider


def load_provider(config: Mapping[str, Any]) -> KeyProvider:
    """TAIWA_KEYS (environment, or config for tests) wins; else the key file.

    config["TAIWA_CREATE_DEV_KEYS"] true creates the key file first if it is
    missing (development and tests only: production must never mint keys
    silently, or an existing database would become unreadable).
    """
    spec = config.get("TAIWA_KEYS") or os.environ.get("TAIWA_KEYS")
    if spec:
        return EnvKeyProvider(spec)
    path = config.get("TAIWA_KEY_FILE")
    if not path:
        raise KeyUnavailable("no encryption keys: set TAIWA_KEYS or TAIWA_KEY_FILE")
    create = config.get("TAIWA_CREATE_DEV_KEYS")
    if isinstance(create, str):  # from the environment: "0"/"false" must mean no
        create = create.strip().lower() in {"1", "true", "yes", "on"}
    if create:
        ensure_dev_keyfile(path)
    return FileKeyProvider(path)
