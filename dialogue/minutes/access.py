"""Who sees which minutes, and which sections of them. Every answer comes from clearance.

* Listing: officers see every dialogue's minutes (behind MINUTES_READ); company
  staff only minutes of dialogues they were invited to, once the draft is out
  for participant review — as a SQL filter built on clearance.scoping, so
  another company's minutes are never loaded and answer 404.
* Sections: each section's label goes through clearance.policy.decide(). For a
  level-2 section the handler list is the minutes' own (取扱者名簿) intersected
  with that of every level-2 briefing it cites.
* Every read of classified minutes and every withheld section is audited with
  the clause that decided it (policy.record_decision).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, false, select
from sqlalchemy.orm import Session

from clearance import policy
from clearance.db import utcnow
from clearance.labels import Label, Level, join
from clearance.people import handlers_of
from clearance.permissions import COMPANY_ROLES, STAFF_ROLES
from clearance.scoping import own_company
from dialogue.minutes.document import Document, Section
from dialogue.minutes.models import VISIBLE_TO_PARTICIPANTS, Minutes, MinutesAddendum


def participant_filter(user) -> ColumnElement[bool]:
    """Minutes the company user may open: invited to the dialogue (by their current company), draft out."""
    from dialogue.meetings.models import Invitation

    if user is None or not getattr(user, "is_authenticated", False) or user.role not in COMPANY_ROLES:
        return false()
    invited = exists(select(Invitation.id).where(
        Invitation.dialogue_id == Minutes.dialogue_id, Invitation.user_id == user.id,
        Invitation.status != "revoked",  # taken back by the ministry: sent by mistake, never invited
        own_company(user, Invitation.company_id)))
    return and_(Minutes.status.in_(sorted(VISIBLE_TO_PARTICIPANTS)), invited)


def load_for_participant(session: Session, user, minutes_id: str) -> Minutes | None:
    return session.execute(select(Minutes).where(Minutes.id == minutes_id[:36], participant_filter(user))
                           ).scalar_one_or_none()


def _briefing_handlers(session: Session, ids: Iterable[str]) -> dict[str, set[str] | None]:
    """Handler lists of cited level-2 briefings (None for briefings below level 2: no list applies)."""
    from dialogue.briefings.models import Briefing

    out: dict[str, set[str] | None] = {}
    wanted = sorted(set(ids))
    if not wanted:
        return out
    for bid, level in session.execute(select(Briefing.id, Briefing.level).where(Briefing.id.in_(wanted))).all():
        out[bid] = handlers_of(session, "briefing", bid) if level >= Level.CRITICAL else None
    return out


@dataclass
class SectionAccess:
    """The outcome for one reader over one document: what they may read, and why not the rest."""

    readable: set[str] = field(default_factory=set)
    denied: dict[str, tuple[str, Label]] = field(default_factory=dict)

    def shown(self, doc: Document) -> list[Section]:
        return [s for s in doc.sections if s.key in self.readable]

    def label(self, doc: Document) -> Label:
        """The join of what this reader is shown: the label of their copy (page or PDF)."""
        return join(*(s.label for s in self.shown(doc)))


def decide_sections(session: Session, user, minutes: Minutes, doc: Document, now=None) -> SectionAccess:
    now = now or utcnow()
    subject = policy.subject(session, user)
    minutes_handlers: set[str] | None = None
    briefing_handlers: dict[str, set[str] | None] = {}
    if any(s.level >= Level.CRITICAL for s in doc.sections):
        minutes_handlers = handlers_of(session, "minutes", minutes.id)
        briefing_handlers = _briefing_handlers(session, (b for s in doc.sections for b in s.cites))
    result = SectionAccess()
    for s in doc.sections:
        handlers = None
        if s.level >= Level.CRITICAL:
            handlers = set(minutes_handlers or ())
            for b in s.cites:
                listed = briefing_handlers.get(b)
                if listed is not None:
                    handlers &= listed
        decision = policy.decide(subject, s.label, now, handlers=handlers, release=None)
        if decision.allowed:
            result.readable.add(s.key)
        else:
            result.denied[s.key] = (decision.clause, s.label)
    return result


def readable_section_keys(session: Session, user, minutes: Minutes, doc: Document) -> set[str]:
    return decide_sections(session, user, minutes, doc).readable


def may_write_label(session: Session, user, label: Label) -> bool:
    """An author may only label text at a level they could read themselves (no handler list asked:
    a new section is not on anyone's list yet)."""
    if label.is_public:
        return True
    return policy.decide(policy.subject(session, user), label, utcnow(), handlers=None, release=None).allowed


def readable_addenda(session: Session, user, items: list[MinutesAddendum]) -> tuple[list[MinutesAddendum], int]:
    """(addenda the user may read, how many were withheld)."""
    subject = policy.subject(session, user)
    now = utcnow()
    shown, withheld = [], 0
    for a in items:
        label = policy.label_of(session, "minutes_addendum", a.id, a.level)
        if policy.decide(subject, label, now, handlers=None if label.level < Level.CRITICAL else
                         handlers_of(session, "minutes", a.minutes_id), release=None).allowed:
            shown.append(a)
        else:
            withheld += 1
    return shown, withheld


def readable_revision_notes(session: Session, user, minutes: Minutes, revisions: Iterable) -> set[int]:
    """Numbers of the revisions whose change note this reader may see: a note can describe what
    changed, so it is labelled like its revision (level 2 also needs the minutes' handler list)."""
    revisions = list(revisions)
    subject = policy.subject(session, user)
    now = utcnow()
    handlers = (handlers_of(session, "minutes", minutes.id)
                if any(r.level >= Level.CRITICAL for r in revisions) else None)
    return {r.number for r in revisions
            if policy.decide(subject, Label.of(r.level), now,
                             handlers=handlers if r.level >= Level.CRITICAL else None, release=None).allowed}


def record_reading(session: Session, user, minutes: Minutes, doc: Document, outcome: SectionAccess, route: str) -> None:
    """Audit a read of classified minutes (what label the reader got) and every withheld section."""
    shown_label = outcome.label(doc)
    if not shown_label.is_public:
        policy.record_decision(session, user, policy.Decision(True, "granted"), object_table="minutes",
                               object_id=minutes.id, label=shown_label, route=route)
    for key, (clause, label) in outcome.denied.items():
        policy.record_decision(session, user, policy.Decision(False, clause), object_table="minutes",
                               object_id=f"{minutes.id}#{key}", label=label, route=route)


def record_not_found(session: Session, user, minutes_id: str, route: str) -> None:
    """A company user asked for minutes outside their filter (or that do not exist): audited, then 404."""
    policy.record_decision(session, user, policy.Decision(False, "not_invited"), object_table="minutes",
                           object_id=minutes_id[:40], label=None, route=route)


def is_staff(user) -> bool:
    return user.role in STAFF_ROLES
