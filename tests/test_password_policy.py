"""Password policy after NIST SP 800-63B, and Argon2id hashing."""

from __future__ import annotations

import pytest

from clearance.auth import passwords


@pytest.mark.parametrize("pw", ["short", "password1234", "Password123456!", "qwertyuiop12", "aaaaaaaaaaaaaa",
                                "abcdefghijklmn", "123456789012", "taiwataiwa12", "tanaka-hanako-2026"])
def test_refused(pw):
    assert passwords.policy_problems(pw, ("tanaka", "hanako")) != []


@pytest.mark.parametrize("pw", ["correct horse battery staple", "かえるがとびこむみずのおと", "kumo-hashi-sakura-lamp",
                                "x" * 5 + " long passphrase with words " + "é" * 3, "a" * 3 + "Zq7!rT9m@pL2"])
def test_accepted_without_composition_rules(pw):
    assert passwords.policy_problems(pw) == []


def test_long_passphrases_up_to_256_characters():
    assert passwords.policy_problems("word " * 51) == []
    assert passwords.policy_problems("word " * 52) != []


def test_full_width_and_half_width_are_the_same_password():
    stored = passwords.hash_password("ｐａｓｓｐｈｒａｓｅ for the test")
    assert passwords.verify_password(stored, "passphrase for the test")


def test_hash_is_argon2id_and_salted():
    a, b = passwords.hash_password("same passphrase here"), passwords.hash_password("same passphrase here")
    assert a.startswith("$argon2id$") and a != b
    assert not passwords.verify_password(a, "other passphrase here")
    assert not passwords.verify_password("not a hash", "x")


def test_standard_profile_meets_rfc_9106():
    h = passwords._PROFILES["standard"]
    assert h.memory_cost >= 64 * 1024 and h.time_cost >= 3
