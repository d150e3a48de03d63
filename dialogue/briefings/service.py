"""Briefings: list, open, write, release, withdraw, relabel — every access through clearance.policy.

Functions take a session and plain values; views only parse and render.
Nothing here answers "who may read": ``visible()`` composes the policy's SQL
filter with the briefing lifecycle, and ``open_briefing()`` double-checks a
loaded row with the pure ``policy.decide()`` and audits the decision either
way (realm "clearance", with the deciding clause). Audit entries name
briefings by id and label only: the audit log is read by administrators, who
hold no clearance, so titles and text never go there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, true
from sqlalchemy.orm import Session

from clearance import audit, files, policy
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.crypto import resealing
from clearance.db import new_id, utcnow
from clearance.filetypes import AllowList
from clearance.labels import Compartment, Label, LabelCompartment, Level, NotHostedHere, is_lowering, join, level_of
from clearance.people import copy_compartments, handlers_of, release_of, set_handlers, set_release
from clearance.permissions import Permission
from clearance.policy import LabelledTable, Subject
from dialogue.briefings import render
from dialogue.briefings.models import LABELLED, Briefing, BriefingAccess, BriefingTag

log = logging.getLogger("taiwa.briefings")

TABLE = "briefing"
PER_PAGE = 20
ATTACHMENT_KINDS = AllowList.of("pdf", "docx", "xlsx", "pptx", "txt", "csv", "png", "jpeg")
TAG_KINDS = ("risk", "sector", "tech", "material")


class NotAllowed(Exception):
    """The action is refused; `reason` is a stable code the view turns into a message."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------------------
# Who is looking
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The reader of this request: the account, its clearance facts (read now), and whether it writes."""

    user: UserAccount
    subject: Subject
    can_write: bool


def viewer(session: Session, user: UserAccount) -> Viewer:
    return Viewer(user, policy.subject(session, user), user.can(Permission.BRIEFINGS_WRITE))


def lifecycle_clause(v: Viewer, now: datetime) -> ColumnElement[bool]:
    """Readers see released, unexpired briefings; writers also drafts, withdrawn and expired ones."""
    if v.can_write:
        return true()
    return and_(Briefing.status == "released", or_(Briefing.expires_at.is_(None), Briefing.expires_at > now))


def visible(v: Viewer, now: datetime, spec: LabelledTable = LABELLED) -> ColumnElement[bool]:
    """The one WHERE clause for every briefing query: the access rule plus the lifecycle."""
    return and_(policy.readable_clause(spec, v.subject, now), lifecycle_clause(v, now))


# ---------------------------------------------------------------------------
# Listing and search
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    q: str = ""
    risk: str = ""
    sector: str = ""
    level: int | None = None
    status: str = ""


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    summary: str
    label: Label
    status: str
    released_at: datetime | None
    sort_at: datetime


@dataclass
class Page:
    items: list[Row]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def label(self) -> Label:
        """The list shows titles at several labels: as derived material it is labelled at their join."""
        return join(*(r.label for r in self.items))


#: how many briefings (readable and matching the other filters, newest first) a title search
#: decrypts: titles are sealed, so SQL cannot search them (docs/SECURITY.md §2)
TITLE_SEARCH_SCAN = 2000
_SCAN_CHUNK = 200


def _title_matches(session: Session, where: Sequence[ColumnElement[bool]], order: Sequence[Any], text: str,
                   enough: int) -> list[str]:
    """Ids of readable briefings (``where`` includes visible()) whose title contains ``text``
    (case-insensitive), in list order: candidates are decrypted a chunk at a time, stopping at
    ``enough`` matches (the page asked for and one more) or after TITLE_SEARCH_SCAN candidates."""
    needle, found, offset = text.casefold(), [], 0
    while offset < TITLE_SEARCH_SCAN and len(found) < enough:
        chunk = session.execute(select(Briefing.id, Briefing.title_ct, Briefing.level).where(*where)
                                .order_by(*order).offset(offset).limit(min(_SCAN_CHUNK, TITLE_SEARCH_SCAN - offset))
                                ).all()
        found += [r.id for r in chunk
                  if needle in (Briefing.title.open_column(r.title_ct, r.id, r.level) or "").casefold()]
        if len(chunk) < _SCAN_CHUNK:
            break
        offset += _SCAN_CHUNK
    return found


def list_page(session: Session, v: Viewer, now: datetime, filters: Filters, page: int = 1,
              per_page: int = PER_PAGE) -> Page:
    """One page of the briefings this viewer may read, newest first.

    No total count: counting every readable row would make the page cost grow
    with the table; "next" is known from one extra row. Titles and summaries
    are sealed at each briefing's level, so only the page's own are decrypted;
    the search covers titles, decrypting the newest TITLE_SEARCH_SCAN readable
    candidates (SQL cannot see sealed text, and what is not readable is never
    a candidate: visible() is in the WHERE clause)."""
    page = max(1, min(page, 10_000))
    where: list[ColumnElement[bool]] = [visible(v, now)]
    for kind, code in (("risk", filters.risk), ("sector", filters.sector)):
        if code:
            where.append(exists(select(BriefingTag.code).where(
                BriefingTag.briefing_id == Briefing.id, BriefingTag.kind == kind, BriefingTag.code == code)))
    if filters.level is not None:
        where.append(Briefing.level == filters.level)
    if filters.status and v.can_write:
        if filters.status == "expired":
            where += [Briefing.status == "released", Briefing.expires_at <= now]
        else:
            where.append(Briefing.status == filters.status)
    order = (Briefing.sort_at.desc(), Briefing.id.desc())
    if filters.q:
        ids = _title_matches(session, where, order, filters.q.strip()[:100], page * per_page + 1)
        wanted = ids[(page - 1) * per_page:page * per_page + 1]
        where = [Briefing.id.in_(wanted)]
        offset = 0
    else:
        offset = (page - 1) * per_page
    rows = session.execute(
        select(Briefing.id, Briefing.title_ct, Briefing.summary_ct, Briefing.level, Briefing.status,
               Briefing.released_at, Briefing.expires_at, Briefing.sort_at)
        .where(*where).order_by(*order).offset(offset).limit(per_page + 1)
    ).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    codes: dict[str, set[str]] = {}
    if rows:
        for oid, code in session.execute(
            select(LabelCompartment.owner_id, LabelCompartment.code)
            .where(LabelCompartment.owner_table == TABLE, LabelCompartment.owner_id.in_([r.id for r in rows]))
        ).all():
            codes.setdefault(oid, set()).add(code)
    items = []
    for r in rows:
        status = "expired" if r.status == "released" and r.expires_at is not None and r.expires_at <= now else r.status
        title = Briefing.title.open_column(r.title_ct, r.id, r.level) or ""
        summary = Briefing.summary.open_column(r.summary_ct, r.id, r.level) or ""
        items.append(Row(r.id, title, summary, Label.of(r.level, codes.get(r.id, ())), status,
                         r.released_at, r.sort_at))
    return Page(items, page, per_page, more)


# ---------------------------------------------------------------------------
# Opening one briefing (every route: page, PDF, attachment, edit)
# ---------------------------------------------------------------------------


@dataclass
class Opened:
    briefing: Briefing
    label: Label
    handlers: set[str]
    release: list[tuple[str, str]]


def _decide_for_row(session: Session, v: Viewer, b_id: str, level: int, now: datetime
                    ) -> tuple[policy.Decision, Label, set[str], list[tuple[str, str]]]:
    label = policy.label_of(session, TABLE, b_id, level)
    handlers = handlers_of(session, TABLE, b_id)
    release = release_of(session, TABLE, b_id)
    decision = policy.decide(v.subject, label, now, handlers=handlers, release=policy.Release.from_entries(release))
    return decision, label, handlers, release


def open_briefing(session: Session, v: Viewer, briefing_id: str, now: datetime, *, route: str) -> Opened | None:
    """The briefing if this viewer may open it on this route; None otherwise (the view answers 404).

    Loads through the SQL filter, re-checks with the pure rule (fail closed if
    they ever disagree), and audits the decision with its clause."""
    bid = (briefing_id or "")[:36]
    b = session.execute(select(Briefing).where(Briefing.id == bid, visible(v, now))).scalar_one_or_none()
    if b is not None:
        decision, label, handlers, release = _decide_for_row(session, v, b.id, b.level, now)
        if not decision.allowed:
            log.error("policy SQL filter and decide() disagree on %s for %s: %s", bid, v.user.id, decision.clause)
            decision = policy.Decision(False, f"disagreement:{decision.clause}")
        policy.record_decision(session, v.user, decision, object_table=TABLE, object_id=bid, label=label, route=route)
        return Opened(b, label, handlers, release) if decision.allowed else None
    decision, label = _explain_denial(session, v, bid, now)
    policy.record_decision(session, v.user, decision, object_table=TABLE, object_id=bid, label=label, route=route)
    return None


def _explain_denial(session: Session, v: Viewer, bid: str, now: datetime) -> tuple[policy.Decision, Label | None]:
    """Why the filter hid this id, for the audit log only (the response is the same 404 either way)."""
    row = session.execute(select(Briefing.level, Briefing.status, Briefing.expires_at).where(Briefing.id == bid)).first()
    # The same queries whether or not the id exists, so timing does not tell a guessed id from a real one.
    decision, label, _, _ = _decide_for_row(session, v, bid, row.level if row is not None else 0, now)
    if row is None:
        return policy.Decision(False, "not_found"), None
    if decision.allowed:  # the rule allows it: the lifecycle hides it from readers
        state = "expired" if row.status == "released" else row.status
        return policy.Decision(False, f"lifecycle_{state}"), label
    return decision, label


def record_read(session: Session, v: Viewer, opened: Opened, route: str, now: datetime,
                file_id: str | None = None) -> None:
    session.add(BriefingAccess(id=new_id(), briefing_id=opened.briefing.id, user_id=v.user.id,
                               user_name=v.user.display_name[:120], company_id=v.user.company_id, route=route,
                               file_id=file_id, accessed_at=now))


def tags_of(session: Session, briefing_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [] for k in TAG_KINDS}
    for kind, code in session.execute(
        select(BriefingTag.kind, BriefingTag.code).where(BriefingTag.briefing_id == briefing_id)
        .order_by(BriefingTag.kind, BriefingTag.code)
    ).all():
        out[kind].append(code)
    return out


def attachments(session: Session, briefing_id: str) -> list[files.StoredFile]:
    return files.files_of(session, TABLE, briefing_id)


def attachment(session: Session, opened: Opened, file_id: str) -> files.StoredFile | None:
    return session.execute(select(files.StoredFile).where(
        files.StoredFile.id == (file_id or "")[:36], files.StoredFile.owner_table == TABLE,
        files.StoredFile.owner_id == opened.briefing.id)).scalar_one_or_none()


def readers(session: Session, briefing_id: str, limit: int = 500) -> list[BriefingAccess]:
    return list(session.execute(
        select(BriefingAccess).where(BriefingAccess.briefing_id == briefing_id)
        .order_by(BriefingAccess.accessed_at.desc()).limit(limit)
    ).scalars())


def reader_count(session: Session, briefing_id: str) -> tuple[int, int]:
    """(readings, distinct readers)."""
    row = session.execute(select(func.count(), func.count(func.distinct(BriefingAccess.user_id)))
                          .where(BriefingAccess.briefing_id == briefing_id)).one()
    return int(row[0]), int(row[1])


def body_of(b: Briefing) -> render.Rendered:
    return render.render(b.body or "", b.level)


def document_label(label: Label, rendered: render.Rendered) -> Label:
    """A page or PDF of the briefing is labelled at least as high as every portion in it."""
    return join(label, *(Label(p.level, label.compartments) for p in rendered.portions))


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


@dataclass
class Designation:
    agency: str | None = None
    number: str | None = None
    designated_on: date | None = None
    expires_on: date | None = None

    @property
    def complete(self) -> bool:
        return bool(self.agency and self.number and self.designated_on and self.expires_on)


@dataclass
class BriefingInput:
    title: str
    summary: str
    body: str
    level: int | str = 0
    compartments: Sequence[str] = ()
    designation: Designation = field(default_factory=Designation)
    technology_domain: int | None = None
    tags: dict[str, Sequence[str]] = field(default_factory=dict)
    release: Sequence[tuple[str, str]] = ()
    handler_ids: Sequence[str] = ()
    expires_at: datetime | None = None


class InvalidInput(Exception):
    """Field → messages, for the form."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _messages() -> dict[str, Any]:
    from flask_babel import lazy_gettext as _l

    return {
        "level": _l("Choose one of the listed levels."),
        "compartment": _l("Choose compartments from the list."),
        "designation": _l("Level 2 needs the full designation: agency, number, date and expiry."),
        "designation_dates": _l("The designation must expire after the day it was made."),
        "above_document": _l("A section is marked above the briefing's own level. Raise the briefing or lower the section."),
        "own_clearance": _l("Your own clearance does not cover this label: %(why)s"),
        "handlers": _l("Not eligible as handlers: %(who)s"),
        "handlers_required": _l("Level 2 needs a handler list (取扱者名簿)."),
    }


def label_from(session: Session, level: int | str, compartments: Sequence[str]) -> Label:
    """Parse and check a label; NotHostedHere for 特定秘密, NotAllowed for anything unknown."""
    lvl = level_of(level)  # NotHostedHere propagates: the form shows its explanation
    codes = sorted(set(compartments))
    if codes:
        known = set(session.execute(select(Compartment.code).where(Compartment.code.in_(codes))).scalars())
        if known != set(codes):
            raise NotAllowed("compartment")
    return Label.of(lvl, codes)


def validate(session: Session, v: Viewer, inp: BriefingInput, now: datetime, *, label: Label | None = None
             ) -> tuple[Label, dict[str, list[str]]]:
    """Check an input against the label rules; returns (label, field errors)."""
    msg = _messages()
    errors: dict[str, list[str]] = {}

    def err(name: str, text: Any) -> None:
        errors.setdefault(name, []).append(str(text))

    if label is None:
        try:
            label = label_from(session, inp.level, inp.compartments)
        except NotHostedHere:
            err("level", NotHostedHere.EXPLANATION)
            return Label(), errors
        except NotAllowed:
            err("compartments", msg["compartment"])
            return Label(), errors
        except ValueError:
            err("level", msg["level"])
            return Label(), errors
        if label.level == Level.CRITICAL:
            if not inp.designation.complete:
                err("designation", msg["designation"])
            elif inp.designation.expires_on <= inp.designation.designated_on:  # type: ignore[operator]
                err("designation", msg["designation_dates"])
    rendered = render.render(inp.body, label.level)
    if "secret" in rendered.errors:
        err("body", NotHostedHere.EXPLANATION)
    if "above_document" in rendered.errors:
        err("body", msg["above_document"])
    own = policy.decide(v.subject, label, now, handlers=None, release=None)
    if not own.allowed:
        err("level", msg["own_clearance"] % {"why": policy.explain(own.clause)})
    if label.level == Level.CRITICAL:
        handlers = set(inp.handler_ids) | {v.user.id}
        verdicts = policy.eligibility(session, label, sorted(handlers), now)
        refused = {uid: d for uid, d in verdicts.items() if not d.allowed and uid != v.user.id}
        if refused:
            names = dict(session.execute(select(UserAccount.id, UserAccount.display_name)
                                         .where(UserAccount.id.in_(list(refused)))).all())
            who = "; ".join(f"{names.get(u, u)} ({policy.explain(d.clause)})" for u, d in refused.items())
            err("handlers", msg["handlers"] % {"who": who})
    return label, errors


def _audit(session: Session, actor: UserAccount, summary: str, b: Briefing, label: Label, kind: Kind = Kind.CHANGE,
           **data: Any) -> None:
    audit.append(session, realm="briefings", kind=kind, summary=summary, actor_id=actor.id, actor=actor.email,
                 data={"briefing": b.id, "label": label.code(), **data})


def _apply_content(session: Session, b: Briefing, inp: BriefingInput, actor: UserAccount, now: datetime) -> None:
    b.title = inp.title.strip()[:200]
    b.summary = (inp.summary or "").strip()[:4000]
    b.body = inp.body or ""
    b.technology_domain = inp.technology_domain
    b.expires_at = inp.expires_at
    b.updated_at = now
    session.execute(delete(BriefingTag).where(BriefingTag.briefing_id == b.id))
    for kind in TAG_KINDS:
        for code in sorted(set(inp.tags.get(kind, ()))):
            session.add(BriefingTag(briefing_id=b.id, kind=kind, code=code[:40]))
    set_release(session, TABLE, b.id, inp.release)
    wanted = set(inp.handler_ids)
    if b.level >= Level.CRITICAL and b.designator_id:
        wanted.add(b.designator_id)  # the designator always handles what they designated
    set_handlers(session, TABLE, b.id, wanted, actor.id)


def create(session: Session, v: Viewer, inp: BriefingInput, now: datetime | None = None) -> Briefing:
    now = now or utcnow()
    label, errors = validate(session, v, inp, now)
    if errors:
        raise InvalidInput(errors)
    b = Briefing(id=new_id(), level=int(label.level), status="draft", created_by=v.user.id, created_at=now,
                 updated_at=now, sort_at=now, designator_id=v.user.id, title="", summary="")
    if label.level == Level.CRITICAL:
        d = inp.designation
        b.designating_agency, b.designation_number = d.agency[:120], d.number[:60]  # type: ignore[index]
        b.designated_on, b.designation_expires_on = d.designated_on, d.expires_on
    session.add(b)
    _apply_content(session, b, inp, v.user, now)
    copy_compartments(session, TABLE, b.id, label.compartments)
    session.flush()
    _audit(session, v.user, "Briefing created", b, label)
    return b


def update(session: Session, v: Viewer, opened: Opened, inp: BriefingInput, now: datetime | None = None) -> Briefing:
    """Change content, tags, release and handler lists (not the label: see change_label)."""
    now = now or utcnow()
    b = opened.briefing
    if b.status == "withdrawn":
        raise NotAllowed("withdrawn")
    _, errors = validate(session, v, inp, now, label=opened.label)
    if errors:
        raise InvalidInput(errors)
    before_handlers = set(opened.handlers)
    _apply_content(session, b, inp, v.user, now)
    session.flush()
    after = handlers_of(session, TABLE, b.id)
    _audit(session, v.user, "Briefing changed", b, opened.label,
           handlers_added=sorted(after - before_handlers), handlers_removed=sorted(before_handlers - after),
           release=[f"{k}:{t}" for k, t in release_of(session, TABLE, b.id)])
    return b


def release(session: Session, v: Viewer, opened: Opened, now: datetime | None = None) -> None:
    now = now or utcnow()
    b = opened.briefing
    if b.status != "draft":
        raise NotAllowed("not_draft")
    b.status, b.released_at, b.released_by, b.sort_at, b.updated_at = "released", now, v.user.id, now, now
    _audit(session, v.user, "Briefing released", b, opened.label, Kind.POSITIVE,
           release=[f"{k}:{t}" for k, t in opened.release])


def withdraw(session: Session, v: Viewer, opened: Opened, reason: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    b = opened.briefing
    if b.status != "released":
        raise NotAllowed("not_released")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise NotAllowed("reason_required")
    b.status, b.withdrawn_at, b.withdrawn_by, b.withdrawn_reason, b.updated_at = "withdrawn", now, v.user.id, reason, now
    # The reason is sealed with the briefing; the audit log (read by administrators without clearance) only
    # records that one was given.
    _audit(session, v.user, "Briefing withdrawn", b, opened.label, Kind.NEGATIVE)


class _Chunks:
    """A read()-able stream over decrypted segments, to re-encrypt an attachment through clearance.files."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            nxt = next(self._chunks, None)
            if nxt is None:
                break
            self._buf += nxt
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


def change_label(session: Session, v: Viewer, opened: Opened, new: Label, designation: Designation, reason: str,
                 now: datetime | None = None) -> str:
    """Raise or lower a briefing's label; returns "raised" or "lowered".

    Lowering (anything the new label does not dominate) only by the
    designator, always with a reason. Body and attachments are re-sealed at
    the new level: the level is part of their encryption context, so a level
    changed in SQL instead leaves them unreadable."""
    now = now or utcnow()
    b, old = opened.briefing, opened.label
    if new == old:
        raise NotAllowed("unchanged")
    lowering = is_lowering(old, new)
    if lowering and b.designator_id != v.user.id:
        raise NotAllowed("designator_only")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise NotAllowed("reason_required")
    own = policy.decide(v.subject, new, now, handlers=None, release=None)
    if not own.allowed:
        raise NotAllowed("own_clearance", policy.explain(own.clause))
    if new.level == Level.CRITICAL and not designation.complete and old.level < Level.CRITICAL:
        raise NotAllowed("designation")
    with resealing(b):
        b.level = int(new.level)
        if new.level == Level.CRITICAL:
            if designation.complete:
                b.designating_agency, b.designation_number = designation.agency[:120], designation.number[:60]  # type: ignore[index]
                b.designated_on, b.designation_expires_on = designation.designated_on, designation.expires_on
            if old.level < Level.CRITICAL:
                b.designator_id = v.user.id  # who designates becomes the designator
        else:
            b.designating_agency = b.designation_number = None
            b.designated_on = b.designation_expires_on = None
    b.updated_at = now
    for stored in files.files_of(session, TABLE, b.id):
        if stored.level != b.level:
            _reseal_file(session, stored, b.level)
    copy_compartments(session, TABLE, b.id, new.compartments)
    if new.level == Level.CRITICAL and b.designator_id:
        set_handlers(session, TABLE, b.id, opened.handlers | {b.designator_id}, v.user.id)
    session.flush()
    what = "lowered" if lowering else "raised"
    audit.append(session, realm="clearance", kind=Kind.CHANGE, summary=f"Briefing label {what}",
                 actor_id=v.user.id, actor=v.user.email,
                 data={"object": f"{TABLE}:{b.id}", "from": old.code(), "to": new.code(), "reason": reason})
    return what


def _reseal_file(session: Session, stored: files.StoredFile, level: int) -> files.StoredFile:
    """Re-encrypt one attachment at a new level through the files interface (new row, old one deleted)."""
    fresh = files.save_upload(session, _Chunks(files.open_download(stored)), filename=stored.original_name or "file",
                              owner_table=stored.owner_table, owner_id=stored.owner_id, level=level,
                              kinds=ATTACHMENT_KINDS, max_bytes=max(stored.size, 1))
    files.delete_file(session, stored)
    return fresh


def add_attachment(session: Session, v: Viewer, opened: Opened, stream: BinaryIO, filename: str
                   ) -> files.StoredFile:
    """Store an upload sealed at the briefing's level (FileRejected propagates to the form)."""
    b = opened.briefing
    if b.status == "withdrawn":
        raise NotAllowed("withdrawn")
    stored = files.save_upload(session, stream, filename=filename, owner_table=TABLE, owner_id=b.id, level=b.level,
                               kinds=ATTACHMENT_KINDS)
    _audit(session, v.user, "Briefing attachment added", b, opened.label, file=stored.id, size=stored.size)
    return stored


def eligible_people(session: Session, label: Label, now: datetime, limit: int = 200) -> list[UserAccount]:
    """Accounts who could be put on the handler list at this label (clearance.policy.users_who_may_read)."""
    return list(session.execute(
        select(UserAccount).where(policy.users_who_may_read(label, now))
        .order_by(UserAccount.company_id.is_not(None), UserAccount.display_name).limit(limit)
    ).scalars())
