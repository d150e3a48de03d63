"""Who sees which minutes, and which sections of them. Every answer comes from clearance.

* Listing: officers see every dialogue's minutes (behind MINUTES_READ); company
  staff only minutes of dialogues they were invited to, once the draft is out
  for participant review — as a SQL filter built on clearance.scoping, so
  another company's minutes are never loaded and answer 404.
* Parts: every part of a document (section, action, feedback item, attendee,
  cite) has an effective label (document.effective_labels) that goes through
  clearance.policy.decide(). For a level-2 part the handler list is the
  minutes' own (取扱者名簿) intersected with that of every level-2 briefing its
  section cites. Only dialogue.minutes.reader calls this for output.
* Every read of classified minutes and every withheld part is audited with
  the clause that decided it (policy.record_decision).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, false, select
from sqlalchemy.orm import Session

from clearance import policy
from clearance.db import utcnow
from clearance.labels import Label, Level
from clearance.people import handlers_of
from clearance.permissions import COMPANY_ROLES, STAFF_ROLES
from clearance.scoping import own_company
from dialogue.minutes.document import GROUPS, Document, Part, effective_labels, parent_part
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


def _briefing_facts(session: Session, ids: Iterable[str]) -> dict[str, tuple[Label, set[str] | None]]:
    """Label and handler list (None below level 2: no list applies) of each cited briefing that exists."""
    from dialogue.briefings.models import Briefing

    out: dict[str, tuple[Label, set[str] | None]] = {}
    wanted = sorted(set(ids))
    if not wanted:
        return out
    for bid, level in session.execute(select(Briefing.id, Briefing.level).where(Briefing.id.in_(wanted))).all():
        out[bid] = (policy.label_of(session, "briefing", bid, level),
                    handlers_of(session, "briefing", bid) if level >= Level.CRITICAL else None)
    return out


def briefing_labels(session: Session, ids: Iterable[str]) -> dict[str, Label]:
    """The stored label of each cited briefing that exists (for the label of the whole document)."""
    return {b: lab for b, (lab, _h) in _briefing_facts(session, ids).items()}


def _readable_briefings(session: Session, subject: policy.Subject, ids: Iterable[str], now) -> set[str]:
    """Which of these briefings the reader may open themselves (the SQL twin of policy.decide, with the
    briefings' own handler and release lists): a cite to any other one is withheld like a part."""
    from dialogue.briefings.models import LABELLED as BRIEFING
    from dialogue.briefings.models import Briefing

    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(session.execute(select(Briefing.id).where(
        Briefing.id.in_(wanted), policy.readable_clause(BRIEFING, subject, now))).scalars())


@dataclass
class PartAccess:
    """The outcome for one reader over one document: the effective label of every part, the parts
    they may read, why not the others, and which cites (section key → briefing ids) they may see."""

    labels: dict[Part, Label] = field(default_factory=dict)
    readable: set[Part] = field(default_factory=set)
    denied: dict[Part, tuple[str, Label]] = field(default_factory=dict)
    cites: dict[str, list[str]] = field(default_factory=dict)
    withheld_cites: int = 0

    def keys(self, group: str) -> set[str]:
        return {k for g, k in self.readable if g == group}


def decide_parts(session: Session, user, minutes: Minutes, doc: Document, now=None, *,
                 subject: policy.Subject | None = None) -> PartAccess:
    """Decide every part of `doc` for one reader through clearance.policy.decide (the one rule).

    A part's label is its effective label (document.effective_labels, with the cited briefings'
    labels as stored now, not as they were when the section was saved). For a level-2 part the
    handler list is the minutes' own (取扱者名簿) intersected with that of every level-2 briefing its
    section cites. A part under a section the reader may not read is withheld with it, whatever its
    own label says. A cite to a briefing that no longer exists makes its section unreadable (its
    label cannot be known), never silently public.
    """
    now = now or utcnow()
    subject = subject or policy.subject(session, user)
    cite_ids = {b for s in doc.sections for b in s.cites}
    facts = _briefing_facts(session, cite_ids)
    labels = effective_labels(doc, {b: lab for b, (lab, _h) in facts.items()})
    minutes_handlers: set[str] | None = None
    if any(lab.level >= Level.CRITICAL for lab in labels.values()):
        minutes_handlers = handlers_of(session, "minutes", minutes.id)
    section_handlers: dict[str, set[str]] = {}
    for s in doc.sections:
        allowed = set(minutes_handlers or ())
        for b in s.cites:
            listed = facts.get(b, (None, None))[1]
            if listed is not None:
                allowed &= listed
        section_handlers[s.key] = allowed
    result = PartAccess(labels=labels)
    for group in GROUPS:
        for item in getattr(doc, group):
            part = (group, item.key)
            label = labels[part]
            parent = parent_part(doc, group, item)
            if group == "sections" and any(b not in facts for b in item.cites):
                result.denied[part] = ("unknown_citation", label)
                continue
            if parent is not None and parent in result.denied:
                result.denied[part] = (result.denied[parent][0], label)
                continue
            handlers = None
            if label.level >= Level.CRITICAL:
                if group == "sections":
                    handlers = section_handlers[item.key]
                elif parent is not None:
                    handlers = section_handlers[parent[1]]
                else:  # attendees, and items under the whole document (every section's lists apply)
                    handlers = set(minutes_handlers or ())
                    if group != "attendees":
                        for listed in section_handlers.values():
                            handlers &= listed
            decision = policy.decide(subject, label, now, handlers=handlers, release=None)
            if decision.allowed:
                result.readable.add(part)
            else:
                result.denied[part] = (decision.clause, label)
    shown_sections = [s for s in doc.sections if ("sections", s.key) in result.readable]
    may_open = _readable_briefings(session, subject, (b for s in shown_sections for b in s.cites), now)
    for s in shown_sections:
        result.cites[s.key] = [b for b in s.cites if b in may_open]
        result.withheld_cites += len(s.cites) - len(result.cites[s.key])
    return result


def may_write_label(session: Session, user, label: Label) -> bool:
    """An author may only label text at a level they could read themselves (no handler list asked:
    a new section is not on anyone's list yet)."""
    if label.is_public:
        return True
    return policy.decide(policy.subject(session, user), label, utcnow(), handlers=None, release=None).allowed


def readable_addenda(session: Session, user, items: list[MinutesAddendum], *, subject: policy.Subject | None = None,
                     now=None) -> tuple[list[MinutesAddendum], int]:
    """(addenda the user may read, how many were withheld)."""
    subject = subject or policy.subject(session, user)
    now = now or utcnow()
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
    # A revision row keeps its level only. Its compartments are those of its own document (read from the
    # sealed revision) together with the minutes' current ones: a note may describe either, so fail closed.
    current = policy.label_of(session, "minutes", minutes.id, minutes.level).compartments
    from dialogue.minutes.document import loads

    def label(r) -> Label:
        return Label.of(r.level, set(current) | set(loads(r.content).label().compartments))

    return {r.number for r in revisions
            if policy.decide(subject, label(r), now,
                             handlers=handlers if r.level >= Level.CRITICAL else None, release=None).allowed}


def record_reading(session: Session, user, minutes: Minutes, shown_label: Label, outcome: PartAccess,
                   route: str) -> None:
    """Audit a read of classified minutes (what label the reader got) and every withheld part."""
    if not shown_label.is_public:
        policy.record_decision(session, user, policy.Decision(True, "granted"), object_table="minutes",
                               object_id=minutes.id, label=shown_label, route=route)
    for (group, key), (clause, label) in outcome.denied.items():
        policy.record_decision(session, user, policy.Decision(False, clause), object_table="minutes",
                               object_id=f"{minutes.id}#{group}:{key}",
                               label=label, route=route)


def record_not_found(session: Session, user, minutes_id: str, route: str) -> None:
    """A company user asked for minutes outside their filter (or that do not exist): audited, then 404."""
    policy.record_decision(session, user, policy.Decision(False, "not_invited"), object_table="minutes",
                           object_id=minutes_id[:40], label=None, route=route)


def is_staff(user) -> bool:
    return user.role in STAFF_ROLES
