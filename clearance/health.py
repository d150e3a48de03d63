"""GET /healthz: liveness and schema revision, no login, no secrets."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from clearance.db import db

bp = Blueprint("health", __name__)
VERSION = "0.1.0"


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    revision, reachable = None, False
    try:
        with db.engine.connect() as conn:
            reachable = True
            heads = conn.execute(text("SELECT version_num FROM alembic_version ORDER BY version_num")).scalars().all()
            revision = "+".join(heads) or None
    except SQLAlchemyError:
        current_app.logger.warning("healthz: database check failed")
    ok = reachable and revision is not None
    body = {"status": "ok" if ok else "degraded", "database": reachable, "schema_revision": revision, "version": VERSION}
    return jsonify(body), 200 if ok else 503
