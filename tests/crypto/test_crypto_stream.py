"""Streaming files: STREAM construction, truncation/reorder/splice/extension, constant memory."""

from __future__ import annotations

import io
import os
import stat
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.crypto import (
    SEGMENT_SIZE,
    Context,
    DecryptionError,
    FileKeyProvider,
    decrypt_stream,
    encrypt_stream,
    key_version_of_file,
    rewrap_file,
)
from clearance.crypto.stream import read_file_header

SEG = 64  # small segments keep the structural tests fast; one test uses the real 1 MiB
CTX = Context("briefing_file", "content", "33333333-3333-4333-8333-333333333333", 2)


def enc(data: bytes, ctx: Context = CTX, seg: int = SEG) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, ctx, segment_size=seg)
    return out.getvalue()


def dec(blob: bytes, ctx: Context = CTX) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(blob), ctx))


def split(blob: bytes, seg: int = SEG) -> tuple[bytes, list[bytes]]:
    """(header, [segment ciphertexts])."""
    header = read_file_header(io.BytesIO(blob))[0]
    body = blob[len(header) :]
    full = seg + 16
    return header, [body[i : i + full] for i in range(0, len(body), full)]


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 5])
def test_round_trip_at_segment_boundaries(size: int) -> None:
    data = os.urandom(size)
    assert dec(enc(data)) == data


def test_round_trip_with_real_one_mib_segments() -> None:
    data = os.urandom(2 * SEGMENT_SIZE + 12345)
    blob = enc(data, seg=SEGMENT_SIZE)
    chunks = list(decrypt_stream(io.BytesIO(blob), CTX))
    assert [len(c) for c in chunks] == [SEGMENT_SIZE, SEGMENT_SIZE, 12345]
    assert b"".join(chunks) == data


def test_empty_file_works() -> None:
    blob = enc(b"")
    assert list(decrypt_stream(io.BytesIO(blob), CTX)) == []


def test_file_with_last_segment_missing_fails() -> None:
    header, segs = split(enc(os.urandom(3 * SEG + 10)))
    with pytest.raises(DecryptionError):
        dec(header + b"".join(segs[:-1]))


def test_file_cut_exactly_at_a_boundary_of_full_segments_fails() -> None:
    header, segs = split(enc(os.urandom(4 * SEG)))
    for keep in range(len(segs)):
        with pytest.raises(DecryptionError):
            dec(header + b"".join(segs[:keep]))


def test_file_truncated_at_any_byte_fails() -> None:
    blob = enc(os.urandom(2 * SEG + 7))
    for n in range(len(blob)):
        with pytest.raises(DecryptionError):
            dec(blob[:n])


def test_reordered_segments_fail() -> None:
    header, segs = split(enc(os.urandom(3 * SEG + 1)))
    segs[0], segs[1] = segs[1], segs[0]
    with pytest.raises(DecryptionError):
        dec(header + b"".join(segs))


def test_segment_spliced_from_another_file_fails() -> None:
    data = os.urandom(3 * SEG)
    h1, s1 = split(enc(data))
    _, s2 = split(enc(data))  # same plaintext, same context: only the DEK differs
    with pytest.raises(DecryptionError):
        dec(h1 + s1[0] + s2[1] + s1[2])


def test_header_spliced_onto_another_files_segments_fails() -> None:
    h1, _ = split(enc(os.urandom(2 * SEG)))
    _, s2 = split(enc(os.urandom(2 * SEG)))
    with pytest.raises(DecryptionError):
        dec(h1 + b"".join(s2))


@pytest.mark.parametrize("extra", [b"\x00", os.urandom(SEG + 16)], ids=["byte", "segment"])
def test_extended_file_fails(extra: bytes) -> None:
    with pytest.raises(DecryptionError):
        dec(enc(os.urandom(2 * SEG)) + extra)


def test_duplicated_last_segment_fails() -> None:
    header, segs = split(enc(os.urandom(2 * SEG)))
    with pytest.raises(DecryptionError):
        dec(header + b"".join(segs) + segs[-1])


def test_file_opened_in_another_context_fails_before_iteration() -> None:
    blob = enc(os.urandom(10))
    for other in (
        Context("briefing_file", "content", "44444444-4444-4444-8444-444444444444", 2),
        Context("briefing_file", "content", CTX.row_id, 1),
    ):
        with pytest.raises(DecryptionError):
            decrypt_stream(io.BytesIO(blob), other)  # raises at call time, nothing to iterate


def test_tampered_segment_raises_before_any_of_its_bytes_are_yielded() -> None:
    data = os.urandom(4 * SEG)
    blob = bytearray(enc(data))
    header, _ = split(bytes(blob))
    blob[len(header) + 2 * (SEG + 16) + 5] ^= 0x01  # inside segment 2
    received: list[bytes] = []
    with pytest.raises(DecryptionError, match="segment 2"):
        received.extend(decrypt_stream(io.BytesIO(bytes(blob)), CTX))  # extend keeps what came before the error
    assert b"".join(received) == data[: 2 * SEG]  # the two valid earlier segments only


def test_every_bit_flip_in_a_small_file_fails() -> None:
    blob = enc(os.urandom(SEG + 3))
    for i in range(len(blob) * 8):
        tampered = bytearray(blob)
        tampered[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecryptionError):
            dec(bytes(tampered))


class Trickle(io.RawIOBase):
    """A raw stream that returns at most 7 bytes per read, like a slow pipe."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        chunk = self._buf.read(min(7, len(b)))
        b[: len(chunk)] = chunk
        return len(chunk)


def test_short_reads_from_pipes_are_handled() -> None:
    data = os.urandom(3 * SEG + 9)
    out = io.BytesIO()
    encrypt_stream(Trickle(data), out, CTX, segment_size=SEG)  # type: ignore[arg-type]
    assert b"".join(decrypt_stream(Trickle(out.getvalue()), CTX)) == data  # type: ignore[arg-type]


def test_memory_stays_flat_while_streaming(tmp_path: Path) -> None:
    src = tmp_path / "plain.bin"
    with open(src, "wb") as fh:
        fh.writelines(os.urandom(SEGMENT_SIZE) for _ in range(16))
    tracemalloc.start()
    try:
        with open(src, "rb") as fin, open(tmp_path / "enc.bin", "wb") as fout:
            encrypt_stream(fin, fout, CTX)
        with open(tmp_path / "enc.bin", "rb") as fin:
            for _ in decrypt_stream(fin, CTX):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * SEGMENT_SIZE  # a 16 MiB file never needs more than a few segments


def test_rewrap_file_replaces_header_only_and_atomically(tmp_path: Path, provider: FileKeyProvider) -> None:
    data = os.urandom(3 * SEG + 1)
    path = tmp_path / "upload.enc"
    path.write_bytes(enc(data))
    os.chmod(path, 0o640)
    old_header, old_segs = split(path.read_bytes())
    old_key = key_version_of_file(path)

    new_key = provider.add_version()
    assert rewrap_file(path, CTX) is True

    new_header, new_segs = split(path.read_bytes())
    assert key_version_of_file(path) == new_key != old_key
    assert new_segs == old_segs and new_header != old_header
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name != "instance"] == ["upload.enc"]  # no temp left
    assert dec(path.read_bytes()) == data
    mtime = os.stat(path).st_mtime_ns
    assert rewrap_file(path, CTX) is False  # idempotent: already current, nothing written
    assert os.stat(path).st_mtime_ns == mtime


def test_rewrap_file_in_wrong_context_fails_and_leaves_file(tmp_path: Path, provider: FileKeyProvider) -> None:
    path = tmp_path / "upload.enc"
    path.write_bytes(enc(b"abc"))
    before = path.read_bytes()
    provider.add_version()
    with pytest.raises(DecryptionError):
        rewrap_file(path, Context("briefing_file", "content", CTX.row_id, 0))
    assert path.read_bytes() == before


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.binary(max_size=600), seg=st.integers(16, 100), cut=st.integers(min_value=1))
def test_property_round_trip_and_any_truncation_fails(data: bytes, seg: int, cut: int) -> None:
    blob = enc(data, seg=seg)
    assert dec(blob) == data
    with pytest.raises(DecryptionError):
        dec(blob[: len(blob) - 1 - (cut % len(blob))])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.binary(max_size=600), seg=st.integers(16, 100), where=st.integers(min_value=0), bit=st.integers(0, 7))
def test_property_any_bit_flip_in_a_file_fails(data: bytes, seg: int, where: int, bit: int) -> None:
    blob = bytearray(enc(data, seg=seg))
    blob[where % len(blob)] ^= 1 << bit
    with pytest.raises(DecryptionError):
        dec(bytes(blob))
