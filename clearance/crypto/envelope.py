"""Envelope AES-256-GCM for database fields, bound to table, column, row and level.

Layout and associated data are specified in docs/CRYPTO-FORMAT.md; the fixed
test vectors in tests/crypto/test_vectors.py freeze them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError, KeyUnavailable
from .keys import DEK_LEN, NONCE_LEN, TAG_LEN, KeyProvider, KeyRef, Rng, get_provider

FIELD_MAGIC = b"TWF"
FILE_MAGIC = b"TWS"
FORMAT_VERSION = 1
FIELD_PREFIX = FIELD_MAGIC + bytes([FORMAT_VERSION])
FILE_PREFIX = FILE_MAGIC + bytes([FORMAT_VERSION])
#: classification levels defined by clearance.labels; the AD byte could hold up to 255
MAX_LEVEL = 2
MAX_WRAPPED_LEN = 1024


@dataclass(frozen=True, slots=True)
class Context:
    """Where a ciphertext lives. Every part goes into the associated data."""

    table: str
    column: str
    row_id: str
    level: int = 0

    def __post_init__(self) -> None:
        for name in ("table", "column", "row_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"Context.{name} must be a non-empty string")
            if len(value.encode()) > 0xFFFF:
                raise ValueError(f"Context.{name} is too long")
        if isinstance(self.level, bool) or not isinstance(self.level, int) or not 0 <= self.level <= MAX_LEVEL:
            raise ValueError(f"Context.level must be an integer 0..{MAX_LEVEL}")

    def encode(self) -> bytes:
        """Unambiguous encoding: u16 length-prefixed UTF-8 strings, then the level byte."""
        out = bytearray()
        for value in (self.table, self.column, self.row_id):
            b = value.encode()
            out += len(b).to_bytes(2, "big")
            out += b
        out.append(self.level)
        return bytes(out)


# ---------------------------------------------------------------------------
# Header shared by fields and files: magic | version | kid | kek version | wrapped DEK
# ---------------------------------------------------------------------------


def build_header(prefix: bytes, key: KeyRef, wrapped: bytes) -> bytes:
    kid = key[0].encode("ascii")
    return b"".join(
        (prefix, bytes([len(kid)]), kid, key[1].to_bytes(4, "big"), len(wrapped).to_bytes(2, "big"), wrapped)
    )


def parse_header(blob: bytes, prefix: bytes) -> tuple[KeyRef, bytes, int]:
    """Return ((key_id, version), wrapped DEK, offset of what follows)."""
    if blob[:4] != prefix:
        if blob[:3] in (FIELD_MAGIC, FILE_MAGIC) and blob[:3] == prefix[:3]:
            raise DecryptionError(f"unsupported format version {blob[3] if len(blob) > 3 else '?'}")
        raise DecryptionError("not a Taiwa ciphertext of this kind (bad magic)")
    try:
        n = blob[4]
        kid = blob[5 : 5 + n].decode("ascii")
        pos = 5 + n
        version = int.from_bytes(blob[pos : pos + 4], "big")
        wlen = int.from_bytes(blob[pos + 4 : pos + 6], "big")
        pos += 6
        wrapped = blob[pos : pos + wlen]
    except (IndexError, UnicodeDecodeError):
        raise DecryptionError("truncated or corrupt header") from None
    if not 1 <= n <= 64 or len(kid) != n or version == 0 or not 0 < wlen <= MAX_WRAPPED_LEN or len(wrapped) != wlen:
        raise DecryptionError("truncated or corrupt header")
    return (kid, version), wrapped, pos + wlen


def wrap_ad(prefix: bytes, key: KeyRef, ctx_bytes: bytes) -> bytes:
    """AD for the wrapped DEK: binds it to the kind, key version and context."""
    kid = key[0].encode("ascii")
    return b"".join((prefix, b"K", bytes([len(kid)]), kid, key[1].to_bytes(4, "big"), ctx_bytes))


def unwrap(provider: KeyProvider, prefix: bytes, key: KeyRef, wrapped: bytes, ctx_bytes: bytes) -> bytes:
    try:
        dek = provider.unwrap_dek(wrapped, key[0], key[1], wrap_ad(prefix, key, ctx_bytes))
    except KeyUnavailable as exc:
        # One exception type for callers; the message names the version, never a key.
        raise DecryptionError(str(exc)) from None
    if len(dek) != DEK_LEN:
        raise DecryptionError("provider returned a data key of the wrong length")
    return dek


def rewrap_header(blob: bytes, prefix: bytes, ctx: Context, provider: KeyProvider) -> bytes | None:
    """New header for `blob` under the current KEK, or None if it already is current."""
    key, wrapped, _ = parse_header(blob, prefix)
    target = provider.current()
    if key == target:
        return None
    ctx_bytes = ctx.encode()
    dek = unwrap(provider, prefix, key, wrapped, ctx_bytes)
    new_wrapped = provider.wrap_dek(dek, target[0], target[1], wrap_ad(prefix, target, ctx_bytes))
    return build_header(prefix, target, new_wrapped)


# ---------------------------------------------------------------------------
# Field API
# ---------------------------------------------------------------------------


def _seal(plaintext: bytes, ctx: Context, provider: KeyProvider, rng: Rng, key: KeyRef | None = None) -> bytes:
    # `key` is for the key check values only (clearance.keycheck seals one per version); data is
    # always sealed under the current version.
    key = key or provider.current()
    fresh = rng(DEK_LEN + NONCE_LEN)  # one syscall for DEK and nonce
    dek, nonce = fresh[:DEK_LEN], fresh[DEK_LEN:]
    ctx_bytes = ctx.encode()
    wrapped = provider.wrap_dek(dek, key[0], key[1], wrap_ad(FIELD_PREFIX, key, ctx_bytes))
    ct = AESGCM(dek).encrypt(nonce, plaintext, FIELD_PREFIX + b"D" + ctx_bytes)
    return build_header(FIELD_PREFIX, key, wrapped) + nonce + ct


def seal(plaintext: bytes, ctx: Context) -> bytes:
    """Encrypt a field value under a fresh DEK wrapped by the current KEK."""
    if not isinstance(plaintext, bytes | bytearray | memoryview):
        raise TypeError("seal() takes bytes; use seal_text() for str")
    return _seal(bytes(plaintext), ctx, get_provider(), os.urandom)


def open_(blob: bytes, ctx: Context) -> bytes:
    """Decrypt a field value; DecryptionError if it does not belong to `ctx`."""
    if not isinstance(blob, bytes):
        if not isinstance(blob, bytearray | memoryview):
            raise DecryptionError("ciphertext must be bytes")
        blob = bytes(blob)
    return _open(blob, ctx, get_provider())


def _open(blob: bytes, ctx: Context, provider: KeyProvider) -> bytes:
    key, wrapped, pos = parse_header(blob, FIELD_PREFIX)
    if len(blob) < pos + NONCE_LEN + TAG_LEN:
        raise DecryptionError("truncated ciphertext")
    ctx_bytes = ctx.encode()
    dek = unwrap(provider, FIELD_PREFIX, key, wrapped, ctx_bytes)
    try:
        return AESGCM(dek).decrypt(blob[pos : pos + NONCE_LEN], blob[pos + NONCE_LEN :], FIELD_PREFIX + b"D" + ctx_bytes)
    except InvalidTag:
        raise DecryptionError("field ciphertext does not authenticate for this context") from None


def seal_text(text: str, ctx: Context) -> bytes:
    if not isinstance(text, str):
        raise TypeError("seal_text() takes str")
    return _seal(text.encode("utf-8"), ctx, get_provider(), os.urandom)


def open_text(blob: bytes, ctx: Context) -> str:
    data = open_(blob, ctx)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("decrypted value is not UTF-8 text") from None


def rewrap(blob: bytes, ctx: Context) -> bytes:
    """Re-wrap the DEK under the current KEK; content bytes are untouched.
    Returns `blob` itself when it is already current (idempotent)."""
    return _rewrap(bytes(blob), ctx, get_provider())


def _rewrap(blob: bytes, ctx: Context, provider: KeyProvider) -> bytes:
    header = rewrap_header(blob, FIELD_PREFIX, ctx, provider)
    if header is None:
        return blob
    _, _, end = parse_header(blob, FIELD_PREFIX)
    return header + blob[end:]


def key_version_of(blob: bytes) -> KeyRef:
    """(key_id, version) of a field blob or a file header; reads the header only."""
    blob = bytes(blob[:1100])
    prefix = FILE_PREFIX if blob[:3] == FILE_MAGIC else FIELD_PREFIX
    key, _, _ = parse_header(blob, prefix)
    return key
