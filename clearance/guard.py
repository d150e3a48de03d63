"""Deny by default, and the security headers every response carries.

The guard runs before every view: public endpoints pass; pre-auth endpoints
need a half-finished sign-in; everything else needs a signed-in user whose role
grants the view's declared permission. A view that declares nothing is refused.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user

from clearance import audit
from clearance.audit import Kind
from clearance.db import db
from clearance.permissions import PRE_AUTH_ENDPOINTS, PUBLIC_ENDPOINTS, required_permission

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def refuse_nul() -> None:
    """No text field has a use for NUL, and PostgreSQL refuses it: answer 400, not 500."""
    for values in (request.args, request.form if request.method == "POST" else {}):
        for key, value in values.items(multi=True) if values else ():
            if "\x00" in key or "\x00" in value:
                abort(400)


def enforce_access() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: Flask answers 404/405
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if endpoint in PRE_AUTH_ENDPOINTS:
        if session.get("pending_user_id"):
            return None
        return redirect(url_for("auth.login"))
    permission = required_permission(current_app.view_functions[endpoint])
    if permission is None:
        current_app.logger.error("endpoint %s declares no permission; refused", endpoint)
        abort(403)
    if not current_user.is_authenticated:
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path if request.args else request.path))
        abort(401)
    if not current_user.can(permission):
        audit.append(db.session, realm="access", kind=Kind.NEGATIVE, summary="Access denied",
                     actor_id=current_user.id, actor=current_user.email,
                     data={"endpoint": endpoint, "permission": permission.value, "path": request.path[:200]})
        db.session.commit()
        abort(403)
    g.permission = permission
    return None


def security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["X-Frame-Options"] = "DENY"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
    if request.is_secure:
        h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint != "static":
        # Authenticated pages, and the sign-in forms that carry CSRF tokens, are never stored.
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)
    app.before_request(enforce_access)
    app.after_request(security_headers)
