"""What company staff see of the dialogues: their company's invitations, and their notifications.

Every query is scoped with clearance.scoping.own_company, so another company's rows are never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from clearance.scoping import own_company
from dialogue.meetings.models import Dialogue, Invitation
from dialogue.meetings.service import readable_dialogues
from dialogue.portal.models import Notification


@dataclass(frozen=True)
class PortalRow:
    invitation: Invitation
    dialogue: Dialogue
    invitee: str
    mine: bool


def company_invitations(session: Session, user: UserAccount, now: datetime, *, upcoming: bool = True,
                        limit: int = 100) -> list[PortalRow]:
    """The company's invitations (the user's own first), for dialogues still ahead or recently past.

    Only dialogues the user may read now: of one above their standing (a colleague's classified
    dialogue, or their own after their clearance lapsed) they see nothing, not even a placeholder."""
    q = (select(Invitation, Dialogue, UserAccount.display_name)
         .join(Dialogue, Dialogue.id == Invitation.dialogue_id)
         .join(UserAccount, UserAccount.id == Invitation.user_id)
         .where(own_company(user, Invitation.company_id), readable_dialogues(session, user.id, now)))
    if upcoming:
        q = q.where(Dialogue.ends_at >= now).order_by(Dialogue.starts_at, Invitation.id)
    else:
        q = q.where(Dialogue.ends_at < now).order_by(Dialogue.starts_at.desc(), Invitation.id)
    rows = session.execute(q.limit(limit)).all()
    return [PortalRow(inv, d, name, inv.user_id == user.id) for inv, d, name in rows]


def notifications(session: Session, user_id: str, limit: int = 50) -> list[Notification]:
    return list(session.execute(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id).limit(limit)
    ).scalars())


def unread_count(session: Session, user_id: str) -> int:
    return session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).scalar_one()


def mark_read(session: Session, user_id: str, now: datetime) -> int:
    return session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now)
    ).rowcount
