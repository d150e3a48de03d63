"""Fixed test vectors: they freeze the binary formats of docs/CRYPTO-FORMAT.md.

If one of these fails, the on-disk format changed: existing databases and
files would no longer open. Bump FORMAT_VERSION instead of editing a vector.
"""

from __future__ import annotations

import base64
import io
import struct
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clearance.crypto import (
    Context,
    EnvKeyProvider,
    configure,
    decrypt_stream,
    key_version_of,
    open_,
    open_text,
)
from clearance.crypto.envelope import _seal
from clearance.crypto.stream import _encrypt_stream

KEK = bytes(range(0x20))
DEK = bytes(range(0x40, 0x60))
CONTENT_NONCE = bytes(range(0x60, 0x6C))
FILE_PREFIX = bytes(range(0x60, 0x67))
WRAP_NONCE = bytes(range(0x70, 0x7C))
KEYS = "*vec:7:" + base64.b64encode(KEK).decode()

FIELD_CTX = Context("user_account", "totp_secret", "00000000-0000-4000-8000-000000000001", 1)
FIELD_PT = b"JBSWY3DPEHPK3PXP"
FIELD_VECTOR = bytes.fromhex(
    "545746010376656300000007003c707172737475767778797a7b57c6f864f78cda730c637c999d0dff98fd6697de50ce1a"
    "edfdd7631f18ea486111903371b9bbbffcdc37ec2c3c6e6a4d606162636465666768696a6be66a5a525ea7d4f64cc9297d"
    "36d6045b66fed773117ae2a72d0ffd047a1933c5"
)

FILE_CTX = Context("briefing_file", "content", "00000000-0000-4000-8000-000000000002", 2)
FILE_PT = bytes(range(40))  # 16-byte segments: 16 + 16 + 8 (last)
FILE_VECTOR = bytes.fromhex(
    "545753010376656300000007003c707172737475767778797a7b57c6f864f78cda730c637c999d0dff98fd6697de50ce1a"
    "edfdd7631f18ea4861c204098fa0cd1e62919b77901a9f0b0f0000001060616263646566aa7590d128145624623db2d896"
    "517b4d06be44e28d7ceb8d759d849f72ce0fdb8f02b42faf8a304634ae1973a80f81e320e5be81caa9a17f434690ab16c5"
    "1cf5a9a9b7bdb5ec0801ad738d42b32c3eef31ce073cf9c81e93"
)


def scripted(*chunks: bytes) -> Callable[[int], bytes]:
    """A deterministic randomness source for vectors only: hands out chunks in order."""
    queue = list(chunks)

    def rng(n: int) -> bytes:
        chunk = queue.pop(0)
        assert len(chunk) == n
        return chunk

    return rng


def lp(s: str) -> bytes:
    return struct.pack(">H", len(s.encode())) + s.encode()


def ctx_bytes(ctx: Context) -> bytes:
    return lp(ctx.table) + lp(ctx.column) + lp(ctx.row_id) + bytes([ctx.level])


@pytest.fixture
def vector_keys() -> EnvKeyProvider:
    provider = EnvKeyProvider(KEYS)
    configure(provider)
    return provider


def test_field_seal_reproduces_vector() -> None:
    provider = EnvKeyProvider(KEYS, rng=scripted(WRAP_NONCE))
    assert _seal(FIELD_PT, FIELD_CTX, provider, scripted(DEK + CONTENT_NONCE)) == FIELD_VECTOR


def test_field_vector_opens(vector_keys: EnvKeyProvider) -> None:
    assert open_(FIELD_VECTOR, FIELD_CTX) == FIELD_PT
    assert open_text(FIELD_VECTOR, FIELD_CTX) == FIELD_PT.decode()
    assert key_version_of(FIELD_VECTOR) == ("vec", 7)


def test_field_vector_decodes_by_the_documented_layout_with_raw_aesgcm() -> None:
    """An independent reader written from the spec, not from the code."""
    b = FIELD_VECTOR
    assert b[:4] == b"TWF\x01"
    kid_len = b[4]
    kid = b[5 : 5 + kid_len]
    pos = 5 + kid_len
    (version, wlen) = struct.unpack(">IH", b[pos : pos + 6])
    pos += 6
    wrapped = b[pos : pos + wlen]
    pos += wlen
    nonce, ct = b[pos : pos + 12], b[pos + 12 :]
    assert (kid, version, wlen) == (b"vec", 7, 60)
    wrap_ad = b"TWF\x01K" + bytes([kid_len]) + kid + struct.pack(">I", version) + ctx_bytes(FIELD_CTX)
    dek = AESGCM(KEK).decrypt(wrapped[:12], wrapped[12:], wrap_ad)
    assert dek == DEK
    assert AESGCM(dek).decrypt(nonce, ct, b"TWF\x01D" + ctx_bytes(FIELD_CTX)) == FIELD_PT


def test_file_encrypt_reproduces_vector() -> None:
    provider = EnvKeyProvider(KEYS, rng=scripted(WRAP_NONCE))
    out = io.BytesIO()
    _encrypt_stream(io.BytesIO(FILE_PT), out, FILE_CTX, provider, scripted(DEK + FILE_PREFIX), 16)
    assert out.getvalue() == FILE_VECTOR


def test_file_vector_opens(vector_keys: EnvKeyProvider) -> None:
    assert b"".join(decrypt_stream(io.BytesIO(FILE_VECTOR), FILE_CTX)) == FILE_PT
    assert key_version_of(FILE_VECTOR) == ("vec", 7)


def test_file_vector_decodes_by_the_documented_layout_with_raw_aesgcm() -> None:
    b = FILE_VECTOR
    assert b[:4] == b"TWS\x01"
    kid_len = b[4]
    kid = b[5 : 5 + kid_len]
    pos = 5 + kid_len
    version, wlen = struct.unpack(">IH", b[pos : pos + 6])
    pos += 6
    wrapped = b[pos : pos + wlen]
    pos += wlen
    (segment_size,) = struct.unpack(">I", b[pos : pos + 4])
    prefix = b[pos + 4 : pos + 11]
    body = b[pos + 11 :]
    wrap_ad = b"TWS\x01K" + bytes([kid_len]) + kid + struct.pack(">I", version) + ctx_bytes(FILE_CTX)
    aead = AESGCM(AESGCM(KEK).decrypt(wrapped[:12], wrapped[12:], wrap_ad))
    seg_ad = b"TWS\x01S" + struct.pack(">I", segment_size) + ctx_bytes(FILE_CTX)
    sizes = [16 + 16, 16 + 16, 8 + 16]
    assert len(body) == sum(sizes) and segment_size == 16
    out, off = b"", 0
    for i, size in enumerate(sizes):
        tail = struct.pack(">I", i) + bytes([i == len(sizes) - 1])
        out += aead.decrypt(prefix + tail, body[off : off + size], seg_ad + tail)
        off += size
    assert out == FILE_PT
