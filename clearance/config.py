"""Configuration: defaults, then instance/config.py, then TAIWA_* environment variables."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

DEFAULTS: dict[str, Any] = {
    "TAIWA_ENV": "development",
    "SQLALCHEMY_DATABASE_URI": None,  # filled from DATABASE_URL or the SQLite default
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SECRET_KEY": None,  # from instance/secret_key (created by `make run`) or TAIWA_SECRET_KEY
    "SESSION_COOKIE_NAME": "taiwa_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # forced on when the request arrives over TLS
    "TAIWA_SESSION_IDLE": timedelta(minutes=30),
    "TAIWA_SESSION_ABSOLUTE": timedelta(hours=12),
    "TAIWA_REDIS_URL": None,  # when set, sessions and throttles live in Redis
    "TAIWA_PROXY_COUNT": 0,  # reverse proxies in front of us (X-Forwarded-For hops to trust)
    "TAIWA_ARGON2": "standard",  # "fast" for tests only
    "TAIWA_LOGIN_MAX_FAILURES": 5,  # per account, within the window
    "TAIWA_CLIENT_MAX_FAILURES": 30,  # per client address, within the window
    "TAIWA_LOGIN_WINDOW": timedelta(minutes=15),
    "TAIWA_RESET_TOKEN_TTL": timedelta(hours=1),
    "TAIWA_MAIL_FROM": "taiwa-noreply@meti.example.go.jp",
    "TAIWA_SMTP_HOST": None,  # None: mail is written to the log (development)
    "TAIWA_SMTP_PORT": 25,
    "TAIWA_SMTP_STARTTLS": False,
    "TAIWA_SMTP_USER": None,
    "TAIWA_SMTP_PASSWORD": None,
    "TAIWA_BASE_URL": "http://127.0.0.1:5000",
    "TAIWA_KEY_FILE": str(INSTANCE / "keys.json"),
    "TAIWA_MAX_FIELD": 4000,
    "TAIWA_FILES_DIR": str(INSTANCE / "files"),  # encrypted attachments (clearance.files)
    # where signed audit checkpoints are published (append-only JSON lines): put it on another disk or host
    "TAIWA_AUDIT_PUBLISH_DIR": str(INSTANCE / "audit-published"),
    "TAIWA_MAX_UPLOAD": 20 * 1024 * 1024,  # bytes per uploaded file
    "TAIWA_MIN_FREE_MB": 200,  # /healthz is degraded below this much free space where the app writes
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "TAIWA_BODY_CACHE": True,  # cached page bodies keyed by the data generation (clearance.freshness)
    "TAIWA_BODY_CACHE_BYTES": 16 * 1024 * 1024,  # per worker process
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
    "BABEL_DEFAULT_LOCALE": "ja",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Tokyo",
    "LANGUAGES": ("ja", "en"),
}

_DURATIONS = {"TAIWA_SESSION_IDLE", "TAIWA_SESSION_ABSOLUTE", "TAIWA_LOGIN_WINDOW", "TAIWA_RESET_TOKEN_TTL"}
_INTS = {
    "TAIWA_PROXY_COUNT",
    "TAIWA_LOGIN_MAX_FAILURES",
    "TAIWA_CLIENT_MAX_FAILURES",
    "TAIWA_SMTP_PORT",
    "TAIWA_MAX_FIELD",
    "TAIWA_MAX_UPLOAD",
    "MAX_CONTENT_LENGTH",
    "TAIWA_BODY_CACHE_BYTES",
    "TAIWA_MIN_FREE_MB",
}
_BOOLS = {"TAIWA_SMTP_STARTTLS", "SESSION_COOKIE_SECURE", "TAIWA_CREATE_DEV_KEYS", "TAIWA_BODY_CACHE"}


def _coerce(key: str, raw: str) -> Any:
    if key in _DURATIONS:
        return timedelta(seconds=int(raw))
    if key in _INTS:
        return int(raw)
    if key in _BOOLS:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return raw


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, instance/config.py, the environment and explicit overrides (tests)."""
    cfg = dict(DEFAULTS)
    cfg_file = INSTANCE / "config.py"
    if cfg_file.exists():
        scope: dict[str, Any] = {}
        exec(compile(cfg_file.read_text(), str(cfg_file), "exec"), scope)  # noqa: S102 - operator-owned file
        cfg.update({k: v for k, v in scope.items() if k.isupper()})
    for key, raw in os.environ.items():
        if key.startswith("TAIWA_") and key not in {"TAIWA_KEYS", "TAIWA_SECRET_KEY"}:
            cfg[key] = _coerce(key, raw)
    if os.environ.get("DATABASE_URL"):
        cfg["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("TAIWA_SECRET_KEY"):
        cfg["SECRET_KEY"] = os.environ["TAIWA_SECRET_KEY"]
    if overrides:
        cfg.update(overrides)
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(
        cfg["SQLALCHEMY_DATABASE_URI"] or f"sqlite:///{INSTANCE / 'taiwa.db'}"
    )
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _secret_from_file(INSTANCE / "secret_key")
    return cfg


def normalise_db_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_from_file(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def ensure_secret_key(path: Path = INSTANCE / "secret_key") -> None:
    """Create the development secret key with mode 0600 unless it exists."""
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))


def describe(cfg: dict[str, Any]) -> str:
    """Non-secret summary for logs."""
    safe = {k: str(v) for k, v in cfg.items() if k.startswith("TAIWA_") and "PASSWORD" not in k}
    return json.dumps(safe, sort_keys=True)
