"""Field envelope: round trips, binding to row/column/level, tamper detection."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.crypto import (
    Context,
    DecryptionError,
    EnvKeyProvider,
    FileKeyProvider,
    KeyUnavailable,
    configure,
    key_version_of,
    open_,
    open_text,
    rewrap,
    seal,
    seal_text,
)
from clearance.crypto.envelope import parse_header

ROW_A = "11111111-1111-4111-8111-111111111111"
ROW_B = "22222222-2222-4222-8222-222222222222"
CTX = Context("minutes", "body", ROW_A, 1)


def test_round_trip_bytes_and_text() -> None:
    assert open_(seal(b"\x00secret\xff", CTX), CTX) == b"\x00secret\xff"
    assert open_text(seal_text("議事録 minutes", CTX), CTX) == "議事録 minutes"


def test_empty_plaintext_round_trips() -> None:
    assert open_(seal(b"", CTX), CTX) == b""
    assert open_text(seal_text("", CTX), CTX) == ""


def test_same_plaintext_twice_gives_different_ciphertexts() -> None:
    assert seal(b"x", CTX) != seal(b"x", CTX)


@pytest.mark.parametrize(
    "other",
    [
        Context("minutes", "body", ROW_B, 1),  # copied to another row
        Context("minutes", "summary", ROW_A, 1),  # another column
        Context("briefing", "body", ROW_A, 1),  # another table
    ],
    ids=["row", "column", "table"],
)
def test_ciphertext_copied_elsewhere_fails(other: Context) -> None:
    with pytest.raises(DecryptionError):
        open_(seal(b"secret", CTX), other)


@pytest.mark.parametrize("level", [0, 1])
def test_lowered_level_fails(level: int) -> None:
    blob = seal(b"top", Context("minutes", "body", ROW_A, 2))
    with pytest.raises(DecryptionError):
        open_(blob, Context("minutes", "body", ROW_A, level))


def test_raised_level_fails_too() -> None:
    with pytest.raises(DecryptionError):
        open_(seal(b"x", Context("minutes", "body", ROW_A, 0)), Context("minutes", "body", ROW_A, 2))


def test_wrapped_dek_transplanted_to_another_record_fails() -> None:
    ctx_b = Context("minutes", "body", ROW_B, 1)
    a, b = seal(b"aaaa", CTX), seal(b"bbbb", ctx_b)
    _, _, end_a = parse_header(a, b"TWF\x01")
    _, _, end_b = parse_header(b, b"TWF\x01")
    # header (with wrapped DEK) of A + content of B, opened in either place
    spliced = a[:end_a] + b[end_b:]
    for ctx in (CTX, ctx_b):
        with pytest.raises(DecryptionError):
            open_(spliced, ctx)


def test_every_single_bit_flip_is_detected() -> None:
    blob = seal(b"sixteen byte msg", CTX)
    for i in range(len(blob) * 8):
        tampered = bytearray(blob)
        tampered[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecryptionError):
            open_(bytes(tampered), CTX)


def test_every_truncation_and_extension_is_detected() -> None:
    blob = seal(b"payload", CTX)
    for n in range(len(blob)):
        with pytest.raises(DecryptionError):
            open_(blob[:n], CTX)
    with pytest.raises(DecryptionError):
        open_(blob + b"\x00", CTX)


def test_unknown_key_version_fails_with_decryption_error() -> None:
    blob = seal(b"x", CTX)
    (kid, ver), _, _ = parse_header(blob, b"TWF\x01")
    pos = 5 + len(kid)
    bumped = blob[:pos] + (ver + 41).to_bytes(4, "big") + blob[pos + 4 :]
    with pytest.raises(DecryptionError, match="v42 is not available"):
        open_(bumped, CTX)


def test_ciphertext_from_other_keys_fails_with_decryption_error() -> None:
    blob = seal(b"x", CTX)
    configure(EnvKeyProvider("*main:1:" + base64.b64encode(bytes(32)).decode()))
    with pytest.raises(DecryptionError):
        open_(blob, CTX)


def test_error_messages_carry_no_plaintext_or_key(provider: FileKeyProvider) -> None:
    secret = b"PLAINTEXT-MARKER"
    tampered = bytearray(seal(secret, CTX))
    tampered[-1] ^= 1
    kek = provider.get(*provider.current())
    failures = [(bytes(tampered), CTX), (seal(secret, CTX), Context("minutes", "body", ROW_B, 1))]
    for blob, ctx in failures:
        with pytest.raises(DecryptionError) as info:
            open_(blob, ctx)
        text = str(info.value) + repr(info.value)
        assert "PLAINTEXT" not in text
        assert kek.hex() not in text and base64.b64encode(kek).decode() not in text
        assert info.value.__cause__ is None  # no chained cryptography internals


def test_non_blob_input_is_a_decryption_error() -> None:
    for junk in (b"", b"TWF", b"TWF\x02" + bytes(100), b"hello world" * 10):
        with pytest.raises(DecryptionError):
            open_(junk, CTX)


def test_100000_seals_never_repeat_a_nonce_or_data_key(provider: FileKeyProvider) -> None:
    content_nonces, wrap_nonces, wrapped_keys = set(), set(), set()
    n = 100_000
    for _ in range(n):
        blob = seal(b"", CTX)
        _, wrapped, pos = parse_header(blob, b"TWF\x01")
        wrap_nonces.add(wrapped[:12])  # the nonce under the shared KEK: the one that must never repeat
        wrapped_keys.add(wrapped[12:44])
        content_nonces.add(blob[pos : pos + 12])
    assert len(wrap_nonces) == n
    assert len(content_nonces) == n
    assert len(wrapped_keys) == n


def test_rewrap_is_idempotent_when_current() -> None:
    blob = seal(b"x", CTX)
    assert rewrap(blob, CTX) == blob


def test_rewrap_moves_to_current_version_without_touching_content(provider: FileKeyProvider) -> None:
    blob = seal(b"content", CTX)
    old = key_version_of(blob)
    new_ref = provider.add_version()
    moved = rewrap(blob, CTX)
    assert key_version_of(moved) == new_ref != old
    _, _, end_old = parse_header(blob, b"TWF\x01")
    _, _, end_new = parse_header(moved, b"TWF\x01")
    assert moved[end_new:] == blob[end_old:]  # nonce and content ciphertext unchanged
    assert open_(moved, CTX) == b"content"
    assert rewrap(moved, CTX) == moved


def test_rewrap_with_wrong_context_fails(provider: FileKeyProvider) -> None:
    blob = seal(b"x", CTX)
    provider.add_version()
    with pytest.raises(DecryptionError):
        rewrap(blob, Context("minutes", "body", ROW_B, 1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"level": 3},
        {"level": -1},
        {"level": True},
        {"row_id": ""},
        {"table": ""},
        {"column": 5},
    ],
)
def test_invalid_context_is_refused(kwargs: dict) -> None:
    args = {"table": "t", "column": "c", "row_id": ROW_A, "level": 0} | kwargs
    with pytest.raises(ValueError):
        Context(**args)


def test_seal_type_errors() -> None:
    with pytest.raises(TypeError):
        seal("text", CTX)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        seal_text(b"bytes", CTX)  # type: ignore[arg-type]


def test_unconfigured_module_raises_key_unavailable() -> None:
    configure(None)
    with pytest.raises(KeyUnavailable, match="configure"):
        seal(b"x", CTX)


contexts = st.builds(
    Context,
    table=st.text(min_size=1, max_size=20),
    column=st.text(min_size=1, max_size=20),
    row_id=st.uuids().map(str),
    level=st.integers(0, 2),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.binary(max_size=2048), ctx=contexts, other=contexts)
def test_property_round_trip_and_context_binding(data: bytes, ctx: Context, other: Context) -> None:
    blob = seal(data, ctx)
    assert open_(blob, ctx) == data
    if other != ctx:
        with pytest.raises(DecryptionError):
            open_(blob, other)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.binary(max_size=256), ctx=contexts, where=st.integers(min_value=0), bit=st.integers(0, 7))
def test_property_any_bit_flip_is_detected(data: bytes, ctx: Context, where: int, bit: int) -> None:
    blob = bytearray(seal(data, ctx))
    blob[where % len(blob)] ^= 1 << bit
    with pytest.raises(DecryptionError):
        open_(bytes(blob), ctx)
