"""The desk's settings (TAIWA_CONSULT_*), their defaults and their types.

Limits exist for abuse, not for honest users; the bench turns them off with
environment variables, so they are all configurable.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # Seconds a visitor must spend on the form before sending; bots post at once.
    "TAIWA_CONSULT_MIN_FORM_SECONDS": 4,
    # A form older than this is refused (its text is kept and shown again).
    "TAIWA_CONSULT_MAX_FORM_SECONDS": 6 * 3600,
    "TAIWA_CONSULT_HONEYPOT": True,
    # Per client (keyed hash of the address, in memory) and in total, per hour.
    "TAIWA_CONSULT_SUBMITS_PER_CLIENT": 6,
    "TAIWA_CONSULT_SUBMITS_GLOBAL": 600,
    "TAIWA_CONSULT_REPLIES_PER_CLIENT": 40,
    "TAIWA_CONSULT_REPLIES_GLOBAL": 2000,
    "TAIWA_CONSULT_RECEIPT_FAILURES_PER_CLIENT": 8,
    "TAIWA_CONSULT_RECEIPT_FAILURES_GLOBAL": 500,
    "TAIWA_CONSULT_SESSIONS_PER_CLIENT": 120,
    "TAIWA_CONSULT_SESSIONS_GLOBAL": 20000,
    "TAIWA_CONSULT_RATE_WINDOW": 3600,
    # Desk session: idle limit in seconds.
    "TAIWA_CONSULT_IDLE_SECONDS": 30 * 60,
    # Attachments: per file and per message.
    "TAIWA_CONSULT_MAX_FILE_BYTES": 10 * 1024 * 1024,
    "TAIWA_CONSULT_MAX_FILES": 3,
    "TAIWA_CONSULT_MAX_TEXT": 20000,
    # Days an officer has to acknowledge a new case.
    "TAIWA_CONSULT_ACK_DAYS": 7,
    # Retention: days after the status's reference date before a case is purged.
    # closed: after closing; answered: after the last activity (the submitter never came back).
    "TAIWA_CONSULT_RETENTION_CLOSED_DAYS": 365,
    "TAIWA_CONSULT_RETENTION_ANSWERED_DAYS": 730,
}

_INTS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}
_BOOLS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}


def coerce(key: str, value: Any) -> Any:
    """Environment values arrive as strings (clearance.config does not know our keys)."""
    if not isinstance(value, str):
        return value
    if key in _BOOLS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INTS:
        return int(value)
    return value


def apply_defaults(app: Flask) -> None:
    for key, default in DEFAULTS.items():
        app.config[key] = coerce(key, app.config.get(key, default))
