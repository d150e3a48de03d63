"""Health check and language behaviour."""

from __future__ import annotations

from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.permissions import Role
from tests.factories import csrf, sign_in


def test_healthz_reports_database_and_revision_without_login(client):
    from alembic.script import ScriptDirectory

    from tests.conftest import ROOT

    script = ScriptDirectory(str(ROOT / "migrations"))
    # A head another branch depends_on (e.g. meetings, needed by minutes) is not written to alembic_version.
    needed = {d for rev in script.walk_revisions() for d in ((rev.dependencies,) if isinstance(rev.dependencies, str)
                                                             else rev.dependencies or ())}
    heads = "+".join(sorted(h for h in script.get_heads() if h not in needed))
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.json
    disk = body.pop("disk")
    assert body == {"status": "ok", "database": True, "schema_revision": heads, "version": "0.1.0", "problems": []}
    assert {"instance", "files"} <= set(disk) and all(d["ok"] and d["free_mb"] >= 200 for d in disk.values())


def test_healthz_degrades_when_the_database_is_gone(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/nowhere.db")
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.json["database"] is False


def test_switching_language_for_an_anonymous_visitor(client):
    client.post("/language", data={"csrf_token": csrf(client), "locale": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


def test_signed_in_choice_is_remembered_on_the_account(client, factory, app):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    client.post("/language", data={"csrf_token": csrf(client, "/portal"), "locale": "en", "next": "/portal"})
    with app.app_context():
        assert db.session.get(UserAccount, member.id).locale == "en"
    fresh = app.test_client()
    sign_in(fresh, member)
    assert '<html lang="en">' in fresh.get("/portal").get_data(as_text=True)


def test_dates_follow_the_language(client, factory):
    member = factory.person(Role.COMPANY_MEMBER, totp=True)
    sign_in(client, member)
    ja = client.get("/account/").get_data(as_text=True)
    assert "年" in ja and "月" in ja
    client.post("/language", data={"csrf_token": csrf(client, "/account/"), "locale": "en", "next": "/account/"})
    en = client.get("/account/").get_data(as_text=True)
    assert any(m in en for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))
