"""Sign-in: password, second factor, throttling, and what the attacker learns."""

from __future__ import annotations

import pyotp

from clearance.permissions import Role
from tests.factories import audit_summaries, csrf, sign_in, totp_code


def _post_login(client, email, password):
    return client.post("/login", data={"csrf_token": csrf(client), "email": email, "password": password})


def test_login_page_is_japanese_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert "ログイン" in html


def test_officer_signs_in_with_password_and_totp_and_lands_on_overview(client, factory):
    officer = factory.person(Role.OFFICER)
    resp = sign_in(client, officer)
    assert resp.status_code == 302
    assert client.get(resp.headers["Location"]).status_code == 302  # / → /officer
    page = client.get("/officer")
    assert page.status_code == 200
    assert officer.display_name in page.get_data(as_text=True)


def test_password_alone_does_not_sign_in_staff(client, factory):
    officer = factory.person(Role.OFFICER)
    resp = _post_login(client, officer.email, officer.password)
    assert resp.headers["Location"].endswith("/login/totp")
    assert client.get("/officer").status_code == 302  # still not signed in


def test_unknown_email_and_wrong_password_get_the_same_answer(client, factory):
    officer = factory.person(Role.OFFICER)
    a = _post_login(client, "nobody@example.jp", "whatever password 1")
    b = _post_login(client, officer.email, "wrong password here")
    assert a.status_code == b.status_code == 200
    strip = lambda r: r.get_data(as_text=True).replace("nobody@example.jp", "").replace(officer.email, "")  # noqa: E731
    assert strip(a).split("<main")[1].split("csrf_token")[0] == strip(b).split("<main")[1].split("csrf_token")[0]


def test_replayed_totp_code_is_refused(app, factory):
    officer = factory.person(Role.OFFICER)
    code = totp_code(officer.totp_secret)
    first = app.test_client()
    assert sign_in(first, officer, code=code).headers["Location"].endswith("/")
    second = app.test_client()
    resp = sign_in(second, officer, code=code)
    assert resp.status_code == 200
    assert second.get("/officer").status_code == 302


def test_wrong_totp_code_is_refused_and_audited(client, factory):
    officer = factory.person(Role.OFFICER)
    good = pyotp.TOTP(officer.totp_secret).now()
    bad = f"{(int(good) + 1) % 1000000:06d}"
    resp = sign_in(client, officer, code=bad)
    assert resp.status_code == 200
    assert client.get("/officer").status_code == 302
    assert "Sign-in failed" in audit_summaries(client.application)


def test_account_locks_after_repeated_failures_even_with_right_password(client, factory, app):
    officer = factory.person(Role.OFFICER)
    for _ in range(app.config["TAIWA_LOGIN_MAX_FAILURES"]):
        _post_login(client, officer.email, "not the password at all")
    resp = _post_login(client, officer.email, officer.password)
    assert resp.status_code == 429
    assert "パスワードを再設定" in resp.get_data(as_text=True)  # the unlock path is offered
    assert "Sign-in locked out after repeated failures" in audit_summaries(app)


def test_unknown_email_locks_exactly_like_a_real_one(client, app):
    for _ in range(app.config["TAIWA_LOGIN_MAX_FAILURES"]):
        _post_login(client, "ghost@example.jp", "not the password at all")
    assert _post_login(client, "ghost@example.jp", "not the password at all").status_code == 429


def test_client_is_throttled_across_many_accounts(app_factory):
    app = app_factory(TAIWA_CLIENT_MAX_FAILURES=4)
    client = app.test_client()
    for i in range(4):
        _post_login(client, f"spray{i}@example.jp", "password spraying")
    assert _post_login(client, "another@example.jp", "password spraying").status_code == 429


def test_deactivated_account_cannot_sign_in(client, factory):
    person = factory.person(Role.COMPANY_MEMBER, active=False)
    resp = _post_login(client, person.email, person.password)
    assert resp.status_code == 200
    assert client.get("/portal").status_code == 302


def test_company_member_without_totp_signs_in_with_password(client, factory):
    member = factory.person(Role.COMPANY_MEMBER)
    resp = sign_in(client, member)
    assert resp.status_code == 302
    assert client.get("/portal").status_code == 200


def test_company_member_with_totp_must_give_the_code(client, factory):
    member = factory.person(Role.COMPANY_MEMBER, totp=True)
    resp = _post_login(client, member.email, member.password)
    assert resp.headers["Location"].endswith("/login/totp")


def test_open_redirect_after_login_is_refused(client, factory):
    member = factory.person(Role.COMPANY_MEMBER)
    resp = client.post(
        "/login",
        data={"csrf_token": csrf(client), "email": member.email, "password": member.password,
              "next": "//evil.example/steal"},
    )
    assert resp.headers["Location"] in ("/", "http://localhost/")


def test_sign_out_ends_the_session(client, factory):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    token = csrf(client, "/portal")
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/portal").status_code == 302
