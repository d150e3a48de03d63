"""Second factor: enrolment, recovery codes, replay, and the secret at rest."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from clearance.auth import totp
from clearance.auth.models import RecoveryCode, UserAccount
from clearance.db import db
from clearance.permissions import Role
from tests.factories import csrf, sign_in, totp_code


def _enrol_secret(html: str) -> str:
    return re.search(r'id="totp-secret"><code[^>]*>([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")


def _codes(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9-]{14})</code></li>", html)


def test_new_staff_member_must_enrol_before_anything_else(client, factory):
    officer = factory.person(Role.OFFICER, totp=False)
    resp = client.post("/login", data={"csrf_token": csrf(client), "email": officer.email, "password": officer.password})
    assert resp.headers["Location"].endswith("/login/enrol")
    assert client.get("/officer").status_code == 302  # not signed in until enrolled
    page = client.get("/login/enrol").get_data(as_text=True)
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    secret = _enrol_secret(page)
    resp = client.post("/login/enrol", data={"csrf_token": csrf(client, "/login/enrol"), "code": pyotp.TOTP(secret).now()})
    codes = _codes(resp.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/officer").status_code == 200


def test_enrolment_refuses_a_wrong_code_and_keeps_the_same_secret(client, factory):
    officer = factory.person(Role.OFFICER, totp=False)
    client.post("/login", data={"csrf_token": csrf(client), "email": officer.email, "password": officer.password})
    first = _enrol_secret(client.get("/login/enrol").get_data(as_text=True))
    resp = client.post("/login/enrol", data={"csrf_token": csrf(client, "/login/enrol"), "code": "000000"})
    assert resp.status_code == 200 and _enrol_secret(resp.get_data(as_text=True)) == first
    assert client.get("/officer").status_code == 302


def test_totp_secret_is_encrypted_at_rest_and_bound_to_its_row(app, factory):
    a = factory.person(Role.OFFICER)
    b = factory.person(Role.OFFICER)
    with app.app_context():
        ua, ub = db.session.get(UserAccount, a.id), db.session.get(UserAccount, b.id)
        assert a.totp_secret.encode() not in ua.totp_secret_ct
        ub.totp_secret_ct = ua.totp_secret_ct  # an attacker copies a ciphertext to another row
        db.session.commit()
    client = app.test_client()
    resp = sign_in(client, b, code=pyotp.TOTP(a.totp_secret).now())
    assert client.get("/officer").status_code == 302, resp.status_code


def test_recovery_code_signs_in_once(client, app, factory):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    page = client.get("/account/totp").get_data(as_text=True)
    secret = _enrol_secret(page)
    resp = client.post("/account/totp", data={"csrf_token": csrf(client, "/account/totp"), "code": pyotp.TOTP(secret).now()})
    codes = _codes(resp.get_data(as_text=True))
    assert len(codes) == 10
    person = member.__class__(**{**member.__dict__, "totp_secret": secret})
    for attempt, expected in ((codes[0], 200), (codes[0].upper().replace("-", " "), 302)):
        fresh = app.test_client()
        sign_in(fresh, person, code=attempt)
        assert fresh.get("/portal").status_code == expected
    with app.app_context():
        stored = db.session.execute(select(RecoveryCode.code_hash)).scalars().all()
        assert all(h.startswith("$argon2id$") for h in stored) and codes[0] not in " ".join(stored)


def test_company_member_may_turn_totp_off_but_staff_may_not(app, factory):
    member = factory.person(Role.COMPANY_MEMBER, totp=True)
    officer = factory.person(Role.OFFICER)
    for person, stays_on in ((member, False), (officer, True)):
        client = app.test_client()
        sign_in(client, person)
        client.post("/account/totp/disable", data={"csrf_token": csrf(client, "/account/"), "current": person.password})
        with app.app_context():
            assert db.session.get(UserAccount, person.id).totp_enabled is stays_on


def test_disabling_totp_needs_the_password(app, factory):
    member = factory.person(Role.COMPANY_MEMBER, totp=True)
    client = app.test_client()
    sign_in(client, member)
    client.post("/account/totp/disable", data={"csrf_token": csrf(client, "/account/"), "current": "wrong password!!"})
    with app.app_context():
        assert db.session.get(UserAccount, member.id).totp_enabled


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "9" * 40, "' OR 1=1 --"])
def test_malformed_codes_are_refused_without_error(client, factory, code):
    officer = factory.person(Role.OFFICER)
    client.post("/login", data={"csrf_token": csrf(client), "email": officer.email, "password": officer.password})
    resp = client.post("/login/totp", data={"csrf_token": csrf(client, "/login/totp"), "code": code})
    assert resp.status_code in (200, 400)
    assert client.get("/officer").status_code == 302


def test_codes_from_neighbouring_steps_are_accepted_but_not_older():
    secret = pyotp.random_base32(32)
    t = 1_800_000_000
    gen = pyotp.TOTP(secret)
    assert totp.accept(secret, gen.at(t - 30), None, now=t) is not None
    assert totp.accept(secret, gen.at(t + 30), None, now=t) is not None
    assert totp.accept(secret, gen.at(t - 90), None, now=t) is None
    step = totp.accept(secret, gen.at(t), None, now=t)
    assert totp.accept(secret, gen.at(t), step, now=t) is None  # replay
    assert totp.accept(secret, gen.at(t - 30), step, now=t) is None  # older than the last used


def test_pending_sign_in_expires(client, factory, monkeypatch):
    officer = factory.person(Role.OFFICER)
    client.post("/login", data={"csrf_token": csrf(client), "email": officer.email, "password": officer.password})
    import clearance.auth.views as views

    monkeypatch.setattr(views, "PENDING_TTL", -1)
    resp = client.post("/login/totp", data={"csrf_token": csrf(client, "/login"), "code": totp_code(officer.totp_secret)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")


def test_full_width_digits_from_a_japanese_ime_are_understood(client, factory):
    officer = factory.person(Role.OFFICER)
    ascii_code = totp_code(officer.totp_secret)
    wide = ascii_code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    sign_in(client, officer, code=wide)
    assert client.get("/officer").status_code == 200
