"""相談窓口 — the anonymous consultation desk for subcontractors.

Public pages under /consult (views.py) need no account and keep nothing that
identifies the visitor; officers on the desk roster work the cases from
/officer/consult (inbox.py). See docs/CONSULT.md for what is and is not
recorded, and why.
"""

from __future__ import annotations

from flask import Flask

from dialogue.consult import config, desk_session, limits


def init_app(app: Flask) -> None:
    """Configuration defaults, the desk's session store and rate limiter. Called by create_app."""
    config.apply_defaults(app)
    app.extensions["consult"] = {
        "store": desk_session.make_store(app),
        "limiter": limits.make_limiter(app),
    }
