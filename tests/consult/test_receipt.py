"""The receipt: enough entropy from `secrets`, typed back forgivingly, kept only as derivations."""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter

import pytest

from dialogue.consult import receipt


def test_receipt_has_at_least_80_bits_computed_from_the_generator():
    # given the generator's alphabet and length
    # then its entropy is what the module claims, and at least 80 bits
    bits = receipt.LENGTH * math.log2(len(set(receipt.ALPHABET)))
    assert len(set(receipt.ALPHABET)) == len(receipt.ALPHABET), "a repeated symbol would bias the draw"
    assert bits == pytest.approx(receipt.ENTROPY_BITS)
    assert bits >= 80


def test_receipt_is_drawn_from_secrets_uniformly(monkeypatch):
    calls = []
    real = secrets.choice

    def spy(seq):
        calls.append(seq)
        return real(seq)

    monkeypatch.setattr(secrets, "choice", spy)
    code = receipt.generate()
    assert len(code) == receipt.LENGTH and set(code) <= set(receipt.ALPHABET)
    assert len(calls) == receipt.LENGTH and all(c == receipt.ALPHABET for c in calls)


def test_digits_are_roughly_uniform_over_many_receipts():
    counts = Counter("".join(receipt.generate() for _ in range(800)))
    expected = 800 * receipt.LENGTH / 10
    chi2 = sum((counts[d] - expected) ** 2 / expected for d in receipt.ALPHABET)
    assert chi2 < 40  # 9 degrees of freedom: p < 1e-5 of failing by chance


def test_receipts_do_not_repeat():
    assert len({receipt.generate() for _ in range(5000)}) == 5000


@pytest.mark.parametrize("typed", [
    "12345 67890 12345 67890 12345", "12345-67890-12345-67890-12345", "1234567890123456789012345",
    "１２３４５　６７８９０　１２３４５　６７８９０　１２３４５", " 12345 67890 12345 67890 12345\n",
])
def test_receipt_is_accepted_as_people_type_it(typed):
    assert receipt.normalise(typed) == "1234567890123456789012345"


@pytest.mark.parametrize("typed", ["", None, "1234", "12345 67890 12345 67890 1234X", "9" * 26, "1" * 200, "一二三"])
def test_anything_else_is_not_a_receipt(typed):
    assert receipt.normalise(typed) is None


def test_display_groups_five_by_five():
    assert receipt.display("1234567890123456789012345") == "12345 67890 12345 67890 12345"


def test_lookup_id_depends_on_the_pepper_and_hides_the_receipt():
    code = receipt.generate()
    p1, p2 = os.urandom(32), os.urandom(32)
    assert receipt.lookup_id(p1, code) == receipt.lookup_id(p1, code)
    assert receipt.lookup_id(p1, code) != receipt.lookup_id(p2, code)
    assert code not in receipt.lookup_id(p1, code)
    assert len(receipt.lookup_id(p1, code)) == 32


def test_verifier_is_argon2id_of_the_peppered_receipt(app):
    with app.app_context():
        pep, code = os.urandom(32), receipt.generate()
        stored = receipt.hash_receipt(pep, code)
        assert stored.startswith("$argon2id$")
        assert code not in stored
        assert receipt.verify_receipt(pep, code, stored)
        assert not receipt.verify_receipt(os.urandom(32), code, stored), "without the pepper the hash is useless"
        assert not receipt.verify_receipt(pep, receipt.generate(), stored)


def test_case_key_opens_only_with_the_right_receipt_and_case():
    pep, code, key = os.urandom(32), receipt.generate(), os.urandom(32)
    wrapped = receipt.wrap_case_key(pep, code, "case-1", key)
    assert receipt.unwrap_case_key(pep, code, "case-1", wrapped) == key
    assert receipt.unwrap_case_key(pep, receipt.generate(), "case-1", wrapped) is None
    assert receipt.unwrap_case_key(pep, code, "case-2", wrapped) is None, "a wrapped key copied to another case fails"
    assert receipt.unwrap_case_key(os.urandom(32), code, "case-1", wrapped) is None
