"""The FLOOR for bench/web_bench.py — not part of the product.

A bare Flask app with one route that runs one indexed query through SQLAlchemy
on the same DATABASE_URL as Taiwa (user_account.email is unique-indexed). It is
served by the same gunicorn.conf.py, workers and threads as the product, so the
difference between this and a Taiwa page is what Taiwa itself adds: sessions,
the access guard, Flask-Login, CSRF, Babel, templates and the page's own queries.

    DATABASE_URL=... BENCH_FLOOR_EMAIL=someone@example.jp \
        gunicorn -c gunicorn.conf.py --bind 127.0.0.1:5001 "bench.floor_app:create_app()"
"""

from __future__ import annotations

import os

from flask import Flask, abort
from sqlalchemy import create_engine, event, text

QUERY = text("SELECT id FROM user_account WHERE email = :email")


def _db_url() -> str:
    url = os.environ["DATABASE_URL"]
    for prefix in ("postgres://", "postgresql://"):  # same driver as the product (psycopg 3)
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_app() -> Flask:
    app = Flask(__name__)
    # Same engine options as the product (clearance/config.py DEFAULTS): a pre-ping on checkout.
    engine = create_engine(_db_url(), pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # the product's pragmas (app.py), for a fair floor
            cur = dbapi_conn.cursor()
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

    email = os.environ.get("BENCH_FLOOR_EMAIL", "nobody@example.jp")

    @app.get("/floor")
    def floor() -> tuple[str, int, dict[str, str]]:
        with engine.connect() as conn:
            row = conn.execute(QUERY, {"email": email}).first()
        if row is None:
            abort(404)
        return row[0], 200, {"Content-Type": "text/plain; charset=utf-8"}

    return app
