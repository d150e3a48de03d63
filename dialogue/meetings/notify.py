"""Telling invitees: an outbox mail (with an .ics for calendar programs) and a portal notification.

Each message is rendered in the recipient's own language. For a dialogue above public, the
mail, the .ics and the notification carry no title, purpose or place — only a link to
sign in — because mail and calendars leave the ministry's systems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from clearance.db import new_id
from clearance.outbox import Attachment, enqueue
from dialogue.meetings import ics, times
from dialogue.meetings.models import ACTIVE_REPLIES, Dialogue, Invitation
from dialogue.meetings.service import Issued
from dialogue.portal.models import Notification


@dataclass(frozen=True)
class MailSettings:
    base_url: str
    mail_from: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(config["TAIWA_BASE_URL"].rstrip("/"), config["TAIWA_MAIL_FROM"])

    @property
    def domain(self) -> str:
        return self.mail_from.split("@")[-1]


def event_text(dialogue: Dialogue, link: str, locale: str) -> ics.EventText:
    """What calendars may show. Classified dialogues get neutral text and the sign-in link only."""
    with force_locale(locale):
        if dialogue.level > 0:
            return ics.EventText(_("METI strategic dialogue (details in Taiwa)"),
                                 _("Sign in to Taiwa to see the details: %(link)s", link=link), "", link)
        place = ", ".join(p for p in (dialogue.venue, dialogue.online_url) if p)
        agenda = "\n".join(f"{a.position}. {a.title}" for a in dialogue.agenda)
        description = "\n\n".join(p for p in (dialogue.purpose, agenda, link) if p)
        return ics.EventText(dialogue.title, description, place, link)


class Notifier:
    """Called by the service functions (as ``notify(obj, kind)``) inside the caller's transaction."""

    def __init__(self, session: Session, settings: MailSettings) -> None:
        self.session = session
        self.settings = settings

    # -- helpers
    def portal_path(self, invitation_id: str) -> str:
        return url_for("portal.invitation", invitation_id=invitation_id)

    def _ics(self, dialogue: Dialogue, user: UserAccount, reply: str, method: str, link: str, locale: str) -> Attachment:
        text = event_text(dialogue, link, locale)
        if reply == "revoked":  # the calendar needs only the UID to drop it: repeat no place or agenda
            text = ics.EventText(text.summary, "", "", link)
        ev = ics.event(dialogue, text, domain=self.settings.domain, organizer=self.settings.mail_from,
                       attendee=ics.Attendee(user.email, user.display_name, reply), cancelled=method == "CANCEL")
        body = ics.calendar([(dialogue, ev)], method=method).decode()
        return Attachment("invite.ics" if method == "REQUEST" else "cancel.ics",
                          f"text/calendar; method={method}", body)

    def _send(self, *, user: UserAccount, invitation: Invitation, dialogue: Dialogue, kind: str,
              method: str | None, token: str | None = None) -> None:
        locale = user.locale or "ja"
        path = self.portal_path(invitation.id)
        link = self.settings.base_url + path
        rsvp = self.settings.base_url + url_for("calendar.rsvp", token=token) if token else None
        zone = times.zone(dialogue.time_zone).key
        with force_locale(locale):
            when = times.show(dialogue.starts_at, dialogue.time_zone, None, locale)
            titles = {
                "invitation": _("Invitation: %(title)s"),
                "delegated": _("Invitation passed on to you: %(title)s"),
                "update": _("Changed: %(title)s"),
                "cancelled": _("Cancelled: %(title)s"),
                "postponed": _("Postponed: %(title)s"),
                "promoted": _("A seat is now yours: %(title)s"),
                "revoked": _("Invitation withdrawn: %(title)s"),
            }
            shown_title = dialogue.title if dialogue.level == 0 else _("a METI strategic dialogue")
            title = titles[kind] % {"title": shown_title}
            body = render_template("meetings/mail/notice.txt", user=user, dialogue=dialogue, kind=kind, when=when,
                                   zone=zone, link=link, rsvp=rsvp, classified=dialogue.level > 0,
                                   revoke_reason=invitation.revoke_reason if kind == "revoked" else "",
                                   deadline=dialogue.answer_by and times.show(dialogue.answer_by, dialogue.time_zone,
                                                                               None, locale))
            attachment = self._ics(dialogue, user, invitation.status, method, link, locale) if method else None
            subject = _("[Taiwa] %(title)s", title=title)
        enqueue(self.session, to=user.email, subject=subject, body=body, attachment=attachment)
        self.session.add(Notification(id=new_id(), user_id=user.id, kind=kind, title=title[:300], link=path))

    # -- entry points
    def invited(self, issued: Issued, *, delegated: bool = False) -> None:
        dialogue = self.session.get(Dialogue, issued.invitation.dialogue_id)
        self._send(user=issued.user, invitation=issued.invitation, dialogue=dialogue,
                   kind="delegated" if delegated else "invitation", method="REQUEST", token=issued.token)

    def __call__(self, obj: Dialogue | Invitation, kind: str) -> None:
        if isinstance(obj, Invitation):  # one person: a waiting-list promotion, or an invitation taken back
            dialogue = self.session.get(Dialogue, obj.dialogue_id)
            user = self.session.get(UserAccount, obj.user_id)
            if user is None or not user.active:
                return  # like the dialogue-wide notices: no mail to a closed account
            # Every invitation mail carried METHOD:REQUEST (invited()), so taking it back is a CANCEL.
            method = "CANCEL" if kind == "revoked" else "REQUEST"
            self._send(user=user, invitation=obj, dialogue=dialogue, kind=kind, method=method)
            return
        rows = self.session.execute(
            select(Invitation, UserAccount).join(UserAccount, UserAccount.id == Invitation.user_id)
            .where(Invitation.dialogue_id == obj.id, Invitation.status.in_(ACTIVE_REPLIES), UserAccount.active)
        ).all()
        method = "CANCEL" if kind in ("cancelled", "postponed") else "REQUEST"
        for invitation, user in rows:
            self._send(user=user, invitation=invitation, dialogue=obj, kind=kind, method=method)
