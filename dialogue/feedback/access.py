"""Who may read a feedback item's words: clearance.policy decides; counts are open to every officer.

Feedback items have no release list and no handler list of their own: only
officers read their text (a company reads its own items in the portal, where
labelled items show no text at all), and a level-2 item can only come from a
level-2 minutes section, whose own handler list governs the minutes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance import policy
from clearance.db import db, utcnow
from clearance.labels import Label, LabelCompartment
from dialogue.feedback.models import LABELLED, FeedbackItem


def item_label(item: FeedbackItem, session: Session | None = None) -> Label:
    return policy.label_of(session or db.session, "feedback_item", item.id, item.level)


def readable(user, item: FeedbackItem, session: Session | None = None) -> bool:
    """May `user` read this item's text and answer? Public items: yes, without a query."""
    session = session or db.session
    if item.level == 0 and not _has_compartments(session, [item.id]):
        return True
    return bool(session.execute(
        select(FeedbackItem.id).where(FeedbackItem.id == item.id, policy.readable(session, user, utcnow(), LABELLED))
    ).first())


def readable_ids(session: Session, user, ids: Iterable[str]) -> set[str]:
    """Of these items, the ones `user` may read (one query for a whole page or report)."""
    ids = list(ids)
    if not ids:
        return set()
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found |= set(session.execute(
            select(FeedbackItem.id).where(FeedbackItem.id.in_(chunk), policy.readable(session, user, utcnow(), LABELLED))
        ).scalars())
    return found


def public_ids(session: Session, items: Iterable[FeedbackItem]) -> set[str]:
    """Of these items, the public ones (level 0 and in no compartment): their words may leave in outputs that
    carry no banner (spreadsheets, quotations). Level 0 alone is not public: a compartment still restricts it."""
    level0 = [i.id for i in items if i.level == 0]
    if not level0:
        return set()
    labelled: set[str] = set()
    for start in range(0, len(level0), 500):
        chunk = level0[start:start + 500]
        labelled |= set(session.execute(select(LabelCompartment.owner_id).where(
            LabelCompartment.owner_table == "feedback_item", LabelCompartment.owner_id.in_(chunk))).scalars())
    return set(level0) - labelled


def _has_compartments(session: Session, ids: list[str]) -> bool:
    return session.execute(select(LabelCompartment.code).where(
        LabelCompartment.owner_table == "feedback_item", LabelCompartment.owner_id.in_(ids)).limit(1)).first() is not None
