"""Streaming file encryption: the STREAM construction over AES-256-GCM.

A header carries the wrapped DEK, the segment size and a random 7-byte nonce
prefix. Each segment is sealed with nonce = prefix || u32 index || last flag
and the index and last flag are repeated in the AD, so truncation at a
segment boundary, reordering, splicing from another file (other DEK) and
appending are all detected. Memory is one segment whatever the file size.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .envelope import (
    FILE_MAGIC,
    FILE_PREFIX,
    MAX_WRAPPED_LEN,
    Context,
    build_header,
    parse_header,
    rewrap_header,
    unwrap,
    wrap_ad,
)
from .errors import DecryptionError
from .keys import DEK_LEN, TAG_LEN, KeyProvider, Rng, get_provider

SEGMENT_SIZE = 1 << 20  # 1 MiB of plaintext per segment
MIN_SEGMENT = 16
MAX_SEGMENT = 16 << 20  # bounds reader memory whatever a header claims
PREFIX_LEN = 7
MAX_SEGMENTS = 2**32  # the u32 counter in the nonce


def _read_exact(src: BinaryIO, n: int) -> bytes:
    """Read n bytes or up to EOF; raw streams and pipes may return short reads."""
    buf = bytearray(n)
    got = _fill(src, memoryview(buf))
    del buf[got:]
    return bytes(buf)


def _fill(src: BinaryIO, view: memoryview) -> int:
    """Fill `view` from src (looping over short reads); returns bytes read, < len only at EOF.

    readinto into one reused buffer keeps memory at a segment and avoids a copy."""
    got = 0
    n = len(view)
    readinto = getattr(src, "readinto", None)
    while got < n:
        if readinto is not None:
            k = readinto(view[got:])
        else:
            data = src.read(n - got)
            k = len(data) if data else 0
            view[got : got + k] = data or b""
        if not k:
            break
        got += k
    return got


def _segment_ad(base: bytes, index: int, last: bool) -> bytes:
    return base + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _segment_base_ad(ctx_bytes: bytes, segment_size: int) -> bytes:
    return FILE_PREFIX + b"S" + segment_size.to_bytes(4, "big") + ctx_bytes


def _encrypt_stream(
    src: BinaryIO, dst: BinaryIO, ctx: Context, provider: KeyProvider, rng: Rng, segment_size: int
) -> int:
    if not MIN_SEGMENT <= segment_size <= MAX_SEGMENT:
        raise ValueError(f"segment_size must be {MIN_SEGMENT}..{MAX_SEGMENT}")
    key = provider.current()
    fresh = rng(DEK_LEN + PREFIX_LEN)
    dek, prefix = fresh[:DEK_LEN], fresh[DEK_LEN:]
    ctx_bytes = ctx.encode()
    wrapped = provider.wrap_dek(dek, key[0], key[1], wrap_ad(FILE_PREFIX, key, ctx_bytes))
    header = build_header(FILE_PREFIX, key, wrapped) + segment_size.to_bytes(4, "big") + prefix
    dst.write(header)
    written = len(header)
    aead = AESGCM(dek)
    base = _segment_base_ad(ctx_bytes, segment_size)
    # One plaintext buffer (+1 byte of look-ahead) and one ciphertext buffer, reused.
    inbuf = bytearray(segment_size + 1)
    inview = memoryview(inbuf)
    outbuf = bytearray(segment_size + TAG_LEN)
    outview = memoryview(outbuf)
    have = _fill(src, inview)  # a full segment plus one byte means "not last"
    index = 0
    while True:
        last = have <= segment_size
        n = min(have, segment_size)
        if index >= MAX_SEGMENTS:
            raise ValueError("file too large for one stream")
        out = outview[: n + TAG_LEN]
        aead.encrypt_into(_nonce(prefix, index, last), inview[:n], _segment_ad(base, index, last), out)
        dst.write(out)
        written += n + TAG_LEN
        if last:
            return written
        index += 1
        inview[0] = inview[segment_size]
        have = 1 + _fill(src, inview[1:])


def encrypt_stream(src: BinaryIO, dst: BinaryIO, ctx: Context, *, segment_size: int = SEGMENT_SIZE) -> int:
    """Encrypt everything readable from `src` into `dst`; returns bytes written.

    `segment_size` is recorded in the header; keep the default outside tests.
    """
    return _encrypt_stream(src, dst, ctx, get_provider(), os.urandom, segment_size)


def read_file_header(src: BinaryIO) -> tuple[bytes, tuple[str, int], bytes, int, bytes]:
    """Read and parse the file header: (raw header, key, wrapped DEK, segment size, nonce prefix)."""
    head = _read_exact(src, 5)
    if len(head) < 5:
        raise DecryptionError("truncated file header")
    if head[:3] != FILE_MAGIC:
        raise DecryptionError("not an encrypted Taiwa file (bad magic)")
    head += _read_exact(src, head[4] + 6)
    if len(head) < 5 + head[4] + 6:
        raise DecryptionError("truncated file header")
    wlen = int.from_bytes(head[-2:], "big")
    if not 0 < wlen <= MAX_WRAPPED_LEN:
        raise DecryptionError("corrupt file header")
    head += _read_exact(src, wlen + 4 + PREFIX_LEN)
    key, wrapped, pos = parse_header(head, FILE_PREFIX)
    if len(head) != pos + 4 + PREFIX_LEN:
        raise DecryptionError("truncated file header")
    segment_size = int.from_bytes(head[pos : pos + 4], "big")
    if not MIN_SEGMENT <= segment_size <= MAX_SEGMENT:
        raise DecryptionError("corrupt file header (segment size)")
    return head, key, wrapped, segment_size, head[pos + 4 :]


def _decrypt_stream(src: BinaryIO, ctx: Context, provider: KeyProvider) -> Iterator[bytes]:
    _, key, wrapped, segment_size, prefix = read_file_header(src)
    ctx_bytes = ctx.encode()
    # Unwrapping here (not in the generator) makes a wrong context or missing
    # key fail at call time, before a web response has started.
    aead = AESGCM(unwrap(provider, FILE_PREFIX, key, wrapped, ctx_bytes))
    base = _segment_base_ad(ctx_bytes, segment_size)
    return _segments(src, aead, base, prefix, segment_size + TAG_LEN)


def _segments(src: BinaryIO, aead: AESGCM, base: bytes, prefix: bytes, full: int) -> Iterator[bytes]:
    buf = bytearray(full + 1)  # one segment plus one byte of look-ahead, reused
    view = memoryview(buf)
    have = _fill(src, view)
    index = 0
    while True:
        last = have <= full
        n = min(have, full)
        if n < TAG_LEN:
            raise DecryptionError("encrypted file is truncated")
        if index >= MAX_SEGMENTS:
            raise DecryptionError("encrypted file has too many segments")
        try:
            # Authenticated before anything from this segment is yielded.
            pt = aead.decrypt(_nonce(prefix, index, last), view[:n], _segment_ad(base, index, last))
        except InvalidTag:
            raise DecryptionError(
                f"segment {index} of the encrypted file does not authenticate (tampered, truncated, reordered "
                "or spliced; or wrong context)"
            ) from None
        if pt:
            yield pt
        if last:
            return
        index += 1
        view[0] = view[full]
        have = 1 + _fill(src, view[1:])


def decrypt_stream(src: BinaryIO, ctx: Context) -> Iterator[bytes]:
    """Decrypt an encrypted file, yielding plaintext segments (at most 1 MiB each).

    The header is checked and the DEK unwrapped before this returns. Each
    segment is authenticated before it is yielded, but a consumer may already
    have received earlier valid segments when a later one fails: treat a
    DecryptionError mid-stream as "the whole file is invalid" (abort the HTTP
    connection rather than finishing the response; delete a partial output).
    """
    return _decrypt_stream(src, ctx, get_provider())


def _rewrap_file(path: str | os.PathLike[str], ctx: Context, provider: KeyProvider) -> bool:
    path = Path(path)
    with open(path, "rb") as src:
        head, _, _, _, _ = read_file_header(src)
        new = rewrap_header(head, FILE_PREFIX, ctx, provider)
        if new is None:
            return False
        _, _, pos = parse_header(head, FILE_PREFIX)
        new_head = new + head[pos:]  # segment size and nonce prefix unchanged
        # Same directory, so os.replace is an atomic rename; readers holding the
        # old file keep a consistent copy (same segments, old header still valid).
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".rewrap")
        try:
            with os.fdopen(fd, "wb") as dst:
                dst.write(new_head)
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return True


def rewrap_file(path: str | os.PathLike[str], ctx: Context) -> bool:
    """Re-wrap an encrypted file's DEK under the current KEK, in place and atomically.
    Returns False (and writes nothing) if it is already current."""
    return _rewrap_file(path, ctx, get_provider())


def key_version_of_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    with open(path, "rb") as src:
        _, key, _, _, _ = read_file_header(src)
    return key


def _rewrap_bytes(data: bytes, ctx: Context, provider: KeyProvider) -> bytes | None:
    """The same encrypted file held in memory (a database blob), its DEK re-wrapped under the
    current KEK; None if it already is current. Segments are untouched."""
    import io

    head, _, _, _, _ = read_file_header(io.BytesIO(data))
    new = rewrap_header(head, FILE_PREFIX, ctx, provider)
    if new is None:
        return None
    _, _, pos = parse_header(head, FILE_PREFIX)
    return new + head[pos:] + data[len(head):]


def key_version_of_bytes(data: bytes) -> tuple[str, int]:
    import io

    _, key, _, _, _ = read_file_header(io.BytesIO(data))
    return key
