"""Coming back with a receipt: one Argon2id per attempt whatever happens, wrong and purged
receipts answered alike, guessing throttled without remembering who guessed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from clearance.auth import passwords
from clearance.db import db
from dialogue.consult import receipt, service
from dialogue.consult.models import ConsultCase
from tests.consult.conftest import CSRF, Visitor, said


@pytest.fixture
def argon2_calls(monkeypatch):
    """Every Argon2 verification the process runs, whoever asks for it."""
    from argon2 import PasswordHasher

    calls = []
    real = PasswordHasher.verify

    def verify(self, hash, password):
        calls.append("burn" if hash == passwords._DUMMY.get("fast") else "verify")
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return calls


def _normalised(html: str) -> str:
    return CSRF.sub('name="csrf_token" value="…"', html)


def _attempt_and_page(app, typed: str) -> tuple[int, str, str]:
    v = Visitor(app.test_client())
    resp = v.open(typed)
    page = v.get(resp.headers["Location"], follow_redirects=True)
    return resp.status_code, resp.headers["Location"], _normalised(page.get_data(as_text=True))


@pytest.mark.parametrize("typed", ["right", "wrong", "malformed", "empty"])
def test_every_attempt_costs_exactly_one_argon2_verification(desk_app, argon2_calls, typed):
    code = Visitor(desk_app.test_client()).new_case()
    argon2_calls.clear()
    value = {"right": code, "wrong": "9" * 25 if code != "9" * 25 else "8" * 25, "malformed": "12-34", "empty": ""}[typed]
    Visitor(desk_app.test_client()).open(value)
    assert len(argon2_calls) == 1


def test_lookup_is_by_keyed_id_not_a_scan(desk_app, argon2_calls):
    for _ in range(5):
        Visitor(desk_app.test_client()).new_case()
    argon2_calls.clear()
    Visitor(desk_app.test_client()).open("1" * 25)
    assert argon2_calls == ["burn"], "no verification against any of the five cases"


def test_wrong_and_right_but_purged_receipts_get_the_same_answer(desk_app, desk_officer):
    purged_code = Visitor(desk_app.test_client()).new_case()
    with desk_app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        service.purge_case(db.session, case, "test")
        db.session.commit()
    wrong = "1234512345123451234512345"
    assert _attempt_and_page(desk_app, wrong) == _attempt_and_page(desk_app, purged_code)
    status, location, page = _attempt_and_page(desk_app, wrong)
    assert status == 303 and location.endswith("/consult/case")
    assert said(page, "That receipt number was not recognised. Check the digits and try again.")


def test_right_and_wrong_receipts_answer_the_post_alike(desk_app):
    code = Visitor(desk_app.test_client()).new_case()
    right, wrong = Visitor(desk_app.test_client()), Visitor(desk_app.test_client())
    a, b = right.open(code), wrong.open("5" * 25)
    assert (a.status_code, a.headers["Location"]) == (b.status_code, b.headers["Location"])
    assert ("taiwa_desk=" in a.headers["Set-Cookie"]) and ("taiwa_desk=" in b.headers["Set-Cookie"])
    assert a.get_data() == b.get_data()


def test_wrong_receipts_are_throttled_per_client_and_then_even_the_right_one_waits(app_factory, tmp_path):
    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(tmp_path / "f"),
                      TAIWA_CONSULT_RECEIPT_FAILURES_PER_CLIENT=3)
    code = Visitor(app.test_client()).new_case()
    guesser = Visitor(app.test_client())
    for n in range(3):
        assert guesser.open(f"{n}" * 25).status_code == 303
    locked = guesser.open("7" * 25)
    assert locked.status_code == 429
    right = guesser.open(code)
    assert right.status_code == 429, "a right receipt is not even checked while locked: no oracle"
    assert _normalised(locked.get_data(as_text=True)) == _normalised(right.get_data(as_text=True))


def test_throttling_counts_everyone_together_too(app_factory, tmp_path):
    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(tmp_path / "f"),
                      TAIWA_CONSULT_RECEIPT_FAILURES_GLOBAL=4, TAIWA_PROXY_COUNT=1)
    for n in range(4):
        v = Visitor(app.test_client(), headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert v.open(f"{n}" * 25).status_code == 303
    fresh = Visitor(app.test_client(), headers={"X-Forwarded-For": "198.51.100.99"})
    assert fresh.open("8" * 25).status_code == 429


def test_throttle_keys_are_keyed_hashes_that_change_every_day(desk_app, frozen):
    from dialogue.consult import limits

    lim = limits.MemoryLimiter()
    today = lim.client_key("192.0.2.10")
    assert "192.0.2.10" not in today and len(today) == 32
    assert lim.client_key("192.0.2.10") == today
    frozen.advance(days=1)
    assert lim.client_key("192.0.2.10") != today, "yesterday's key is gone: old counters link to nobody"


def test_submissions_are_limited_per_client(app_factory, tmp_path):
    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(tmp_path / "f"),
                      TAIWA_CONSULT_SUBMITS_PER_CLIENT=2)
    v = Visitor(app.test_client())
    assert v.submit("one").status_code == 200
    assert v.submit("two").status_code == 200
    third = v.submit("three, kept on the page")
    assert third.status_code == 429 and "three, kept on the page" in third.get_data(as_text=True)


def test_honeypot_refuses_bots_and_keeps_the_text_for_humans(visitor, desk_app):
    resp = visitor.submit("I am a bot", website="http://spam.example")
    assert resp.status_code == 400
    assert "I am a bot" in resp.get_data(as_text=True)
    with desk_app.app_context():
        assert db.session.execute(select(ConsultCase)).first() is None


def test_a_form_sent_too_fast_is_refused(app_factory, tmp_path):
    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=30, TAIWA_FILES_DIR=str(tmp_path / "f"))
    resp = Visitor(app.test_client()).submit("instant")
    assert resp.status_code == 400 and "instant" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(ConsultCase)).first() is None


def test_a_tampered_form_token_is_refused(visitor):
    html = visitor.get("/consult/new").get_data(as_text=True)
    resp = visitor.post("/consult/new", {"csrf_token": CSRF.search(html).group(1), "form_token": "forged.token.x",
                                         "category": "other", "text": "x"})
    assert resp.status_code == 400


def test_sending_the_same_form_twice_creates_one_case(visitor, desk_app):
    html = visitor.get("/consult/new").get_data(as_text=True)
    data = {"csrf_token": CSRF.search(html).group(1),
            "form_token": re.search(r'name="form_token" type="hidden" value="([^"]+)"', html).group(1),
            "category": "other", "text": "once"}
    assert visitor.post("/consult/new", data).status_code == 200
    again = visitor.post("/consult/new", data)
    assert again.status_code == 303 and again.headers["Location"].endswith("/consult/open")
    with desk_app.app_context():
        assert len(db.session.execute(select(ConsultCase)).all()) == 1


def test_receipt_is_never_stored_or_logged(visitor, desk_app, caplog, db_url):
    code = visitor.new_case()
    visitor.open(code)
    assert code not in caplog.text
    with desk_app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        assert code not in case.receipt_hash and code not in case.lookup_id
        pep = receipt.pepper(db.session)
        assert case.lookup_id == receipt.lookup_id(pep, code)
