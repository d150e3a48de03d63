"""Shortcuts for the minutes tests."""

from __future__ import annotations

import copy

from clearance.db import db
from dialogue.minutes import service
from dialogue.minutes.document import Document
from dialogue.minutes.models import Minutes
from tests.feedback.world import user


def start(app, world, dialogue_id: str | None = None) -> str:
    with app.test_request_context():
        from dialogue.meetings.models import Dialogue

        m = service.create(db.session, db.session.get(Dialogue, dialogue_id or world.dialogue),
                           actor=user(world.officer.id))
        db.session.commit()
        return m.id


def current_doc(app, minutes_id: str) -> tuple[Document, int]:
    with app.test_request_context():
        m = db.session.get(Minutes, minutes_id)
        doc, rev = service.current(db.session, m)
        return copy.deepcopy(doc), rev.number


def save(app, minutes_id: str, doc: Document, base: int, actor_id: str, note: str = "") -> int:
    with app.test_request_context():
        m = db.session.get(Minutes, minutes_id)
        rev = service.save(db.session, m, base=base, document=doc, actor=user(actor_id), note=note)
        db.session.commit()
        return rev.number


def edit(app, minutes_id: str, actor_id: str, **bodies: str) -> int:
    """Set section bodies by section index (s0=..., s1=...) starting from the current revision."""
    doc, base = current_doc(app, minutes_id)
    for key, body in bodies.items():
        doc.sections[int(key[1:])].body = body
    return save(app, minutes_id, doc, base, actor_id)


def status(app, minutes_id: str) -> str:
    with app.app_context():
        return db.session.get(Minutes, minutes_id).status


def to_participant_review(app, world, minutes_id: str, days: int = 7) -> None:
    from datetime import timedelta

    from clearance.db import utcnow

    with app.test_request_context():
        m = db.session.get(Minutes, minutes_id)
        service.submit_for_review(db.session, m, actor=user(world.officer.id))
        service.approve_internal(db.session, m, actor=user(world.officer2.id), deadline=utcnow() + timedelta(days=days))
        db.session.commit()


def to_locked(app, world, minutes_id: str) -> None:
    to_participant_review(app, world, minutes_id)
    with app.test_request_context():
        m = db.session.get(Minutes, minutes_id)
        service.approve(db.session, m, actor=user(world.officer.id))
        service.lock(db.session, m, actor=user(world.officer.id))
        db.session.commit()
