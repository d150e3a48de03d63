"""Deny by default: every route is public-listed or declares a permission, and roles get 403s."""

from __future__ import annotations

import pytest

from clearance.permissions import PRE_AUTH_ENDPOINTS, PUBLIC_ENDPOINTS, ROLE_PERMISSIONS, Permission, Role, requires
from tests.factories import audit_summaries, csrf, sign_in


def test_every_route_is_public_listed_or_declares_a_permission(app):
    unprotected = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint in PRE_AUTH_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if not isinstance(getattr(view, "required_permission", None), Permission):
            unprotected.append(rule.rule)
    assert unprotected == []


def test_public_list_is_short_and_every_entry_exists(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert len(PUBLIC_ENDPOINTS) <= 14
    assert PUBLIC_ENDPOINTS <= endpoints
    assert PRE_AUTH_ENDPOINTS <= endpoints


def test_a_view_that_forgets_its_permission_is_refused(app_factory, factory):
    app = app_factory()

    @app.get("/forgot-to-declare")
    def forgot():
        return "secret"

    member = factory.person(Role.COMPANY_ADMIN)
    client = app.test_client()
    sign_in(client, member)
    assert client.get("/forgot-to-declare").status_code == 403


def test_declared_permission_is_enforced_on_ad_hoc_view(app_factory, factory):
    app = app_factory()

    @app.get("/audit-only")
    @requires(Permission.AUDIT_READ)
    def audit_only():
        return "ok"

    officer = factory.person(Role.OFFICER)
    client = app.test_client()
    sign_in(client, officer)
    assert client.get("/audit-only").status_code == 403
    assert "Access denied" in audit_summaries(app)


def _protected_get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in PUBLIC_ENDPOINTS | PRE_AUTH_ENDPOINTS:
            continue
        yield rule.rule, app.view_functions[rule.endpoint].required_permission


def test_anonymous_is_sent_to_sign_in_from_every_protected_page(app, client):
    for path, _perm in _protected_get_routes(app):
        resp = client.get(path)
        assert resp.status_code == 302, path
        assert "/login" in resp.headers["Location"], path


@pytest.mark.parametrize("role", list(Role))
def test_every_role_gets_exactly_its_pages(app, factory, role):
    person = factory.person(role)
    client = app.test_client()
    assert sign_in(client, person).status_code == 302
    for path, permission in _protected_get_routes(app):
        status = client.get(path).status_code
        if permission in ROLE_PERMISSIONS[role]:
            assert status in (200, 302), (role, path, status)
        else:
            assert status == 403, (role, path, status)


def test_post_without_csrf_token_is_refused(app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    client = app.test_client()
    sign_in(client, person)
    resp = client.post("/account/sign-out-everywhere", data={})
    assert resp.status_code == 400
    assert client.get("/portal").status_code == 200  # nothing happened


def test_post_with_another_sessions_csrf_token_is_refused(app, factory):
    person = factory.person(Role.COMPANY_MEMBER)
    victim, attacker = app.test_client(), app.test_client()
    sign_in(victim, person)
    stolen = csrf(attacker)
    assert victim.post("/account/sign-out-everywhere", data={"csrf_token": stolen}).status_code == 400
    assert victim.get("/portal").status_code == 200
