"""Password reset by e-mail through a real local SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from clearance.auth.models import PasswordResetToken
from clearance.db import db, utcnow
from clearance.outbox import MailMessage
from clearance.permissions import Role
from tests.factories import audit_summaries, csrf, sign_in

NEW = "a brand new passphrase for spring"


def _ask(client, email):
    return client.post("/password/forgot", data={"csrf_token": csrf(client, "/password/forgot"), "email": email})


def _link(app, email) -> str:
    body = app.mailbox.last_to(email).get_content()
    return re.search(r"http://localhost(/password/reset\?token=[\w-]+)", body).group(1)


def _reset(client, path, password=NEW):
    client.get(path)
    token = csrf(client, "/password/reset")
    return client.post("/password/reset", data={"csrf_token": token, "password": password, "confirm": password})


def test_reset_link_arrives_by_smtp_and_sets_a_new_password(mail_app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    client = mail_app.test_client()
    assert _ask(client, person.email).status_code == 302
    path = _link(mail_app, person.email)
    resp = _reset(client, path)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    fresh = mail_app.test_client()
    assert sign_in(fresh, person.__class__(**{**person.__dict__, "password": NEW})).status_code == 302
    assert fresh.get("/portal").status_code == 200


def test_token_leaves_the_address_bar_at_once(mail_app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    client = mail_app.test_client()
    _ask(client, person.email)
    resp = client.get(_link(mail_app, person.email))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/password/reset")


def test_link_works_only_once(mail_app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    client = mail_app.test_client()
    _ask(client, person.email)
    path = _link(mail_app, person.email)
    _reset(client, path)
    again = mail_app.test_client()
    again.get(path)
    assert again.get("/password/reset").headers["Location"].endswith("/password/forgot")


def test_expired_link_is_refused(mail_app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    client = mail_app.test_client()
    _ask(client, person.email)
    path = _link(mail_app, person.email)
    with mail_app.app_context():
        db.session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    client.get(path)
    assert client.get("/password/reset").headers["Location"].endswith("/password/forgot")


def _settled(app, check, wait: float = 5.0):
    """Mail for password resets is delivered in the background: wait for the outbox to settle."""
    import time

    deadline = time.monotonic() + wait
    while True:
        with app.app_context():
            msg = db.session.execute(select(MailMessage)).scalar_one()
            if check(msg) or time.monotonic() > deadline:
                return msg
        time.sleep(0.05)


def test_unknown_address_gets_the_same_answer_and_no_mail(mail_app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    client = mail_app.test_client()
    resp = _ask(client, "nobody@example.jp")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    _ask(client, person.email)  # a real one afterwards, so waiting for it proves the first sent nothing
    mail_app.mailbox.last_to(person.email)
    assert [m["To"] for m in mail_app.mailbox.messages] == [person.email]


def test_weak_password_is_refused_and_the_link_still_works(mail_app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    client = mail_app.test_client()
    _ask(client, person.email)
    path = _link(mail_app, person.email)
    resp = _reset(client, path, password="password1234")
    assert resp.status_code == 400
    assert _reset(client, path).status_code == 302


def test_reset_unlocks_a_locked_account_and_ends_sessions(mail_app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    other_device = mail_app.test_client()
    sign_in(other_device, person)
    attacker = mail_app.test_client()
    for _ in range(mail_app.config["TAIWA_LOGIN_MAX_FAILURES"]):
        attacker.post("/login", data={"csrf_token": csrf(attacker), "email": person.email, "password": "guess guess guess"})
    client = mail_app.test_client()
    _ask(client, person.email)
    _reset(client, _link(mail_app, person.email))
    assert other_device.get("/portal").status_code == 302
    fresh = mail_app.test_client()
    assert sign_in(fresh, person.__class__(**{**person.__dict__, "password": NEW})).status_code == 302
    assert "Password reset completed" in audit_summaries(mail_app)


def test_mail_is_not_sent_when_the_transaction_rolls_back(mail_app):
    from clearance.outbox import enqueue

    with mail_app.app_context():
        enqueue(db.session, to="rollback@example.jp", subject="x", body="never")
        db.session.rollback()
        db.session.commit()
        assert db.session.execute(select(MailMessage)).all() == []
    assert mail_app.mailbox.messages == []


def test_sent_mail_body_is_erased_from_the_outbox(mail_app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    _ask(mail_app.test_client(), person.email)
    msg = _settled(mail_app, lambda m: m.sent_at is not None)
    assert msg.sent_at is not None and msg.body_ct is None


def test_smtp_down_keeps_the_message_for_retry(app_factory, factory):
    from tests.conftest import free_port

    app = app_factory(TAIWA_SMTP_HOST="127.0.0.1", TAIWA_SMTP_PORT=free_port())
    person = factory.person(Role.COMPANY_MEMBER)
    resp = _ask(app.test_client(), person.email)
    assert resp.status_code == 302  # the user is not punished for our mail server
    msg = _settled(app, lambda m: m.last_error is not None)
    assert msg.sent_at is None and msg.body_ct is not None and msg.last_error
