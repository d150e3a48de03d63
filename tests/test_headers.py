"""Security headers on every response, and no third-party origins anywhere."""

from __future__ import annotations

import re
from pathlib import Path

from clearance.permissions import Role
from tests.factories import sign_in

ROOT = Path(__file__).resolve().parent.parent


def test_strict_csp_and_friends_on_public_page(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "form-action 'self'", "base-uri 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in resp.headers["Permissions-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP in tests


def test_authenticated_pages_are_never_cached(client, factory):
    sign_in(client, factory.person(Role.ADMIN))
    for path in ("/officer", "/account/", "/admin/accounts", "/admin/audit", "/admin/audit.csv"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Cache-Control"] == "no-store", path
        assert "Content-Security-Policy" in resp.headers


def test_templates_have_no_inline_script_style_or_external_origin():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)", text) or re.search(r"\sstyle=", text) or "<style" in text:
            offenders.append(f"{path}: inline script or style")
        if re.search(r"""(src|href)=["']https?://""", text):
            offenders.append(f"{path}: external origin")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path}: inline event handler")
    assert offenders == []


def test_static_assets_are_served_by_the_app(client):
    resp = client.get("/static/css/taiwa.css")
    assert resp.status_code == 200 and b"--accent" in resp.data
