"""The one gate for minutes output: a reader's copy of a labelled minutes document.

`reader_view()` is the only function that turns a stored revision into something
shown to a person (page, editor, JSON, diff, PDF, public summary). It asks
dialogue.minutes.access — i.e. clearance.policy.decide, the one rule — about every
part, and builds a new Document holding only what the reader may read:

* a withheld section goes with its title, body, label, cites, and every action
  item and feedback item under it;
* a withheld action, feedback item or attendee row goes whole;
* a cite to a briefing the reader may not open is dropped from a section they
  may read;
* withheld addenda go whole.

What remains of the withheld parts is one number, `withheld` ("N parts
withheld"): no titles, no per-level counts, no keys, no positions. Views get a
ReaderCopy, never the stored Document; tests/minutes/test_reader_gate.py checks
by construction that no route reads the stored document around this module.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy.orm import Session

from clearance import policy
from clearance.db import utcnow
from clearance.labels import PUBLIC, InvalidLabel, Label, NotHostedHere, join
from dialogue.minutes import access, service
from dialogue.minutes.document import GROUPS, ActionItem, Document, InlineFeedback, Part, Section, effective_labels
from dialogue.minutes.models import Minutes, MinutesAddendum, MinutesRevision
from dialogue.minutes.render import TooLarge, to_html

#: the reader of the public summary (議事要旨): nobody in particular, cleared for nothing
PUBLIC_READER = None


class ReaderDocument(Document):
    """A document that came out of this gate (or is exactly what the client itself sent): the only
    kind a template may receive (tests/minutes/test_reader_gate.py watches every render)."""


def _as_reader_document(doc: Document) -> ReaderDocument:
    return ReaderDocument(attendees=doc.attendees, sections=doc.sections, actions=doc.actions, feedback=doc.feedback)


@dataclass(frozen=True)
class RevisionInfo:
    """What a page may say about the revision shown (never its sealed content or note)."""

    number: int
    author_id: str | None
    author_name: str
    created_at: datetime
    restored_from: int | None


@dataclass
class ReaderCopy:
    """One reader's copy of one revision: only parts they may read, and how many were withheld."""

    minutes_id: str
    revision: RevisionInfo
    doc: ReaderDocument
    labels: dict[Part, Label]
    withheld: int
    addenda: list[MinutesAddendum] = field(default_factory=list)
    addendum_labels: dict[str, Label] = field(default_factory=dict)

    @property
    def label(self) -> Label:
        """The join of everything in this copy: the banner of the page or PDF it becomes."""
        return join(*self.labels.values(), *self.addendum_labels.values())

    def label_of(self, group: str, key: str) -> Label:
        return self.labels[(group, key)]

    def section_label(self, s: Section) -> Label:
        return self.labels[("sections", s.key)]

    def actions_of(self, s: Section | None) -> list[ActionItem]:
        """Action items under section `s` (None: those under no section)."""
        return [a for a in self.doc.actions if _same(self.doc.parent_of_action(a), s)]

    def feedback_of(self, s: Section | None) -> list[InlineFeedback]:
        return [f for f in self.doc.feedback if _same(self.doc.section(f.section_key), s)]

    def html(self, s: Section) -> Markup | str:
        try:
            return to_html(s.body)
        except TooLarge:  # stored before a lower limit: shown escaped rather than fail
            return s.body

    def addendum_html(self, a: MinutesAddendum) -> Markup:
        return to_html(a.body, 20_000)

    def to_dict(self) -> dict:
        """The JSON form of this copy (the API and 409 bodies)."""
        return self.doc.to_dict()


def _same(a: Section | None, b: Section | None) -> bool:
    return (a.key if a else None) == (b.key if b else None)


def _public_subject() -> policy.Subject:
    return policy.Subject(user_id="", active=True)


def reader_view(session: Session, reader, minutes: Minutes, *, number: int | None = None,
                route: str | None = None, now: datetime | None = None) -> ReaderCopy:
    """The copy of revision `number` (default: the current one) that `reader` may receive.

    `reader` is a user account, or PUBLIC_READER for the public summary. With `route`, the read
    and every withheld part are audited (clearance.policy.record_decision). Raises
    service.MinutesError("no_such_revision") when the revision does not exist.
    """
    now = now or utcnow()
    if number is None:
        doc, rev = service.current(session, minutes)
    else:
        found = service.revision(session, minutes, number)
        if found is None:
            raise service.MinutesError("no_such_revision")
        doc, rev = service.document_of(found), found
    subject = _public_subject() if reader is PUBLIC_READER else policy.subject(session, reader)
    outcome = access.decide_parts(session, reader, minutes, doc, now, subject=subject)
    shown_addenda, withheld_addenda = access.readable_addenda(
        session, reader, service.addenda(session, minutes), subject=subject, now=now)
    return _build(minutes, rev, doc, outcome, shown_addenda, withheld_addenda, session, reader, route)


def _build(minutes: Minutes, rev: MinutesRevision, doc: Document, outcome: access.PartAccess,
           shown_addenda: list[MinutesAddendum], withheld_addenda: int, session: Session, reader,
           route: str | None) -> ReaderCopy:
    out = ReaderDocument()
    for group in ("attendees", "sections", "actions", "feedback"):
        for item in getattr(doc, group):
            if (group, item.key) in outcome.readable:
                getattr(out, group).append(copy.deepcopy(item))
    for s in out.sections:
        s.cites = list(outcome.cites.get(s.key, []))
    labels = {part: label for part, label in outcome.labels.items() if part in outcome.readable}
    result = ReaderCopy(
        minutes_id=minutes.id,
        revision=RevisionInfo(rev.number, rev.author_id, rev.author_name, rev.created_at, rev.restored_from),
        doc=out, labels=labels, withheld=len(outcome.denied) + outcome.withheld_cites + withheld_addenda,
        addenda=shown_addenda,
        addendum_labels={a.id: service.addendum_label(session, a) for a in shown_addenda})
    if route is not None and reader is not PUBLIC_READER:
        access.record_reading(session, reader, minutes, result.label, outcome, route)
    return result


def own_copy(doc: Document) -> ReaderCopy:
    """What a client sent, shaped like a copy so it can be compared with the current revision (the 409
    page): nothing stored is in it. Labels that do not parse (it was not validated) show as public."""
    try:
        labels = effective_labels(doc)
    except (InvalidLabel, NotHostedHere):
        labels = {(g, item.key): PUBLIC for g in GROUPS for item in getattr(doc, g)}
    return ReaderCopy(minutes_id="", revision=RevisionInfo(0, None, "", utcnow(), None),
                      doc=_as_reader_document(copy.deepcopy(doc)), labels=labels, withheld=0)


def withheld_text(n: int) -> str:
    return ngettext("%(num)d part is withheld: your clearance does not cover it.",
                    "%(num)d parts are withheld: your clearance does not cover them.", n)


def lines(c: ReaderCopy) -> list[str]:
    """A reader's copy as text lines, for comparing revisions: nothing but what the copy holds."""
    doc = c.doc
    out: list[str] = ["# " + _("Attendees")]
    for a in doc.attendees:
        mark = "x" if a.attended else " "
        text = f"[{mark}] {a.name} ({a.organisation})" if a.organisation else f"[{mark}] {a.name}"
        if a.note:
            text += f" — {a.note}"
        lab = c.label_of("attendees", a.key)
        out.append(text + (f"  [{lab.code()}]" if not lab.is_public else ""))

    def items_of(s: Section | None) -> None:
        acts = c.actions_of(s)
        if acts:
            out.append("### " + _("Action items"))
            for a in acts:
                out.append(f"[{'x' if a.done else ' '}] {a.description} — {a.owner} {a.due or ''}".rstrip()
                           + f"  [{c.label_of('actions', a.key).code()}]")
        fb = c.feedback_of(s)
        if fb:
            out.append("### " + _("Feedback captured"))
            for f in fb:
                out.append(f"- {f.text} [{f.subtopic}]  [{c.label_of('feedback', f.key).code()}]")

    for s in doc.sections:
        out.append("")
        out.append(f"## {s.title}  [{c.section_label(s).code()}{' · ' + _('public') if s.public else ''}]")
        out.extend(s.body.replace("\r\n", "\n").split("\n"))
        if s.cites:
            out.append(_("Cites: %(ids)s", ids=", ".join(s.cites)))
        items_of(s)
    if c.actions_of(None) or c.feedback_of(None):
        out.append("")
        items_of(None)
    if c.withheld:
        out.append("")
        out.append(withheld_text(c.withheld))
    return out


def public_summary_copy(session: Session, minutes: Minutes) -> ReaderCopy:
    """The copy for the public (no clearance): what the 議事要旨 may draw on."""
    return reader_view(session, PUBLIC_READER, minutes)


__all__ = ["PUBLIC_READER", "ReaderCopy", "ReaderDocument", "RevisionInfo", "lines", "own_copy", "public_summary_copy",
           "reader_view", "withheld_text"]


def correction_readable(correction, copy: ReaderCopy) -> bool:
    """A correction may quote what it is about: readable with its section, or (about the whole) when
    nothing of the minutes is withheld from this reader (a correction keeps a level only, not the
    compartments of what it quotes: fail closed)."""
    if correction.section_key:
        return copy.doc.section(correction.section_key) is not None
    return copy.withheld == 0
