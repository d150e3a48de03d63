"""What the desk does, as plain functions of a SQLAlchemy session and plain values.

Views, commands, the demo seed and the tests call these. Nothing here reads
the request, and nothing here records an address, a user agent or a time
finer than a day for the submitter's actions. Callers commit.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clearance import audit, files
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.consult_access import DeskMember, case_for_submitter, cases_for_officer, on_roster
from clearance.crypto import DecryptionError
from clearance.db import new_id
from clearance.filetypes import AllowList, extension_of
from clearance.outbox import enqueue
from clearance.permissions import Permission, Role
from dialogue.consult import clock, receipt, scrub
from dialogue.consult.models import (
    CaseLabel,
    ConsultAttachment,
    ConsultCase,
    ConsultMessage,
    DayTally,
    FeedbackCandidate,
)
from dialogue.consult.taxonomy import CATEGORIES, LABELS, SECTORS, SIZE_CLASSES, STATUSES, TIERS, TRANSITIONS

REALM = "consult"
DESK_KINDS = AllowList.of("pdf", "png", "jpeg", "gif", "docx", "xlsx", "pptx", "txt", "csv")
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford-like: no 0/O, 1/I/L


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_row_id(value: str | None) -> bool:
    """A row id as new_id() makes them; anything else from a URL is a 404 before it reaches SQL."""
    return bool(value) and _ID.fullmatch(value) is not None


class DeskError(Exception):
    """Something the visitor or officer can fix; `message` is for them."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


class UploadRefused(DeskError):
    pass


# ---------------------------------------------------------------------------
# Uploads: cleaned in memory, then stored encrypted through clearance.files
# ---------------------------------------------------------------------------


@dataclass
class Upload:
    filename: str
    stream: BinaryIO


@dataclass
class Prepared:
    name: str  # the name it will be stored under
    kind: str
    data: bytes
    removed: list[str]


@dataclass(frozen=True)
class FileOutcome:
    """What the submitter is told about one file."""

    name: str
    removed: list[str]


_CLEANING_MESSAGES = {
    "encrypted": _l("%(name)s is password-protected, so its hidden details could not be removed. "
                    "Remove the password, or send the content another way."),
    "too_many_pixels": _l("%(name)s is too large an image. Send a smaller version."),
    "too_complex": _l("%(name)s is too large or too complex to be cleaned safely."),
    "bomb": _l("%(name)s would expand to many times its size when opened (a compressed archive bomb), "
               "so it was not accepted."),
    "unreadable": _l("%(name)s could not be read as the type its name says, so it was not accepted."),
    "unsupported": _l("%(name)s is not a type of file the desk accepts."),
}


def prepare_uploads(uploads: Sequence[Upload], *, max_files: int, max_bytes: int, keep_names: bool,
                    start_index: int = 1) -> list[Prepared]:
    """Read, check and clean every file in memory. Refuses the lot on the first problem:
    nothing is stored until all of them are clean."""
    real = [u for u in uploads if u.filename]
    if len(real) > max_files:
        raise UploadRefused(_l("You can attach at most %(n)d files at a time.", n=max_files))
    out = []
    for n, upload in enumerate(real, start=start_index):
        try:
            name = files.clean_filename(upload.filename)
        except files.FileRejected as exc:
            raise UploadRefused(exc.message) from None
        kind = DESK_KINDS.for_filename(name)
        if kind is None:
            raise UploadRefused(_l("%(name)s: this type of file is not accepted. Accepted: %(types)s.",
                                   name=name, types=", ".join(DESK_KINDS.extensions)))
        data = upload.stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise UploadRefused(_l("%(name)s is too large. The limit is %(size)s per file.",
                                   name=name, size=files.human_size(max_bytes)))
        if not data:
            raise UploadRefused(_l("%(name)s is empty.", name=name))
        try:
            cleaned = scrub.clean(data, kind.name)
        except scrub.CleaningRefused as exc:
            raise UploadRefused(_CLEANING_MESSAGES.get(exc.reason, _CLEANING_MESSAGES["unreadable"]) % {"name": name}) from None
        stored_name = name if keep_names else f"file-{n}{extension_of(name)}"
        out.append(Prepared(stored_name, kind.name, cleaned.data, cleaned.removed))
    return out


def attachment_count(session: Session, case_id: str | None) -> int:
    """How many files a case has (neutral names continue the numbering: file-4.pdf after three)."""
    if not case_id:
        return 0
    return session.scalar(select(func.count()).select_from(ConsultAttachment)
                          .where(ConsultAttachment.case_id == case_id)) or 0


def _store(session: Session, case: ConsultCase, message: ConsultMessage, prepared: Iterable[Prepared]) -> list[FileOutcome]:
    outcomes = []
    for p in prepared:
        try:
            stored = files.save_upload(
                session, io.BytesIO(p.data), filename=p.name, owner_table=ConsultMessage.__tablename__,
                owner_id=message.id, level=0, kinds=DESK_KINDS, max_bytes=len(p.data),
                in_database=True,  # nothing under the files dir: a new file's ctime would date the visit
            )
        except files.FileRejected as exc:
            raise UploadRefused(f"{p.name}: {exc.message}") from None
        att = ConsultAttachment(id=new_id(), case_id=case.id, message_id=message.id, stored_file_id=stored.id)
        att.removed = p.removed
        session.add(att)
        outcomes.append(FileOutcome(p.name, p.removed))
    return outcomes


@event.listens_for(files.StoredFile, "before_insert")
def _day_precision_for_desk_files(_mapper, _conn, target: files.StoredFile) -> None:
    # stored_file.created_at would otherwise record the upload to the microsecond.
    if target.owner_table.startswith("consult_"):
        target.created_at = clock.day_start_utc(clock.today())


# ---------------------------------------------------------------------------
# The submitter's side
# ---------------------------------------------------------------------------


@dataclass
class NewCase:
    category: str
    text: str
    sector: str | None = None
    tier: str | None = None
    size_class: str | None = None
    uploads: list[Prepared] = field(default_factory=list)


@dataclass(frozen=True)
class Submitted:
    receipt: str
    case_id: str
    case_key: bytes
    files: list[FileOutcome]


def _facts(category: str, sector: str | None, tier: str | None, size_class: str | None) -> dict[str, str | None]:
    if category not in CATEGORIES:
        raise DeskError(_l("Choose what your consultation is about."))
    for value, allowed in ((sector, SECTORS), (tier, TIERS), (size_class, SIZE_CLASSES)):
        if value and value not in allowed:
            raise DeskError(_l("Choose one of the options offered."))
    return {"category": category, "sector": sector or None, "tier": tier or None, "size": size_class or None}


def _new_ref(session: Session) -> str:
    while True:
        ref = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
        ref = f"{ref[:4]}-{ref[4:]}"
        if session.execute(select(ConsultCase.id).where(ConsultCase.ref == ref)).first() is None:
            return ref


def submit_case(session: Session, data: NewCase, *, ack_days: int) -> Submitted:
    """A new case with its first message and files; returns the receipt to show once."""
    pep = receipt.pepper(session)  # first: its creation may need its own transaction
    facts = _facts(data.category, data.sector, data.tier, data.size_class)
    text = data.text.strip()
    if not text:
        raise DeskError(_l("Please describe your situation."))
    today = clock.today()
    case = ConsultCase(id=new_id(), ref=_new_ref(session), status="new", created_on=today, last_activity_on=today,
                       ack_due_on=today + timedelta(days=ack_days), awaiting_ministry=True, notify_pending=True,
                       message_count=1)
    issued = receipt.issue(pep, case.id)
    case.lookup_id, case.receipt_hash = issued.lookup_id, issued.receipt_hash
    case.submitter_key_wrapped = issued.submitter_key_wrapped
    case.facts = facts
    case.submitter_state_ct = receipt.seal_state(issued.case_key, case.id, _state(seen=1))
    session.add(case)
    message = ConsultMessage(id=new_id(), case_id=case.id, seq=0, author="submitter", written_on=today)
    message.body = text
    session.add(message)
    session.flush()
    outcomes = _store(session, case, message, data.uploads)
    count(session, cases_submitted=1, files_from_submitters=len(outcomes))
    return Submitted(issued.receipt, case.id, issued.case_key, outcomes)


def _state(**values: Any) -> bytes:
    return json.dumps(values, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Opened:
    case_id: str
    case_key: bytes


def open_with_receipt(session: Session, typed: str | None) -> Opened | None:
    """The case this receipt opens, or None. Costs exactly one Argon2id verification either way,
    and answers the same for a wrong receipt and for one whose case was purged."""
    pep = receipt.pepper(session)
    canonical = receipt.normalise(typed)
    if canonical is None:
        receipt.verify_receipt(pep, "0" * receipt.LENGTH, None)
        return None
    row = session.execute(
        select(ConsultCase.id, ConsultCase.receipt_hash, ConsultCase.submitter_key_wrapped)
        .where(ConsultCase.lookup_id == receipt.lookup_id(pep, canonical))
    ).first()
    if not receipt.verify_receipt(pep, canonical, row.receipt_hash if row else None):
        return None
    case_key = receipt.unwrap_case_key(pep, canonical, row.id, row.submitter_key_wrapped)
    return Opened(row.id, case_key) if case_key else None


def check_receipt_written(expected: str, typed_last_group: str | None) -> bool:
    """The confirmation step: the last group the visitor copied must match (full-width digits too)."""
    typed = unicodedata.normalize("NFKC", "".join((typed_last_group or "").split()))
    return secrets.compare_digest(typed.encode(), receipt.grouped(expected)[-1].encode())


def open_pending(session: Session, typed: str | None, case_id: str | None) -> Opened | None:
    """The just-submitted case, opened with the receipt the confirmation form sent back.

    No Argon2 here: the visitor holds the pending case in their desk session
    already, and the case key only unwraps with the right receipt."""
    canonical = receipt.normalise(typed)
    if canonical is None or not case_id:
        return None
    pep = receipt.pepper(session)
    row = session.execute(
        select(ConsultCase.id, ConsultCase.submitter_key_wrapped)
        .where(ConsultCase.lookup_id == receipt.lookup_id(pep, canonical), ConsultCase.id == case_id)
    ).first()
    if row is None:
        return None
    case_key = receipt.unwrap_case_key(pep, canonical, row.id, row.submitter_key_wrapped)
    return Opened(row.id, case_key) if case_key else None


@dataclass(frozen=True)
class FileView:
    id: str
    name: str
    size: int
    removed: list[str]


@dataclass(frozen=True)
class MessageView:
    seq: int
    author: str  # "submitter" or "ministry"
    written_on: date
    body: str
    files: list[FileView]
    new: bool = False
    officer: str | None = None  # officers' view only


@dataclass(frozen=True)
class CaseView:
    id: str
    ref: str
    status: str
    created_on: date
    last_activity_on: date
    facts: dict[str, str | None]
    messages: list[MessageView]
    new_count: int = 0


def _load_files(session: Session, case_id: str) -> dict[str, list[FileView]]:
    rows = session.execute(
        select(ConsultAttachment, files.StoredFile)
        .join(files.StoredFile, files.StoredFile.id == ConsultAttachment.stored_file_id)
        .where(ConsultAttachment.case_id == case_id)
        .order_by(files.StoredFile.id)
    ).all()
    by_message: dict[str, list[FileView]] = {}
    for att, stored in rows:
        by_message.setdefault(att.message_id, []).append(
            FileView(att.id, stored.original_name or "file", stored.size, att.removed)
        )
    for views in by_message.values():
        views.sort(key=lambda f: f.name)
    return by_message


def submitter_case(session: Session, opened: Opened | None) -> CaseView | None:
    """The conversation as the submitter sees it; marks what is new since their last look."""
    case = session.execute(
        select(ConsultCase).where(case_for_submitter(opened.case_id if opened else None, ConsultCase.id))
    ).scalar_one_or_none()
    if case is None or opened is None:
        return None
    seen = 0
    if case.submitter_state_ct:
        raw = receipt.open_state(opened.case_key, case.id, case.submitter_state_ct)
        if raw is None:
            raise DecryptionError("submitter state does not open with this case key")
        seen = int(json.loads(raw).get("seen", 0))
    attachments = _load_files(session, case.id)
    messages = [
        MessageView(m.seq, m.author, m.written_on, m.body or "", attachments.get(m.id, []),
                    new=m.seq >= seen and m.author == "ministry")
        for m in case.messages
    ]
    if seen < case.message_count:
        case.submitter_state_ct = receipt.seal_state(opened.case_key, case.id, _state(seen=case.message_count))
    return CaseView(case.id, case.ref, case.status, case.created_on, case.last_activity_on, case.facts, messages,
                    new_count=sum(1 for m in messages if m.new))


def _next_seq(session: Session, case_id: str) -> int:
    """Atomically take the next message number (two writers never get the same one)."""
    t = ConsultCase.__table__
    return session.execute(
        update(t).where(t.c.id == case_id).values(message_count=t.c.message_count + 1).returning(t.c.message_count)
    ).scalar_one() - 1


def submitter_reply(session: Session, opened: Opened, text: str, uploads: Sequence[Prepared]) -> list[FileOutcome]:
    case = session.execute(
        select(ConsultCase).where(case_for_submitter(opened.case_id, ConsultCase.id))
    ).scalar_one_or_none()
    if case is None:
        raise DeskError(_l("This consultation is no longer available."))
    if case.status == "closed":
        raise DeskError(_l("This consultation is closed. To raise something new, start a new consultation."))
    text = text.strip()
    if not text and not uploads:
        raise DeskError(_l("Write a message or attach a file."))
    today = clock.today()
    seq = _next_seq(session, case.id)
    message = ConsultMessage(id=new_id(), case_id=case.id, seq=seq, author="submitter", written_on=today)
    message.body = text
    session.add(message)
    session.flush()
    outcomes = _store(session, case, message, uploads)
    session.refresh(case)
    case.last_activity_on, case.awaiting_ministry, case.notify_pending = today, True, True
    if case.status == "answered":
        case.status = "in_progress"
    raw = receipt.open_state(opened.case_key, case.id, case.submitter_state_ct) if case.submitter_state_ct else None
    seen = int(json.loads(raw).get("seen", 0)) if raw else 0
    if seen == seq:  # they had read everything before writing: their own message is not "new" to them
        case.submitter_state_ct = receipt.seal_state(opened.case_key, case.id, _state(seen=seq + 1))
    count(session, messages_from_submitters=1, files_from_submitters=len(outcomes))
    return outcomes


def submitter_file(session: Session, opened: Opened | None, attachment_id: str) -> files.StoredFile | None:
    """A file of the submitter's own case, or None (a 404 either way)."""
    row = session.execute(
        select(files.StoredFile)
        .join(ConsultAttachment, ConsultAttachment.stored_file_id == files.StoredFile.id)
        .where(ConsultAttachment.id == attachment_id,
               case_for_submitter(opened.case_id if opened else None, ConsultAttachment.case_id))
    ).scalar_one_or_none()
    return row


# ---------------------------------------------------------------------------
# Daily counts instead of per-action audit entries
# ---------------------------------------------------------------------------

TALLY_FIELDS = ("cases_submitted", "messages_from_submitters", "files_from_submitters", "receipts_accepted",
                "receipts_refused", "throttled", "bot_refused", "decryption_failures")


def count(session: Session, **increments: int) -> None:
    """Add to today's counters (an upsert: concurrent submitters never collide)."""
    increments = {k: v for k, v in increments.items() if v}
    if not increments:
        return
    unknown = set(increments) - set(TALLY_FIELDS)
    if unknown:
        raise ValueError(f"unknown tally fields {unknown}")
    t = DayTally.__table__
    day = clock.today()
    dialect = session.get_bind().dialect.name
    values = {"day": day, **{f: increments.get(f, 0) for f in TALLY_FIELDS}}
    if dialect in ("sqlite", "postgresql"):
        ins = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(t).values(**values)
        session.execute(ins.on_conflict_do_update(
            index_elements=[t.c.day], set_={f: t.c[f] + increments[f] for f in increments}))
        return
    if session.execute(update(t).where(t.c.day == day).values(
            **{f: t.c[f] + increments[f] for f in increments})).rowcount == 0:
        session.execute(t.insert().values(**values))


def close_day_tallies(session: Session) -> int:
    """Write one audit entry per finished day with desk activity, then forget that day's counts."""
    today = clock.today()
    done = 0
    for tally in session.execute(select(DayTally).where(DayTally.day < today).order_by(DayTally.day)).scalars():
        data = {"day": tally.day.isoformat(), **{f: getattr(tally, f) for f in TALLY_FIELDS}}
        audit.append(session, realm=REALM, kind=Kind.INFO, summary="Consultation desk: public activity of the day",
                     data=data)
        session.delete(tally)
        done += 1
    return done


# ---------------------------------------------------------------------------
# The ministry's side
# ---------------------------------------------------------------------------


def is_desk_officer(session: Session, user: UserAccount) -> bool:
    return bool(session.execute(select(on_roster(user))).scalar())


def desk_officers(session: Session) -> list[UserAccount]:
    return list(session.execute(
        select(UserAccount).join(DeskMember, DeskMember.user_id == UserAccount.id)
        .where(UserAccount.active.is_(True), UserAccount.role == Role.OFFICER.value)
        .order_by(UserAccount.display_name)
    ).scalars())


def officer_case(session: Session, user: UserAccount, case_id: str) -> ConsultCase | None:
    return session.execute(
        select(ConsultCase).where(ConsultCase.id == case_id, cases_for_officer(user, ConsultCase.id))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class InboxRow:
    id: str
    ref: str
    status: str
    category: str
    sector: str | None
    tier: str | None
    assignee: str | None
    assignee_id: str | None
    created_on: date
    last_activity_on: date
    ack_due_on: date
    overdue: bool
    awaiting_ministry: bool
    labels: list[str]
    messages: int


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None  # a status, "open" (not closed) or None for all
    who: str | None = None  # "me", "unassigned" or None
    label: str | None = None
    category: str | None = None


def inbox(session: Session, user: UserAccount, flt: InboxFilter) -> list[InboxRow]:
    """Cases the officer may see, newest activity first. Facts are sealed, so the category
    filter runs after decryption (a desk has hundreds of open cases, not millions)."""
    q = (
        select(ConsultCase, UserAccount.display_name)
        .outerjoin(UserAccount, UserAccount.id == ConsultCase.assignee_id)
        .where(cases_for_officer(user, ConsultCase.id))
        .order_by(ConsultCase.last_activity_on.desc(), ConsultCase.created_on.desc(), ConsultCase.ref)
    )
    if flt.status == "open":
        q = q.where(ConsultCase.status != "closed")
    elif flt.status in STATUSES:
        q = q.where(ConsultCase.status == flt.status)
    if flt.who == "me":
        q = q.where(ConsultCase.assignee_id == user.id)
    elif flt.who == "unassigned":
        q = q.where(ConsultCase.assignee_id.is_(None))
    if flt.label in LABELS:
        q = q.where(ConsultCase.labels.any(CaseLabel.label == flt.label))
    today = clock.today()
    rows = []
    for case, assignee in session.execute(q).all():
        facts = case.facts
        if flt.category in CATEGORIES and facts.get("category") != flt.category:
            continue
        rows.append(InboxRow(
            case.id, case.ref, case.status, facts.get("category") or "other", facts.get("sector"), facts.get("tier"),
            assignee, case.assignee_id, case.created_on, case.last_activity_on, case.ack_due_on,
            overdue=case.status == "new" and today > case.ack_due_on, awaiting_ministry=case.awaiting_ministry,
            labels=case.label_codes, messages=case.message_count,
        ))
    return rows


def officer_view(session: Session, user: UserAccount, case: ConsultCase) -> CaseView:
    names = dict(session.execute(select(UserAccount.id, UserAccount.display_name)).all())
    attachments = _load_files(session, case.id)
    messages = [
        MessageView(m.seq, m.author, m.written_on, m.body or "", attachments.get(m.id, []),
                    officer=names.get(m.officer_id) if m.officer_id else None)
        for m in case.messages
    ]
    audit.append(session, realm=REALM, kind=Kind.INFO, summary="Consultation case read",
                 actor_id=user.id, actor=user.email, data={"case": case.id, "ref": case.ref})
    return CaseView(case.id, case.ref, case.status, case.created_on, case.last_activity_on, case.facts, messages)


def officer_file(session: Session, user: UserAccount, case_id: str, attachment_id: str) -> files.StoredFile | None:
    return session.execute(
        select(files.StoredFile)
        .join(ConsultAttachment, ConsultAttachment.stored_file_id == files.StoredFile.id)
        .where(ConsultAttachment.id == attachment_id, ConsultAttachment.case_id == case_id,
               cases_for_officer(user, ConsultAttachment.case_id))
    ).scalar_one_or_none()


def ministry_reply(session: Session, user: UserAccount, case: ConsultCase, text: str,
                   uploads: Sequence[Prepared]) -> list[FileOutcome]:
    text = text.strip()
    if not text and not uploads:
        raise DeskError(_l("Write a reply or attach a file."))
    if case.status == "closed":
        raise DeskError(_l("Reopen the case before replying."))
    today = clock.today()
    seq = _next_seq(session, case.id)
    message = ConsultMessage(id=new_id(), case_id=case.id, seq=seq, author="ministry", officer_id=user.id,
                             written_on=today)
    message.body = text
    session.add(message)
    session.flush()
    outcomes = _store(session, case, message, uploads)
    session.refresh(case)
    before = case.status
    case.last_activity_on, case.awaiting_ministry = today, False
    if case.acknowledged_on is None:
        case.acknowledged_on = today
    case.status = "answered"
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Consultation answered",
                 actor_id=user.id, actor=user.email,
                 data={"case": case.id, "ref": case.ref, "files": len(outcomes), "status": [before, "answered"]})
    return outcomes


def assign(session: Session, user: UserAccount, case: ConsultCase, assignee_id: str | None, *, base_url: str) -> None:
    if assignee_id:
        officers = {o.id: o for o in desk_officers(session)}
        if assignee_id not in officers:
            raise DeskError(_l("Choose an officer on the desk roster."))
        assignee = officers[assignee_id]
    else:
        assignee = None
    before = case.assignee_id
    case.assignee_id = assignee.id if assignee else None
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Consultation assigned",
                 actor_id=user.id, actor=user.email,
                 data={"case": case.id, "ref": case.ref, "from": before, "to": case.assignee_id})
    if assignee is not None and assignee.id != user.id and assignee.id != before:
        _mail(session, assignee.email, "assigned", base_url)


def set_status(session: Session, user: UserAccount, case: ConsultCase, status: str) -> None:
    if status not in TRANSITIONS.get(case.status, ()):
        raise DeskError(_l("A case cannot move from this status to that one."))
    before = case.status
    today = clock.today()
    case.status = status
    if status in ("acknowledged", "in_progress", "answered") and case.acknowledged_on is None:
        case.acknowledged_on = today
    case.closed_on = today if status == "closed" else None
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Consultation status changed",
                 actor_id=user.id, actor=user.email, data={"case": case.id, "ref": case.ref, "status": [before, status]})


def set_labels(session: Session, user: UserAccount, case: ConsultCase, labels: Iterable[str]) -> None:
    wanted = {lbl for lbl in labels if lbl in LABELS}
    before = set(case.label_codes)
    if wanted == before:
        return
    case.labels[:] = [lbl for lbl in case.labels if lbl.label in wanted]
    for code in sorted(wanted - before):
        case.labels.append(CaseLabel(case_id=case.id, label=code))
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Consultation labels changed",
                 actor_id=user.id, actor=user.email,
                 data={"case": case.id, "ref": case.ref, "labels": sorted(wanted)})


def export_feedback(session: Session, user: UserAccount, case: ConsultCase, text: str, *,
                    share_sector: bool, share_tier: bool, share_size: bool) -> FeedbackCandidate:
    """An anonymised passage for the policy analysis. The candidate has no case id, no
    reference and only the month; the audit entry names the case but not the candidate."""
    text = text.strip()
    if not text:
        raise DeskError(_l("Write the anonymised text to pass on."))
    facts = case.facts
    item = FeedbackCandidate(
        id=new_id(), theme=facts.get("category") or "other",
        sector=facts.get("sector") if share_sector else None,
        tier=facts.get("tier") if share_tier else None,
        size_class=facts.get("size") if share_size else None,
        month=clock.first_of_month(clock.today()), created_by_id=user.id,
    )
    item.text = text
    session.add(item)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Consultation passage passed on as anonymised feedback",
                 actor_id=user.id, actor=user.email, data={"case": case.id, "ref": case.ref})
    return item


def quote_messages(case: ConsultCase, seqs: Iterable[int]) -> str:
    """The chosen submitter messages as a starting point for the anonymised text."""
    chosen = set(seqs)
    return "\n\n".join((m.body or "").strip() for m in case.messages if m.seq in chosen and m.author == "submitter")


# ---------------------------------------------------------------------------
# Roster
# ---------------------------------------------------------------------------


def roster_candidates(session: Session) -> list[UserAccount]:
    """Active officers whose role carries the desk permission and who are not on the roster yet."""
    from clearance.permissions import role_has

    on = select(DeskMember.user_id)
    return [u for u in session.execute(
        select(UserAccount).where(UserAccount.active.is_(True), UserAccount.id.not_in(on))
        .order_by(UserAccount.display_name)
    ).scalars() if role_has(u.role, Permission.CONSULT_DESK)]


def roster_add(session: Session, actor: UserAccount, user_id: str) -> None:
    if user_id not in {u.id for u in roster_candidates(session)}:
        raise DeskError(_l("Only active officers can staff the desk."))
    session.add(DeskMember(user_id=user_id, added_on=clock.today(), added_by_id=actor.id))
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Officer added to the consultation desk",
                 actor_id=actor.id, actor=actor.email, data={"user": user_id})


def roster_remove(session: Session, actor: UserAccount, user_id: str) -> None:
    member = session.get(DeskMember, user_id)
    if member is None:
        return
    session.delete(member)
    session.execute(update(ConsultCase).where(ConsultCase.assignee_id == user_id).values(assignee_id=None))
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Officer removed from the consultation desk",
                 actor_id=actor.id, actor=actor.email, data={"user": user_id})


# ---------------------------------------------------------------------------
# Mail with fixed wording, reminders, retention
# ---------------------------------------------------------------------------

#: Fixed wording, Japanese then English, and nothing of any case: not its reference, topic or count.
_MAIL_FOOTER = ("\n\nTaiwa にサインインして確認してください / Sign in to Taiwa to see it: {url}\n\n"
                "このメールは意図的に相談の内容に触れていません。\n"
                "This message says nothing about any consultation on purpose.")
MAIL = {
    "activity": ("Taiwa: 相談窓口に動きがあります / activity at the consultation desk",
                 "匿名相談窓口に新しい動きがあります。\nThere is activity at the anonymous consultation desk." + _MAIL_FOOTER),
    "reminder": ("Taiwa: 相談窓口の受付確認の期限 / an acknowledgement is due at the consultation desk",
                 "匿名相談窓口で、受付確認の期限が近いか過ぎている相談があります。\n"
                 "An acknowledgement is due, or overdue, at the anonymous consultation desk." + _MAIL_FOOTER),
    "assigned": ("Taiwa: 相談の担当になりました / a consultation was assigned to you",
                 "匿名相談窓口の相談があなたに割り当てられました。\n"
                 "A consultation at the anonymous consultation desk was assigned to you." + _MAIL_FOOTER),
}


def _mail(session: Session, to: str, kind: str, base_url: str) -> None:
    subject, body = MAIL[kind]
    enqueue(session, to=to, subject=subject, body=body.format(url=base_url.rstrip("/") + "/officer/consult"))


@dataclass
class ReminderReport:
    days_audited: int = 0
    activity_mails: int = 0
    reminder_mails: int = 0
    sessions_purged: int = 0


def send_reminders(session: Session, *, base_url: str, remind_days_before: int = 2) -> ReminderReport:
    """Run once a day (cron): audit yesterday's desk activity, mail the desk about new
    activity, and remind assignees of acknowledgements due within two days or overdue.

    Batching is deliberate: a mail sent at the moment of a submission would date it."""
    report = ReminderReport(days_audited=close_day_tallies(session))
    today = clock.today()
    roster = desk_officers(session)
    by_id = {o.id: o for o in roster}

    def recipients(case: ConsultCase) -> list[UserAccount]:
        if case.assignee_id in by_id:
            return [by_id[case.assignee_id]]
        return roster

    activity: set[str] = set()
    for case in session.execute(select(ConsultCase).where(ConsultCase.notify_pending.is_(True))).scalars():
        activity |= {o.email for o in recipients(case)}
        case.notify_pending = False
    reminders: set[str] = set()
    due = select(ConsultCase).where(
        ConsultCase.status == "new", ConsultCase.ack_due_on <= today + timedelta(days=remind_days_before),
        (ConsultCase.reminded_on.is_(None)) | (ConsultCase.reminded_on < today),
    )
    for case in session.execute(due).scalars():
        reminders |= {o.email for o in recipients(case)}
        case.reminded_on = today
    for email in sorted(activity):
        _mail(session, email, "activity", base_url)
    for email in sorted(reminders):
        _mail(session, email, "reminder", base_url)
    report.activity_mails, report.reminder_mails = len(activity), len(reminders)
    if activity or reminders:
        audit.append(session, realm=REALM, kind=Kind.INFO, summary="Consultation desk reminders sent",
                     data={"activity": len(activity), "reminders": len(reminders)})
    return report


@dataclass(frozen=True)
class Retention:
    closed_days: int
    answered_days: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Retention:
        return cls(int(config["TAIWA_CONSULT_RETENTION_CLOSED_DAYS"]), int(config["TAIWA_CONSULT_RETENTION_ANSWERED_DAYS"]))


def expired_cases(session: Session, retention: Retention, today: date | None = None) -> list[ConsultCase]:
    today = today or clock.today()
    return list(session.execute(
        select(ConsultCase).where(
            ((ConsultCase.status == "closed") & (ConsultCase.closed_on <= today - timedelta(days=retention.closed_days)))
            | ((ConsultCase.status == "answered")
               & (ConsultCase.last_activity_on <= today - timedelta(days=retention.answered_days)))
        ).order_by(ConsultCase.created_on)
    ).scalars())


def purge_case(session: Session, case: ConsultCase, rule: str) -> None:
    """Delete a case with its messages, files, labels and keys; the audit entry keeps no content."""
    stored = list(session.execute(
        select(files.StoredFile).join(ConsultAttachment, ConsultAttachment.stored_file_id == files.StoredFile.id)
        .where(ConsultAttachment.case_id == case.id)
    ).scalars())
    for row in stored:
        files.delete_file(session, row)
    n_messages = case.message_count
    case_id = case.id
    session.execute(delete(ConsultAttachment).where(ConsultAttachment.case_id == case_id))
    session.execute(delete(ConsultMessage).where(ConsultMessage.case_id == case_id))
    session.execute(delete(CaseLabel).where(CaseLabel.case_id == case_id))
    session.execute(delete(ConsultCase).where(ConsultCase.id == case_id))
    session.expunge(case)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Consultation case purged (retention)",
                 data={"case": case_id, "rule": rule, "messages": n_messages, "files": len(stored)})


def purge_expired(session: Session, retention: Retention) -> int:
    """Purge every case past its retention; returns how many."""
    done = 0
    for case in expired_cases(session, retention):
        rule = (f"closed+{retention.closed_days}d" if case.status == "closed"
                else f"answered+{retention.answered_days}d")
        purge_case(session, case, rule)
        done += 1
    return done


def counts_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(ConsultCase.status, func.count()).group_by(ConsultCase.status)).all())
