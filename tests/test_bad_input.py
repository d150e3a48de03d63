"""Bad input gets a clear answer (400/403/413), never a 500, and loses nothing saved."""

from __future__ import annotations

import pytest

from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.permissions import Role
from tests.factories import csrf, sign_in


@pytest.mark.parametrize("field,value", [("email", "a" * 10_000), ("password", "p" * 10_000), ("email", ""),
                                         ("email", "not an email"), ("password", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"))])
def test_login_with_overlong_or_malformed_fields(client, field, value):
    data = {"csrf_token": csrf(client), "email": "a@example.jp", "password": "whatever password"}
    data[field] = value
    resp = client.post("/login", data=data)
    assert resp.status_code in (200, 400)
    assert "ログイン" in resp.get_data(as_text=True) or resp.status_code == 400


def test_body_larger_than_the_limit_is_413(client):
    resp = client.post("/login", data={"csrf_token": csrf(client), "email": "x" * (3 * 1024 * 1024)})
    assert resp.status_code == 413


def test_missing_csrf_token_gets_a_clear_message(client):
    resp = client.post("/login", data={"email": "a@example.jp", "password": "p"})
    assert resp.status_code == 400
    assert "フォーム" in resp.get_data(as_text=True) or "form" in resp.get_data(as_text=True)


def test_json_clients_get_json_errors(client):
    resp = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert resp.status_code == 404 and resp.json["error"] == 404


def test_wrong_types_in_forms(client, factory, app):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    token = csrf(client, "/account/")
    resp = client.post("/account/preferences", data={"csrf_token": token, "display_name": "", "locale": "xx"})
    assert resp.status_code == 400
    resp = client.post("/account/preferences", data={"csrf_token": token, "display_name": "n" * 500, "locale": "ja"})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.get(UserAccount, member.id).display_name == member.display_name  # nothing lost


def test_unknown_locale_is_refused_with_a_message(client):
    token = csrf(client)
    resp = client.post("/language", data={"csrf_token": token, "locale": "klingon", "next": "/login"})
    assert resp.status_code == 302
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="ja"' in page and "English" in page


def test_language_switch_does_not_redirect_off_site(client):
    resp = client.post("/language", data={"csrf_token": csrf(client), "locale": "en", "next": "https://evil.example/"})
    assert resp.headers["Location"].endswith("/login")


def test_method_not_allowed_is_405_not_500(client):
    assert client.put("/login").status_code == 405


def test_nul_bytes_are_a_clean_400(client):
    assert client.get("/login?next=%00").status_code == 400
    assert client.post("/login", data={"csrf_token": csrf(client), "email": "a\x00@example.jp", "password": "x"}).status_code == 400


def test_change_password_with_wrong_current_keeps_the_old_one(client, factory, app):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    token = csrf(client, "/account/")
    resp = client.post("/account/password", data={"csrf_token": token, "current": "not my password",
                                                  "password": "another long passphrase", "confirm": "another long passphrase"})
    assert resp.status_code == 400
    fresh = app.test_client()
    assert sign_in(fresh, member).status_code == 302
