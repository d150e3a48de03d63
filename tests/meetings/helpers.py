"""Shortcuts for dialogue tests: plan a dialogue and invite through the service functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from clearance.auth.models import UserAccount
from clearance.db import db
from dialogue.meetings import service
from dialogue.meetings.notify import MailSettings, Notifier


def notifier(app) -> Notifier:
    return Notifier(db.session, MailSettings.from_config(app.config))


def plan(app, officer_id: str, *, counterpart: str, fmt: str = "supply_chain", start: datetime,
         hours: int = 2, **kw) -> str:
    with app.test_request_context():
        actor = db.session.get(UserAccount, officer_id)
        data = service.DialogueInput(format=fmt, counterpart_id=counterpart, title=kw.pop("title", "試験対話"),
                                     start_local=start, end_local=start + timedelta(hours=hours),
                                     host_ids=kw.pop("host_ids", [officer_id]), **kw)
        made = service.create_dialogues(db.session, actor, data)
        db.session.commit()
        return made[0].id


def invite(app, officer_id: str, dialogue_id: str, f: service.InviteFilter) -> list[str]:
    """Invite everyone the preview shows; returns the new invitation ids (tokens via invite_tokens)."""
    return [i for i, _t in invite_tokens(app, officer_id, dialogue_id, f)]


def invite_tokens(app, officer_id: str, dialogue_id: str, f: service.InviteFilter) -> list[tuple[str, str]]:
    with app.test_request_context():
        actor = db.session.get(UserAccount, officer_id)
        d = db.session.get(service.Dialogue, dialogue_id)
        p = service.preview(db.session, d, f)
        issued = service.send_invitations(db.session, actor, d, f, p.fingerprint)
        n = notifier(app)
        for item in issued:
            n.invited(item)
        db.session.commit()
        return [(i.invitation.id, i.token) for i in issued]
