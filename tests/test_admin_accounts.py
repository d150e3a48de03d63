"""Account administration: administrators manage all, company admins only their own company."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.permissions import Role
from tests.factories import audit_summaries, csrf, sign_in


def _signed_in(app, person):
    client = app.test_client()
    assert sign_in(client, person).status_code == 302
    return client


def _create(client, **fields):
    data = {"csrf_token": csrf(client, "/admin/accounts/new"), "display_name": "新規 花子", "email": "new@example.jp",
            "role": "officer", "company_id": "", "department": ""}
    data.update(fields)
    return client.post("/admin/accounts/new", data=data)


def test_admin_creates_staff_account_and_a_set_password_mail_is_sent(mail_app, factory):
    admin = factory.person(Role.ADMIN)
    client = _signed_in(mail_app, admin)
    resp = _create(client)
    assert resp.status_code == 302
    body = mail_app.mailbox.last_to("new@example.jp").get_content()
    assert re.search(r"/password/reset\?token=", body)
    assert "Account created" in audit_summaries(mail_app)


def test_company_role_needs_a_company_and_staff_role_none(app, factory):
    admin = factory.person(Role.ADMIN)
    client = _signed_in(app, admin)
    resp = _create(client, role="company_member", company_id="")
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.execute(select(UserAccount).where(UserAccount.email == "new@example.jp")).first() is None


def test_duplicate_email_gets_a_clear_message(app, factory):
    admin = factory.person(Role.ADMIN)
    other = factory.person(Role.OFFICER)
    client = _signed_in(app, admin)
    resp = _create(client, email=other.email)
    assert resp.status_code == 400


def test_company_admin_sees_only_their_company(app, factory):
    ca = factory.person(Role.COMPANY_ADMIN)
    colleague = factory.person(Role.COMPANY_MEMBER, company_id=ca.company_id)
    stranger = factory.person(Role.COMPANY_MEMBER)
    officer = factory.person(Role.OFFICER)
    client = _signed_in(app, ca)
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert colleague.email in page and stranger.email not in page and officer.email not in page
    for target in (stranger, officer):
        assert client.get(f"/admin/accounts/{target.id}").status_code == 404
        token = csrf(client, "/admin/accounts")
        assert client.post(f"/admin/accounts/{target.id}/deactivate", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(UserAccount, stranger.id).active


def test_company_admin_cannot_grant_ministry_roles_or_other_companies(app, factory):
    ca = factory.person(Role.COMPANY_ADMIN)
    other_company = factory.company()
    client = _signed_in(app, ca)
    assert _create(client, role="admin").status_code == 400
    resp = _create(client, role="company_member", company_id=other_company, email="mine@example.jp")
    assert resp.status_code == 302
    with app.app_context():
        made = db.session.execute(select(UserAccount).where(UserAccount.email == "mine@example.jp")).scalar_one()
        assert made.company_id == ca.company_id


def test_company_admin_deactivates_a_colleague_whose_sessions_end(app, factory):
    ca = factory.person(Role.COMPANY_ADMIN)
    colleague = factory.person(Role.COMPANY_MEMBER, company_id=ca.company_id)
    theirs = _signed_in(app, colleague)
    client = _signed_in(app, ca)
    token = csrf(client, f"/admin/accounts/{colleague.id}")
    assert client.post(f"/admin/accounts/{colleague.id}/deactivate", data={"csrf_token": token}).status_code == 302
    assert theirs.get("/portal").status_code == 302


def test_nobody_changes_their_own_role_or_deactivates_themselves(app, factory):
    admin = factory.person(Role.ADMIN)
    client = _signed_in(app, admin)
    token = csrf(client, f"/admin/accounts/{admin.id}")
    client.post(f"/admin/accounts/{admin.id}/role", data={"csrf_token": token, "role": "officer"})
    client.post(f"/admin/accounts/{admin.id}/deactivate", data={"csrf_token": token})
    with app.app_context():
        me = db.session.get(UserAccount, admin.id)
        assert me.role == "admin" and me.active


def test_role_change_is_audited_and_effective_on_next_request(app, factory):
    admin = factory.person(Role.ADMIN)
    target = factory.person(Role.ADMIN)
    theirs = _signed_in(app, target)
    assert theirs.get("/admin/audit").status_code == 200
    client = _signed_in(app, admin)
    token = csrf(client, f"/admin/accounts/{target.id}")
    client.post(f"/admin/accounts/{target.id}/role", data={"csrf_token": token, "role": "officer"})
    assert theirs.get("/admin/audit").status_code == 403
    assert "Role changed" in audit_summaries(app)


def test_unknown_role_value_is_refused(app, factory):
    admin = factory.person(Role.ADMIN)
    target = factory.person(Role.OFFICER)
    client = _signed_in(app, admin)
    token = csrf(client, f"/admin/accounts/{target.id}")
    resp = client.post(f"/admin/accounts/{target.id}/role", data={"csrf_token": token, "role": "superuser"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(UserAccount, target.id).role == "officer"


@pytest.mark.parametrize("account_id", ["nope", "../../etc", "x" * 500, "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_ids_are_not_found(app, factory, account_id):
    client = _signed_in(app, factory.person(Role.ADMIN))
    assert client.get(f"/admin/accounts/{account_id}").status_code == 404


def test_admin_unlocks_a_locked_account(app, factory):
    admin = factory.person(Role.ADMIN)
    member = factory.person(Role.COMPANY_MEMBER)
    attacker = app.test_client()
    for _ in range(app.config["TAIWA_LOGIN_MAX_FAILURES"]):
        attacker.post("/login", data={"csrf_token": csrf(attacker), "email": member.email, "password": "guessing guess"})
    client = _signed_in(app, admin)
    token = csrf(client, f"/admin/accounts/{member.id}")
    client.post(f"/admin/accounts/{member.id}/unlock", data={"csrf_token": token})
    fresh = app.test_client()
    assert sign_in(fresh, member).status_code == 302
    assert fresh.get("/portal").status_code == 200


def test_admin_new_account_page_lists_companies(app, factory):
    """It answered 500 as soon as one company existed (SQLAlchemy rows given to WTForms as choices)."""
    factory.company(name_ja="選択肢株式会社")
    admin = factory.person(Role.ADMIN)
    client = _signed_in(app, admin)
    resp = client.get("/admin/accounts/new")
    assert resp.status_code == 200
    assert "選択肢株式会社" in resp.get_data(as_text=True)
