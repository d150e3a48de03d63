"""Server-side sessions: opaque cookie, rotation, timeouts, sign out everywhere, Redis."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from clearance.auth.models import WebSession
from clearance.db import db, utcnow
from clearance.permissions import Role
from tests.factories import csrf, sign_in


def _cookie(client) -> str | None:
    c = client.get_cookie("taiwa_session")
    return c.value if c else None


def test_cookie_is_an_opaque_random_id_and_its_hash_is_stored(client, factory, app):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    token = _cookie(client)
    assert token and len(token) >= 43 and member.email not in token and "." not in token
    with app.app_context():
        row = db.session.get(WebSession, hashlib.sha256(token.encode()).hexdigest())
        assert row is not None and row.user_id == member.id
        assert db.session.execute(select(WebSession).where(WebSession.id_hash == token)).first() is None


def test_cookie_flags(client):
    client.get("/login")
    header = client.get("/login").headers.get("Set-Cookie") or ""
    first = client.application.test_client().get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in first and "SameSite=Lax" in first
    assert header == "" or "HttpOnly" in header


def test_secure_flag_when_served_over_tls(app):
    resp = app.test_client().get("/login", base_url="https://localhost")
    assert "Secure" in resp.headers["Set-Cookie"]
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_new_session_id_at_sign_in(client, factory):
    member = factory.person(Role.COMPANY_MEMBER)
    client.get("/login")
    before = _cookie(client)
    sign_in(client, member)
    after = _cookie(client)
    assert before and after and before != after


def test_old_session_id_is_dead_after_sign_in(app, factory):
    member = factory.person(Role.COMPANY_MEMBER)
    attacker = app.test_client()
    attacker.get("/login")
    fixated = _cookie(attacker)
    victim = app.test_client()
    victim.set_cookie("taiwa_session", fixated)
    sign_in(victim, member)
    assert victim.get("/portal").status_code == 200
    assert attacker.get("/portal").status_code == 302  # the fixated id did not become a signed-in session


def test_idle_timeout(client, factory, app):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    with app.app_context():
        db.session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
        db.session.commit()
    assert client.get("/portal").status_code == 302


def test_absolute_timeout_despite_activity(client, factory, app):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    with app.app_context():
        db.session.execute(update(WebSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1)))
        db.session.commit()
    assert client.get("/portal").status_code == 302


def test_sign_out_everywhere_ends_other_devices(app, factory):
    member = factory.person(Role.COMPANY_MEMBER)
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, member)
    sign_in(laptop, member)
    laptop.post("/account/sign-out-everywhere", data={"csrf_token": csrf(laptop, "/account/")})
    assert phone.get("/portal").status_code == 302
    assert laptop.get("/portal").status_code == 302


def test_deactivation_takes_effect_on_the_next_request(app, factory):
    member = factory.person(Role.COMPANY_MEMBER)
    client = app.test_client()
    sign_in(client, member)
    from clearance.auth.models import UserAccount

    with app.app_context():
        db.session.execute(update(UserAccount).where(UserAccount.id == member.id).values(active=False))
        db.session.commit()
    assert client.get("/portal").status_code == 302


def test_session_row_and_account_come_in_one_statement(app, factory):
    """The account is read with the session row, so a signed-in page makes one round trip for both."""
    from sqlalchemy import event

    member = factory.person(Role.COMPANY_MEMBER)
    client = app.test_client()
    sign_in(client, member)
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/account/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    account_reads = [s for s in seen if "FROM user_account" in s or "JOIN user_account" in s]
    assert account_reads and "web_session" in account_reads[0]
    assert not any("FROM user_account" in s and "web_session" not in s and "WHERE user_account.id =" in s
                   for s in seen), seen


@pytest.mark.parametrize("garbage", ["x", "a" * 5000, "../../etc/passwd", "\u00e9\u00e9", "=" * 40, ""])
def test_garbage_session_cookie_is_a_fresh_session(client, garbage):
    client.set_cookie("taiwa_session", garbage)
    assert client.get("/login").status_code == 200
    assert client.get("/officer").status_code == 302


def test_anonymous_visit_to_a_page_without_forms_stores_nothing(app):
    with app.app_context():
        before = db.session.execute(select(WebSession)).all()
    resp = app.test_client().get("/healthz")
    assert "Set-Cookie" not in resp.headers
    with app.app_context():
        assert db.session.execute(select(WebSession)).all() == before


def test_redis_store_shares_sessions_and_signs_out_everywhere(app_factory, factory):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 for the test suite (make test starts nothing for it)")
    app = app_factory(TAIWA_REDIS_URL=url)
    member = factory.person(Role.COMPANY_MEMBER)
    one, two = app.test_client(), app.test_client()
    sign_in(one, member)
    sign_in(two, member)
    assert one.get("/portal").status_code == 200
    with app.app_context():
        assert db.session.execute(select(WebSession)).all() == []  # nothing in the database
    two.post("/account/sign-out-everywhere", data={"csrf_token": csrf(two, "/account/")})
    assert one.get("/portal").status_code == 302
