"""Key providers: the dev key file, TAIWA_KEYS, load_provider, the KMS hook."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from clearance.crypto import (
    Context,
    DecryptionError,
    EnvKeyProvider,
    ExternalKmsProvider,
    FileKeyProvider,
    KeyUnavailable,
    KeyVersion,
    configure,
    ensure_dev_keyfile,
    key_version_of,
    load_provider,
    open_,
    seal,
)

CTX = Context("t", "c", "55555555-5555-4555-8555-555555555555", 0)


def key_b64(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * 32).decode()


def test_dev_keyfile_is_created_0600_with_one_current_version(tmp_path: Path) -> None:
    path = tmp_path / "inst" / "keys.json"
    assert ensure_dev_keyfile(path) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    provider = FileKeyProvider(path)
    assert provider.current() == ("main", 1)
    assert [(v.key_id, v.version, v.current) for v in provider.versions()] == [("main", 1, True)]
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]  # no temp file left behind


def test_dev_keyfile_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ensure_dev_keyfile(path)
    before = path.read_bytes()
    assert ensure_dev_keyfile(path) is False
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o601])
def test_key_file_accessible_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "keys.json"
    ensure_dev_keyfile(path)
    os.chmod(path, mode)
    with pytest.raises(KeyUnavailable, match=f"chmod 600 {path}"):
        FileKeyProvider(path)


def test_missing_key_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable, match="not found.*Restore it from backup"):
        FileKeyProvider(tmp_path / "nope.json")


def test_malformed_key_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ensure_dev_keyfile(path)
    doc = json.loads(path.read_text())
    secret = doc["keys"][0]["key"]
    doc["keys"][0]["key"] = secret[:-8]  # wrong length
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyUnavailable) as info:
        FileKeyProvider(path)
    assert secret[:20] not in str(info.value)


def test_add_version_makes_it_current_and_old_records_still_open(provider: FileKeyProvider) -> None:
    old_blob = seal(b"old", CTX)
    assert provider.add_version() == ("main", 2)
    new_blob = seal(b"new", CTX)
    assert key_version_of(new_blob) == ("main", 2)
    assert open_(old_blob, CTX) == b"old" and open_(new_blob, CTX) == b"new"


def test_a_second_worker_sees_a_version_added_by_another(key_file: Path, provider: FileKeyProvider) -> None:
    other_worker = FileKeyProvider(key_file, refresh_interval=3600)
    provider.add_version()
    blob = seal(b"from worker 1", CTX)  # wrapped under v2, unknown to other_worker's cache
    configure(other_worker)
    assert open_(blob, CTX) == b"from worker 1"  # reloads the key file on an unknown version


def test_retire_deletes_key_material_and_numbers_are_never_reused(key_file: Path, provider: FileKeyProvider) -> None:
    blob = seal(b"x", CTX)
    provider.add_version()
    provider.retire("main", 1)
    doc = json.loads(key_file.read_text())
    assert doc["keys"][0]["key"] is None and "retired_at" in doc["keys"][0]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with pytest.raises(DecryptionError, match="main v1 is not available"):
        open_(blob, CTX)
    assert provider.add_version() == ("main", 3)
    assert [v.retired for v in provider.versions()] == [True, False, False]


def test_current_version_cannot_be_retired(provider: FileKeyProvider) -> None:
    with pytest.raises(KeyUnavailable, match="current"):
        provider.retire("main", 1)


def test_env_keys_star_marks_current() -> None:
    p = EnvKeyProvider(f"main:1:{key_b64(1)}, *main:2:{key_b64(2)},main:3:{key_b64(3)}")
    assert p.current() == ("main", 2)
    assert p.get("main", 3) == bytes([3]) * 32


def test_env_keys_without_star_use_highest_version() -> None:
    assert EnvKeyProvider(f"main:1:{key_b64(1)}\nmain:4:{key_b64(4)}").current() == ("main", 4)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "main:1",
        f"main:x:{key_b64(1)}",
        f"main:0:{key_b64(1)}",
        "main:1:" + base64.b64encode(b"short").decode(),
        "main:1:not*base64",
        f"*main:1:{key_b64(1)},*main:2:{key_b64(2)}",
        f"a:1:{key_b64(1)},b:1:{key_b64(2)}",
        f"main:1:{key_b64(1)},main:1:{key_b64(2)}",
        f"bad id:1:{key_b64(1)}",
    ],
)
def test_bad_env_keys_are_refused_without_echoing_keys(spec: str) -> None:
    with pytest.raises(KeyUnavailable) as info:
        EnvKeyProvider(spec)
    assert key_b64(1) not in str(info.value) and key_b64(2) not in str(info.value)


def test_load_provider_prefers_taiwa_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAIWA_KEYS", f"*env:9:{key_b64(9)}")
    provider = load_provider({"TAIWA_KEY_FILE": str(tmp_path / "absent.json")})
    assert isinstance(provider, EnvKeyProvider) and provider.current() == ("env", 9)


def test_load_provider_uses_the_key_file(monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
    monkeypatch.delenv("TAIWA_KEYS", raising=False)
    assert isinstance(load_provider({"TAIWA_KEY_FILE": str(key_file)}), FileKeyProvider)


@pytest.mark.parametrize("create", [None, False, "0", "false"])
def test_load_provider_refuses_to_start_without_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, create: object
) -> None:
    monkeypatch.delenv("TAIWA_KEYS", raising=False)
    missing = tmp_path / "keys.json"
    with pytest.raises(KeyUnavailable, match=str(missing)):
        load_provider({"TAIWA_KEY_FILE": str(missing), "TAIWA_CREATE_DEV_KEYS": create})
    assert not missing.exists()


def test_load_provider_creates_dev_keys_only_when_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TAIWA_KEYS", raising=False)
    path = tmp_path / "instance" / "keys.json"
    provider = load_provider({"TAIWA_KEY_FILE": str(path), "TAIWA_CREATE_DEV_KEYS": True})
    assert isinstance(provider, FileKeyProvider) and stat.S_IMODE(os.stat(path).st_mode) == 0o600


class FakeKms(ExternalKmsProvider):
    """Stands in for a remote KMS: holds its keys 'elsewhere' and exposes only wrap/unwrap."""

    def __init__(self) -> None:
        self._remote = EnvKeyProvider(f"*kms-key:1:{key_b64(7)}")
        self.calls: list[str] = []

    def current(self) -> tuple[str, int]:
        return ("kms-key", 1)

    def versions(self) -> list[KeyVersion]:
        return [KeyVersion("kms-key", 1, current=True)]

    def wrap_dek(self, dek: bytes, key_id: str, version: int, ad: bytes) -> bytes:
        self.calls.append("wrap")
        return self._remote.wrap_dek(dek, key_id, version, ad)

    def unwrap_dek(self, wrapped: bytes, key_id: str, version: int, ad: bytes) -> bytes:
        self.calls.append("unwrap")
        return self._remote.unwrap_dek(wrapped, key_id, version, ad)


def test_kms_hook_wraps_and_unwraps_through_the_subclass() -> None:
    kms = FakeKms()
    configure(kms)
    blob = seal(b"via kms", CTX)
    assert open_(blob, CTX) == b"via kms"
    assert kms.calls == ["wrap", "unwrap"]
    assert not hasattr(kms, "get")  # a KMS provider never hands out a raw KEK


def test_kms_base_class_requires_wrap_and_unwrap() -> None:
    with pytest.raises(TypeError):
        ExternalKmsProvider()  # type: ignore[abstract]


def test_configure_rejects_objects_that_are_not_providers() -> None:
    with pytest.raises(TypeError):
        configure(object())  # type: ignore[arg-type]
