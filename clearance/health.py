"""GET /healthz: liveness, schema revision and free disk space, no login, no secrets.

200 ``ok``; 503 ``degraded`` when the database cannot be reached or has no schema, or when
a directory the app writes to has less than TAIWA_MIN_FREE_MB free (``problems`` names
which). A database failure is logged once per outage by clearance.outage, not per poll.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from clearance import outage
from clearance.config import INSTANCE
from clearance.db import db

bp = Blueprint("health", __name__)
VERSION = "0.1.0"


def _existing(path: Path) -> Path:
    """The path, or its nearest existing parent (a files folder not created yet)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def watched_dirs() -> dict[str, Path]:
    """Where the app writes: the instance folder, the encrypted files, a SQLite database's folder."""
    from clearance.files import files_dir

    found = {"instance": INSTANCE, "files": files_dir()}  # the upload spool is inside files
    database = db.engine.url
    if database.get_backend_name() == "sqlite" and database.database not in (None, "", ":memory:"):
        found["database"] = Path(database.database).resolve().parent
    return found


def disk_report(min_free_mb: int) -> tuple[dict[str, dict[str, object]], list[str]]:
    report: dict[str, dict[str, object]] = {}
    problems: list[str] = []
    for name, path in watched_dirs().items():
        existing = _existing(Path(path))
        try:
            free_mb = shutil.disk_usage(existing).free // (1024 * 1024)
            writable = os.access(existing, os.W_OK)
        except OSError:
            free_mb, writable = 0, False
        ok = free_mb >= min_free_mb and writable
        report[name] = {"free_mb": free_mb, "writable": writable, "ok": ok}
        if not ok:
            problems.append(f"disk:{name}")
    return report, problems


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    revision, reachable = None, False
    try:
        with db.engine.connect() as conn:
            reachable = True
            heads = conn.execute(text("SELECT version_num FROM alembic_version ORDER BY version_num")).scalars().all()
            revision = "+".join(heads) or None
    except SQLAlchemyError as exc:
        if outage.classify(exc) is outage.Failure.DATABASE:
            outage.state().database_down(exc)  # one line per outage, however often this is polled
        else:
            current_app.logger.warning("healthz: database check failed (%s)", type(exc).__name__)
    disk, problems = disk_report(int(current_app.config["TAIWA_MIN_FREE_MB"]))
    if not reachable:
        problems.insert(0, "database")
    elif revision is None:
        problems.insert(0, "schema")
    body = {"status": "degraded" if problems else "ok", "database": reachable, "schema_revision": revision,
            "version": VERSION, "disk": disk, "problems": problems}
    return jsonify(body), 503 if problems else 200
