"""clearance.crypto.keyed: standard primitives under a caller's key, checked against published vectors.

The consultation desk's receipts and sessions are stored in these formats, so
the vectors pin exactly what the functions compute.
"""

from __future__ import annotations

import pytest

from clearance import crypto

# RFC 4231, test case 2
HMAC_KEY, HMAC_DATA = b"Jefe", b"what do ya want for nothing?"
HMAC_SHA256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

# RFC 5869, test case 1 (SHA-256)
HKDF_IKM, HKDF_SALT, HKDF_INFO = b"\x0b" * 22, bytes(range(13)), bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
HKDF_OKM = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"

# The GCM specification (McGrew & Viega), test case 16: AES-256, 96-bit IV, with associated data
GCM_KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
GCM_IV = bytes.fromhex("cafebabefacedbaddecaf888")
GCM_AD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_PT = bytes.fromhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                       "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
GCM_CT = bytes.fromhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                       "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
GCM_TAG = bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")


def test_keyed_hash_is_hmac_sha256() -> None:
    assert crypto.keyed_hash(HMAC_KEY, HMAC_DATA).hex() == HMAC_SHA256


def test_derive_key_is_hkdf_sha256() -> None:
    assert crypto.derive_key(HKDF_IKM, HKDF_INFO, salt=HKDF_SALT, length=42).hex() == HKDF_OKM
    assert len(crypto.derive_key(b"token", b"purpose")) == 32
    assert crypto.derive_key(b"token", b"one") != crypto.derive_key(b"token", b"two")


def test_a_sealed_blob_is_nonce_then_standard_aes_256_gcm() -> None:
    assert crypto.open_with_key(GCM_KEY, GCM_IV + GCM_CT + GCM_TAG, GCM_AD) == GCM_PT


def test_seal_and_open_round_trip_with_a_fresh_nonce() -> None:
    key = bytes(range(32))
    a, b = crypto.seal_with_key(key, b"state", b"ad"), crypto.seal_with_key(key, b"state", b"ad")
    assert a != b and len(a) == crypto.keyed.KEYED_NONCE_LEN + len(b"state") + crypto.keyed.KEYED_TAG_LEN
    assert crypto.open_with_key(key, a, b"ad") == crypto.open_with_key(key, b, b"ad") == b"state"


@pytest.mark.parametrize("how", ["other_ad", "other_key", "flipped", "truncated", "empty", "short_key"])
def test_anything_else_fails_with_one_error_and_no_internals(how: str) -> None:
    key = bytes(range(32))
    blob = crypto.seal_with_key(key, b"state", b"ad")
    args = {
        "other_ad": (key, blob, b"ad2"),
        "other_key": (bytes(32), blob, b"ad"),
        "flipped": (key, blob[:-1] + bytes([blob[-1] ^ 1]), b"ad"),
        "truncated": (key, blob[:20], b"ad"),
        "empty": (key, b"", b"ad"),
        "short_key": (key[:16], blob, b"ad"),
    }[how]
    with pytest.raises(crypto.DecryptionError) as info:
        crypto.open_with_key(*args)
    assert info.value.__cause__ is None and "InvalidTag" not in repr(info.value)


def test_same_is_equality_and_never_raises_on_odd_text() -> None:
    assert crypto.same("abc", "abc") and crypto.same(b"abc", b"abc")
    assert not crypto.same("abc", "abd") and not crypto.same("abc", "ab")
    assert not crypto.same("abc", "日本語")  # hmac.compare_digest alone raises on non-ASCII text
