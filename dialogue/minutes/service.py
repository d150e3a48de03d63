"""Minutes: create, save revisions, compare, restore, the review lifecycle, corrections, addenda.

Plain functions on a session and plain values; views, the JSON API, the demo
seed and tests all go through them. Who may read which section is asked of
clearance.policy (dialogue.minutes.access wraps it); this module never decides
that itself.
"""

from __future__ import annotations

import copy
import difflib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from clearance import audit, outbox, policy
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.labels import Label, join
from clearance.people import copy_compartments, handlers_of, set_handlers
from dialogue.feedback import service as feedback_service
from dialogue.feedback.models import FeedbackItem, FeedbackSector
from dialogue.feedback.taxonomy import SUBTOPICS
from dialogue.minutes import access
from dialogue.minutes.document import (
    GROUPS,
    ActionItem,
    Attendee,
    Document,
    DocumentInvalid,
    InlineFeedback,
    Section,
    effective_labels,
    loads,
    validate,
)
from dialogue.minutes.models import (
    EDITABLE,
    Minutes,
    MinutesAddendum,
    MinutesCorrection,
    MinutesRevision,
)
from dialogue.minutes.render import TooLarge, to_html

REALM = "minutes"
MAX_CORRECTION = 4000
MAX_ADDENDUM = 20_000
MAX_DEADLINE_DAYS = 60


class MinutesError(Exception):
    """A refused action; `code` picks the message in messages.MESSAGES."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


class StaleRevision(Exception):
    """The save started from an older revision than the current one: show both and let the officer merge.

    It carries revision numbers and what the client sent (`yours`, never merged with anything
    stored); the current revision is shown through dialogue.minutes.reader like any other output."""

    def __init__(self, current: int, yours: Document, base: int) -> None:
        super().__init__(f"based on revision {base}, current is {current}")
        self.current = current
        self.yours = yours
        self.base = base


def _actor(actor: UserAccount) -> dict:
    return {"actor_id": actor.id, "actor": actor.email}


def _key(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def for_dialogue(session: Session, dialogue_id: str) -> Minutes | None:
    return session.execute(select(Minutes).where(Minutes.dialogue_id == dialogue_id)).scalar_one_or_none()


def revision(session: Session, minutes: Minutes, number: int | None = None) -> MinutesRevision | None:
    return session.execute(select(MinutesRevision).where(
        MinutesRevision.minutes_id == minutes.id,
        MinutesRevision.number == (minutes.current_revision if number is None else number))).scalar_one_or_none()


def revisions(session: Session, minutes: Minutes) -> list[MinutesRevision]:
    return list(session.execute(select(MinutesRevision).where(MinutesRevision.minutes_id == minutes.id)
                                .order_by(MinutesRevision.number.desc())).scalars())


def document_of(rev: MinutesRevision) -> Document:
    return loads(rev.content)


def current(session: Session, minutes: Minutes) -> tuple[Document, MinutesRevision]:
    rev = revision(session, minutes)
    if rev is None:  # the lock and the revisions disagree: never guess
        raise MinutesError("missing_revision")
    return document_of(rev), rev


def label_of(session: Session, minutes: Minutes) -> Label:
    return policy.label_of(session, "minutes", minutes.id, minutes.level)


def corrections(session: Session, minutes: Minutes, *, company_id: str | None = None) -> list[MinutesCorrection]:
    stmt = select(MinutesCorrection).where(MinutesCorrection.minutes_id == minutes.id)
    if company_id is not None:
        stmt = stmt.where(MinutesCorrection.company_id == company_id)
    return list(session.execute(stmt.order_by(MinutesCorrection.created_at)).scalars())


def open_corrections(session: Session, minutes: Minutes) -> int:
    return len([c for c in corrections(session, minutes) if c.status == "open"])


def addenda(session: Session, minutes: Minutes) -> list[MinutesAddendum]:
    return list(session.execute(select(MinutesAddendum).where(MinutesAddendum.minutes_id == minutes.id)
                                .order_by(MinutesAddendum.created_at)).scalars())


def addendum_label(session: Session, addendum: MinutesAddendum) -> Label:
    return policy.label_of(session, "minutes_addendum", addendum.id, addendum.level)


# ---------------------------------------------------------------------------
# Creating
# ---------------------------------------------------------------------------


def initial_document(session: Session, dialogue, default_label: Label) -> Document:
    """Attendees from the replies (accepted ones marked present), hosts, and a section per agenda item."""
    from dialogue.meetings.models import Invitation
    from dialogue.meetings.service import hosts_of
    from dialogue.registry.models import Company

    doc = Document()
    for host in hosts_of(session, dialogue.id):
        doc.attendees.append(Attendee(key=_key("a"), name=host.display_name, organisation=_("METI"),
                                      side="ministry", attended=True, user_id=host.id))
    rows = session.execute(
        select(Invitation, UserAccount, Company)
        .join(UserAccount, UserAccount.id == Invitation.user_id)
        .join(Company, Company.id == Invitation.company_id)
        .where(Invitation.dialogue_id == dialogue.id, Invitation.status.in_(("accepted", "pending", "waitlisted")))
        .order_by(Company.name_ja, UserAccount.display_name)
    ).all()
    for inv, user, company in rows:
        doc.attendees.append(Attendee(key=_key("a"), name=user.display_name, organisation=company.name_ja,
                                      side="company", attended=inv.status == "accepted", user_id=user.id,
                                      company_id=company.id))
    levels = {"level": int(default_label.level), "compartments": sorted(default_label.compartments)}
    for item in dialogue.agenda:
        doc.sections.append(Section(key=_key("s"), title=item.title, kind="agenda", agenda_item_id=item.id, **levels))
    if not dialogue.agenda:
        doc.sections.append(Section(key=_key("s"), title=_("Discussion"), kind="other", **levels))
    doc.sections.append(Section(key=_key("s"), title=_("Decisions"), kind="decisions", **levels))
    return doc


def create(session: Session, dialogue, *, actor: UserAccount) -> Minutes:
    """Start the minutes of a held dialogue (revision 1)."""
    if dialogue.status not in ("held", "closed"):
        raise MinutesError("dialogue_not_held")
    if for_dialogue(session, dialogue.id) is not None:
        raise MinutesError("exists")
    dialogue_label = policy.label_of(session, "dialogue", dialogue.id, dialogue.level)
    doc = initial_document(session, dialogue, dialogue_label)
    minutes = Minutes(id=new_id(), dialogue_id=dialogue.id, status="draft", level=int(dialogue_label.level),
                      current_revision=1, created_by_id=actor.id)
    session.add(minutes)
    session.flush()
    copy_compartments(session, "minutes", minutes.id, dialogue_label.compartments)
    rev = MinutesRevision(id=new_id(), minutes_id=minutes.id, number=1, author_id=actor.id,
                          author_name=actor.display_name, level=minutes.level, note=_("Started from the dialogue"))
    rev.content = doc.to_json()
    session.add(rev)
    # The handler list (取扱者名簿) for level-2 sections starts as the hosts and the invitees;
    # clearance.policy still checks each one's clearance on every read.
    people = {a.user_id for a in doc.attendees if a.user_id}
    set_handlers(session, "minutes", minutes.id, people, added_by=actor.id)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes started", **_actor(actor),
                 data={"minutes": minutes.id, "dialogue": dialogue.id, "label": dialogue_label.code()})
    return minutes


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------


def cited_labels(session: Session, actor: UserAccount, ids: Iterable[str]) -> dict[str, Label]:
    """Labels of the cited briefings the actor may read. Others are simply absent (never confirmed)."""
    from dialogue.briefings.models import LABELLED as BRIEFING
    from dialogue.briefings.models import Briefing

    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Briefing.id, Briefing.level).where(
        Briefing.id.in_(wanted), policy.readable(session, actor, utcnow(), BRIEFING))).all()
    return {bid: policy.label_of(session, "briefing", bid, level) for bid, level in rows}


def _merge_hidden(stored: Document, submitted: Document, outcome: access.PartAccess) -> Document:
    """Parts the author may not read are kept exactly as stored, at their stored place, whatever the
    submission says: the client can neither see, overwrite, relabel, delete nor move them. A submitted
    row reusing the key of such a part is dropped (it cannot be told from a forgery). Cites the author
    may not open stay on the sections they can read. Returns a new document; `submitted` is untouched."""
    merged = copy.deepcopy(submitted)
    for group in GROUPS:
        hidden = [(i, item) for i, item in enumerate(getattr(stored, group))
                  if (group, item.key) not in outcome.readable]
        if not hidden:
            continue
        hidden_keys = {item.key for _i, item in hidden}
        rows = [item for item in getattr(merged, group) if item.key not in hidden_keys]
        for index, item in hidden:
            rows.insert(min(index, len(rows)), copy.deepcopy(item))
        setattr(merged, group, rows)
    for s in merged.sections:
        old = stored.section(s.key)
        if old is not None and ("sections", s.key) in outcome.readable:
            shown = set(outcome.cites.get(s.key, []))
            s.cites = list(dict.fromkeys([*s.cites, *(b for b in old.cites if b not in shown)]))
    return merged


def _kept_cites(stored: Document, outcome: access.PartAccess) -> dict[str, set[str]]:
    """Per readable section, the stored cites the author may not open (kept, not checked again)."""
    return {s.key: {b for b in s.cites if b not in set(outcome.cites.get(s.key, []))}
            for s in stored.sections if ("sections", s.key) in outcome.readable}


def save(session: Session, minutes: Minutes, *, base: int, document: Document, actor: UserAccount,
         note: str = "", restored_from: int | None = None) -> MinutesRevision:
    """Store `document` as revision base+1. Raises StaleRevision, MinutesError or DocumentInvalid.

    `document` is what the author could see and changed; parts of the stored revision they may not
    read are merged back as stored (_merge_hidden) and nothing the client says about them is used."""
    if minutes.status not in EDITABLE:
        raise MinutesError("not_editable")
    submitted = copy.deepcopy(document)
    stored_doc, stored_rev = current(session, minutes)
    if base != minutes.current_revision:
        raise StaleRevision(minutes.current_revision, submitted, base)
    outcome = access.decide_parts(session, actor, minutes, stored_doc)
    hidden = set(outcome.denied)
    document = _merge_hidden(stored_doc, submitted, outcome)
    kept_cites = _kept_cites(stored_doc, outcome)

    withheld_names = {s.title for s in stored_doc.sections if ("sections", s.key) in hidden} | {
        f"{g[:-1] if g != 'feedback' else g} {k}" for g, k in hidden} | {k for _g, k in hidden}
    errors = [(_("a part you may not read") if w in withheld_names else w, m) for w, m in validate(document)]
    for s in document.sections:
        if ("sections", s.key) in hidden:
            continue  # kept as stored: checked when it was written, and never named to this author
        try:
            to_html(s.body)
        except TooLarge:
            errors.append((s.title or s.key, _("This section is too long.")))
    if errors:  # labels below are computed only from a document whose labels parse
        raise DocumentInvalid(errors)
    cited = cited_labels(session, actor, (b for s in document.sections for b in s.cites))
    hidden_sections = {k for g, k in hidden if g == "sections"}
    for s in document.sections:
        if ("sections", s.key) in hidden:
            continue  # kept as stored: checked when it was written
        unknown = [b for b in s.cites if b not in cited and b not in kept_cites.get(s.key, set())]
        if unknown:
            errors.append((s.title or s.key, _("A cited briefing does not exist or you may not read it.")))
            continue
        raised = join(s.label, *(cited[b] for b in s.cites if b in cited))
        if raised != s.label:
            if s.public:
                errors.append((s.title or s.key, _(
                    "This section cites classified briefings, so it cannot go into the public summary.")))
            s.level, s.compartments = int(raised.level), sorted(raised.compartments)
    for a in document.actions:
        if ("actions", a.key) in hidden:
            continue
        parent = document.parent_of_action(a)
        if parent is not None and parent.key in hidden_sections:
            errors.append((f"action {a.key}", _("Choose a section you can read for this action.")))
    for f in document.feedback:
        if ("feedback", f.key) not in hidden and f.section_key in hidden_sections:
            # the same words as for a section that does not exist: never confirm a withheld one
            errors.append((f"feedback {f.key}", _("The feedback points at a section that does not exist.")))
    if errors:
        raise DocumentInvalid(errors)
    facts = access.briefing_labels(session, (b for s in document.sections for b in s.cites))
    labels = effective_labels(document, facts)
    old_labels = effective_labels(stored_doc, facts)
    lowered = []
    for group in GROUPS:
        for item in getattr(document, group):
            part = (group, item.key)
            if part in hidden:
                continue  # kept as stored: checked when it was written
            where = item.title or item.key if group == "sections" else f"{group} {item.key}"
            if not access.may_write_label(session, actor, labels[part]):
                errors.append((where, _("You may not label a section above what you are cleared to read.")
                               if group == "sections" else
                               _("You may not label an entry above what you are cleared to read.")))
            old = old_labels.get(part)
            if old is not None and not _dominates(labels[part], old):
                lowered.append({"part": f"{group}:{item.key}", "from": old.code(), "to": labels[part].code()})
    if errors:
        raise DocumentInvalid(errors)

    label = join(*labels.values())
    number = base + 1
    now = utcnow()
    # The optimistic lock: only one save can move current_revision from `base` to `number`.
    claimed = session.execute(
        update(Minutes).where(Minutes.id == minutes.id, Minutes.current_revision == base,
                              Minutes.status.in_(sorted(EDITABLE)))
        .values(current_revision=number, level=int(label.level), updated_at=now)
    ).rowcount
    if claimed != 1:
        session.rollback()
        session.refresh(minutes)
        if minutes.status not in EDITABLE:
            raise MinutesError("not_editable")
        raise StaleRevision(minutes.current_revision, submitted, base)
    session.refresh(minutes)
    copy_compartments(session, "minutes", minutes.id, label.compartments)
    rev = MinutesRevision(id=new_id(), minutes_id=minutes.id, number=number, author_id=actor.id,
                          author_name=actor.display_name, level=int(label.level), note=note[:300] or None,
                          restored_from=restored_from, created_at=now)
    rev.content = document.to_json()
    session.add(rev)
    _sync_feedback(session, minutes, document, actor, labels)
    audit.append(session, realm=REALM, kind=Kind.CHANGE,
                 summary="Minutes revision restored" if restored_from else "Minutes saved", **_actor(actor),
                 data={"minutes": minutes.id, "revision": number, "label": label.code(),
                       "restored_from": restored_from})
    if lowered:
        audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes section label lowered",
                     **_actor(actor), data={"minutes": minutes.id, "revision": number, "sections": lowered})
    return rev


def _dominates(a: Label, b: Label) -> bool:
    from clearance.labels import dominates

    return dominates(a, b)


def restore(session: Session, minutes: Minutes, number: int, *, base: int, actor: UserAccount) -> MinutesRevision:
    """Make an old revision current again, as a new revision (history is never rewritten)."""
    from dialogue.minutes.reader import reader_view

    # The actor's own copy of the old revision: what they may not read of it is never resubmitted
    # (parts withheld from them in the current revision are merged back as stored by save()).
    old = reader_view(session, actor, minutes, number=number)
    return save(session, minutes, base=base, document=old.doc, actor=actor,
                note=_("Restored revision %(n)d", n=number), restored_from=number)


def _sync_feedback(session: Session, minutes: Minutes, doc: Document, actor: UserAccount,
                   labels: dict | None = None) -> None:
    """Inline feedback becomes feedback items (source "dialogue"), updated in place on later saves.

    An entry removed from the minutes removes its item only while nobody has worked on it yet."""
    from dialogue.meetings.models import Dialogue

    if labels is None:
        labels = effective_labels(doc, access.briefing_labels(session, (b for s in doc.sections for b in s.cites)))
    dialogue = session.get(Dialogue, minutes.dialogue_id)
    existing = {i.minutes_key: i for i in session.execute(
        select(FeedbackItem).where(FeedbackItem.minutes_id == minutes.id)).scalars()}
    wanted = {f.key: f for f in doc.feedback}
    for key, item in existing.items():
        if key not in wanted and item.status == "received" and not item.measures:
            session.delete(item)
    for key, entry in wanted.items():
        label = labels[("feedback", key)]  # the entry's effective label (document.effective_labels)
        sub = SUBTOPICS[entry.subtopic]
        item = existing.get(key)
        if item is None:
            sectors, region, size, tier = _speaker_profile(session, entry.company_id, dialogue)
            created = feedback_service.create_item(session, feedback_service.FeedbackInput(
                text=entry.text, kind=entry.kind, category=sub.category, subtopic=sub.code,
                instrument=entry.instrument, source="dialogue", sectors=sectors, tier=tier, region=region,
                size_class=size, level=int(label.level), compartments=sorted(label.compartments),
                company_id=entry.company_id, association_id=dialogue.association_id if dialogue else None,
                dialogue_id=minutes.dialogue_id, minutes_id=minutes.id, minutes_key=key,
                received_at=dialogue.starts_at if dialogue else None,
            ), actor=actor)
            if label.level >= 2:  # the minutes' handler list (取扱者名簿) governs the words it came from
                set_handlers(session, "feedback_item", created.id, handlers_of(session, "minutes", minutes.id),
                             added_by=actor.id)
            continue
        changed_level = item.level != int(label.level)
        if changed_level:
            text = entry.text
            answer = item.answer
            item.level = int(label.level)
            item.text = text
            item.answer = answer
        elif item.text != entry.text:
            item.text = entry.text
        copy_compartments(session, "feedback_item", item.id, label.compartments)
        if item.status == "received":
            item.category, item.subtopic, item.instrument, item.kind = sub.category, sub.code, entry.instrument, entry.kind


def _speaker_profile(session: Session, company_id: str | None, dialogue) -> tuple[list[str], str | None, str | None,
                                                                                   int | None]:
    if company_id:
        try:
            return feedback_service.company_profile(session, company_id)
        except feedback_service.FeedbackInvalid:
            pass
    return [], (dialogue.region if dialogue else None), None, None


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side comparison: left and right HTML, and what happened."""

    kind: str  # same | changed | added | removed
    left: Markup
    right: Markup
    left_no: int | None
    right_no: int | None


def _inline(a: str, b: str) -> tuple[Markup, Markup]:
    """Mark the changed characters inside a changed line."""
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    left, right = [], []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            left.append(escape(a[i1:i2]))
            right.append(escape(b[j1:j2]))
        else:
            if i2 > i1:
                left.append(Markup("<del>{}</del>").format(a[i1:i2]))
            if j2 > j1:
                right.append(Markup("<ins>{}</ins>").format(b[j1:j2]))
    return Markup("").join(left), Markup("").join(right)


def compare(old: list[str], new: list[str], *, context: int | None = None) -> list[DiffRow]:
    """Side-by-side rows (difflib). `context` keeps only that many unchanged lines around changes."""
    rows: list[DiffRow] = []
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                rows.append(DiffRow("same", escape(old[i1 + k]), escape(new[j1 + k]), i1 + k + 1, j1 + k + 1))
        elif op == "replace":
            for k in range(max(i2 - i1, j2 - j1)):
                a = old[i1 + k] if i1 + k < i2 else None
                b = new[j1 + k] if j1 + k < j2 else None
                if a is not None and b is not None:
                    left, right = _inline(a, b)
                    rows.append(DiffRow("changed", left, right, i1 + k + 1, j1 + k + 1))
                elif a is not None:
                    rows.append(DiffRow("removed", escape(a), Markup(""), i1 + k + 1, None))
                else:
                    rows.append(DiffRow("added", Markup(""), escape(b), None, j1 + k + 1))
        elif op == "delete":
            for k in range(i1, i2):
                rows.append(DiffRow("removed", escape(old[k]), Markup(""), k + 1, None))
        else:
            for k in range(j1, j2):
                rows.append(DiffRow("added", Markup(""), escape(new[k]), None, k + 1))
    if context is None:
        return rows
    keep = [False] * len(rows)
    for i, r in enumerate(rows):
        if r.kind != "same":
            for k in range(max(0, i - context), min(len(rows), i + context + 1)):
                keep[k] = True
    out: list[DiffRow] = []
    skipped = False
    for r, k in zip(rows, keep, strict=True):
        if k:
            out.append(r)
            skipped = False
        elif not skipped:
            out.append(DiffRow("skip", Markup("…"), Markup("…"), None, None))
            skipped = True
    return out


# ---------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------


def _transition(session: Session, minutes: Minutes, frm: Iterable[str], to: str, **values) -> None:
    """Move the status with a conditional UPDATE, so two officers clicking at once cannot both succeed."""
    frm = sorted(frm)
    done = session.execute(update(Minutes).where(Minutes.id == minutes.id, Minutes.status.in_(frm))
                           .values(status=to, updated_at=utcnow(), **values)).rowcount
    if done != 1:
        session.rollback()
        raise MinutesError("transition")
    session.refresh(minutes)


def submit_for_review(session: Session, minutes: Minutes, *, actor: UserAccount) -> None:
    """Draft → internal review: a second officer must approve before participants see anything."""
    if minutes.status != "draft":
        raise MinutesError("transition")
    _transition(session, minutes, ["draft"], "internal_review", submitted_by_id=actor.id, submitted_at=utcnow(),
                reviewed_by_id=None, reviewed_at=None, return_note_ct=None)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes sent to internal review", **_actor(actor),
                 data={"minutes": minutes.id, "revision": minutes.current_revision})


def approve_internal(session: Session, minutes: Minutes, *, actor: UserAccount, deadline: datetime,
                     base_url: str = "", now: datetime | None = None) -> int:
    """Internal review → participant review, by a second officer; participants are told. Returns how many."""
    now = now or utcnow()
    if minutes.status != "internal_review":
        raise MinutesError("transition")
    rev = revision(session, minutes)
    if actor.id == minutes.submitted_by_id or (rev is not None and rev.author_id == actor.id):
        raise MinutesError("second_officer")
    if deadline <= now + timedelta(hours=1) or deadline > now + timedelta(days=MAX_DEADLINE_DAYS):
        raise MinutesError("deadline", days=MAX_DEADLINE_DAYS)
    _transition(session, minutes, ["internal_review"], "participant_review", reviewed_by_id=actor.id,
                reviewed_at=now, correction_deadline=deadline)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes approved internally", **_actor(actor),
                 data={"minutes": minutes.id, "revision": minutes.current_revision,
                       "deadline": deadline.isoformat(timespec="minutes")})
    return _notify_participants(session, minutes, "review", base_url)


def return_to_draft(session: Session, minutes: Minutes, *, actor: UserAccount, note: str) -> None:
    note = (note or "").strip()
    if not note:
        raise MinutesError("note_required")
    _transition(session, minutes, ["internal_review", "participant_review", "approved"], "draft",
                return_note_ct=Minutes.return_note.seal_column(note[:1000], minutes.id),
                submitted_by_id=None, submitted_at=None, reviewed_by_id=None,
                reviewed_at=None, correction_deadline=None)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes returned to draft", **_actor(actor),
                 data={"minutes": minutes.id})


def approve(session: Session, minutes: Minutes, *, actor: UserAccount, base_url: str = "") -> None:
    """Participant review → approved, once every correction request has an answer."""
    if minutes.status != "participant_review":
        raise MinutesError("transition")
    if open_corrections(session, minutes):
        raise MinutesError("open_corrections")
    _transition(session, minutes, ["participant_review"], "approved", approved_by_id=actor.id, approved_at=utcnow())
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes approved", **_actor(actor),
                 data={"minutes": minutes.id, "revision": minutes.current_revision})
    _notify_participants(session, minutes, "approved", base_url)


def lock(session: Session, minutes: Minutes, *, actor: UserAccount) -> None:
    """Approved → locked: from now on only dated addenda."""
    if minutes.status != "approved":
        raise MinutesError("transition")
    _transition(session, minutes, ["approved"], "locked", locked_by_id=actor.id, locked_at=utcnow())
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes locked", **_actor(actor),
                 data={"minutes": minutes.id, "revision": minutes.current_revision})


def add_addendum(session: Session, minutes: Minutes, *, actor: UserAccount, body: str, level: int,
                 compartments: Iterable[str] = (), public: bool = False) -> MinutesAddendum:
    if minutes.status != "locked":
        raise MinutesError("addendum_needs_lock")
    body = (body or "").strip()
    if not body:
        raise MinutesError("addendum_empty")
    if len(body) > MAX_ADDENDUM:
        raise MinutesError("too_long", n=MAX_ADDENDUM)
    label = Label.of(level, compartments)
    if public and not label.is_public:
        raise MinutesError("public_needs_public_label")
    if not access.may_write_label(session, actor, label):
        raise MinutesError("label_above_clearance")
    add = MinutesAddendum(id=new_id(), minutes_id=minutes.id, author_id=actor.id, author_name=actor.display_name,
                          level=int(label.level), public=public)
    add.body = body
    session.add(add)
    session.flush()
    copy_compartments(session, "minutes_addendum", add.id, label.compartments)
    whole = join(label_of(session, minutes), label)
    if int(whole.level) != minutes.level:
        session.execute(update(Minutes).where(Minutes.id == minutes.id).values(level=int(whole.level)))
    copy_compartments(session, "minutes", minutes.id, whole.compartments)
    session.refresh(minutes)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes addendum added", **_actor(actor),
                 data={"minutes": minutes.id, "addendum": add.id, "label": label.code()})
    return add


# ---------------------------------------------------------------------------
# Participants' corrections
# ---------------------------------------------------------------------------


def request_correction(session: Session, minutes: Minutes, *, actor: UserAccount, body: str,
                       section_key: str | None, now: datetime | None = None) -> MinutesCorrection:
    """A participant asks for a change while the draft is out for review, until the deadline."""
    now = now or utcnow()
    if minutes.status != "participant_review":
        raise MinutesError("not_in_review")
    if minutes.correction_deadline is None or now > minutes.correction_deadline:
        raise MinutesError("deadline_passed")
    body = (body or "").strip()
    if not body:
        raise MinutesError("correction_empty")
    if len(body) > MAX_CORRECTION:
        raise MinutesError("too_long", n=MAX_CORRECTION)
    doc, _rev = current(session, minutes)
    level = minutes.level
    if section_key:
        outcome = access.decide_parts(session, actor, minutes, doc)
        if ("sections", section_key) not in outcome.readable:
            raise MinutesError("no_such_section")
        level = int(outcome.labels[("sections", section_key)].level)
    item = MinutesCorrection(id=new_id(), minutes_id=minutes.id, revision=minutes.current_revision,
                             section_key=section_key or None, author_id=actor.id, author_name=actor.display_name,
                             company_id=actor.company_id, level=level, status="open", created_at=now)
    item.body = body
    session.add(item)
    session.flush()
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes correction requested", **_actor(actor),
                 data={"minutes": minutes.id, "correction": item.id})
    return item


def resolve_correction(session: Session, minutes: Minutes, correction_id: str, *, actor: UserAccount, accept: bool,
                       response: str, base_url: str = "") -> MinutesCorrection:
    item = session.execute(select(MinutesCorrection).where(
        MinutesCorrection.id == correction_id[:36], MinutesCorrection.minutes_id == minutes.id)).scalar_one_or_none()
    if item is None:
        raise MinutesError("no_such_correction")
    from dialogue.minutes.reader import correction_readable, reader_view

    if not correction_readable(item, reader_view(session, actor, minutes)):
        raise MinutesError("no_such_correction")  # what the officer may not read is not there for them
    if item.status != "open":
        raise MinutesError("already_resolved")
    response = (response or "").strip()
    if len(response) > MAX_CORRECTION:
        raise MinutesError("too_long", n=MAX_CORRECTION)
    item.status = "accepted" if accept else "declined"
    item.response = response or None
    item.resolved_by_id = actor.id
    item.resolved_at = utcnow()
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Minutes correction answered", **_actor(actor),
                 data={"minutes": minutes.id, "correction": item.id, "status": item.status})
    if item.author_id:
        person = session.get(UserAccount, item.author_id)
        if person is not None and person.active:
            _notify(session, person, minutes, "correction", base_url)
    return item


# ---------------------------------------------------------------------------
# Notices
# ---------------------------------------------------------------------------


def participants(session: Session, minutes: Minutes) -> list[UserAccount]:
    """Invited company accounts of the dialogue that are still active."""
    from dialogue.meetings.models import Invitation

    return list(session.execute(
        select(UserAccount).join(Invitation, Invitation.user_id == UserAccount.id)
        .where(Invitation.dialogue_id == minutes.dialogue_id, UserAccount.active.is_(True),
               Invitation.status.in_(("accepted", "pending", "waitlisted")),
               UserAccount.company_id == Invitation.company_id)
        .distinct()
    ).scalars())


def _notify_participants(session: Session, minutes: Minutes, kind: str, base_url: str) -> int:
    people = participants(session, minutes)
    for person in people:
        _notify(session, person, minutes, kind, base_url)
    return len(people)


def _notify(session: Session, person: UserAccount, minutes: Minutes, kind: str, base_url: str) -> None:
    """Portal notice and mail in the person's language. No title or text: the dialogue may be classified,
    and mail leaves the ministry's systems."""
    from dialogue.portal.models import Notification

    link = f"/portal/minutes/{minutes.id}"
    with force_locale(person.locale or "ja"):
        titles: dict[str, Callable[[], str]] = {
            "review": lambda: _("Draft minutes are ready for your review"),
            "approved": lambda: _("Minutes of a dialogue you attended are final"),
            "correction": lambda: _("The ministry answered your correction request"),
        }
        title = titles[kind]()
        body = _("%(title)s.\n\nSign in to Taiwa to read them:\n%(url)s\n", title=title,
                 url=base_url.rstrip("/") + link)
        if kind == "review" and minutes.correction_deadline is not None:
            body += "\n" + _("You can request corrections until %(when)s (UTC).",
                             when=minutes.correction_deadline.strftime("%Y-%m-%d %H:%M"))
    session.add(Notification(id=new_id(), user_id=person.id, kind="minutes", title=title[:300], link=link))
    outbox.enqueue(session, to=person.email, subject=title, body=body)


# ---------------------------------------------------------------------------
# Forms and API helpers
# ---------------------------------------------------------------------------


def new_key(prefix: str) -> str:
    return _key(prefix)


def blank_rows(doc: Document, n_sections: int = 1, n_actions: int = 3, n_feedback: int = 2,
               n_attendees: int = 2) -> Document:
    """The document with empty rows appended for the HTML editor (no JavaScript: rows are pre-made)."""
    out = copy.deepcopy(doc)
    out.attendees += [Attendee(key=_key("a"), name="", attended=True, side="other") for _ in range(n_attendees)]
    out.sections += [Section(key=_key("s"), title="", kind="other") for _ in range(n_sections)]
    out.actions += [ActionItem(key=_key("t"), description="") for _ in range(n_actions)]
    out.feedback += [InlineFeedback(key=_key("f"), text="", subtopic="", instrument="") for _ in range(n_feedback)]
    return out


def purge_feedback_of(session: Session, minutes: Minutes) -> None:
    """Used by tests and the demo reset: drop the items captured from these minutes."""
    ids = list(session.execute(select(FeedbackItem.id).where(FeedbackItem.minutes_id == minutes.id)).scalars())
    if ids:
        session.execute(delete(FeedbackSector.__table__).where(FeedbackSector.__table__.c.item_id.in_(ids)))
        session.execute(delete(FeedbackItem).where(FeedbackItem.id.in_(ids)))


def handlers(session: Session, minutes: Minutes) -> set[str]:
    return handlers_of(session, "minutes", minutes.id)
