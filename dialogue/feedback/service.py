"""Feedback: capture, triage, answer, link to measures. Plain functions on a session and plain values.

Every entry point validates again what the form already checked, because the
minutes editor, the consultation desk and the JSON API call these functions too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from clearance import audit, outbox
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.people import copy_compartments
from dialogue.feedback.models import FeedbackCounter, FeedbackItem, FeedbackSector, PolicyMeasure, feedback_measure
from dialogue.feedback.taxonomy import (
    CATEGORIES,
    INSTRUMENTS,
    KINDS,
    SOURCES,
    STATUSES,
    SUBTOPICS,
    TRANSITIONS,
)
from dialogue.registry.models import Company, GroupMember, company_sector
from dialogue.registry.taxonomy import REGIONS, SECTORS, SIZE_CLASSES

MAX_TEXT = 4000
MAX_ANSWER = 8000
MAX_SECTORS = 5


class FeedbackInvalid(ValueError):
    """Input that may not be stored; `errors` maps field name to a translated message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class TransitionRefused(ValueError):
    """A status change the lifecycle does not allow."""


@dataclass
class FeedbackInput:
    """What a new feedback item consists of, whoever sends it."""

    text: str
    category: str
    subtopic: str
    instrument: str
    source: str = "company"
    kind: str = "request"
    sectors: Sequence[str] = ()
    tier: int | None = None
    region: str | None = None
    size_class: str | None = None
    level: int = 0
    compartments: Sequence[str] = field(default_factory=tuple)
    company_id: str | None = None
    association_id: str | None = None
    dialogue_id: str | None = None
    minutes_id: str | None = None
    minutes_key: str | None = None
    received_at: datetime | None = None


def validate(data: FeedbackInput) -> dict[str, str]:
    """Every problem with `data`, by field; empty when it may be stored."""
    errors: dict[str, str] = {}
    text = (data.text or "").strip()
    if not text:
        errors["text"] = _("Write what you would like the ministry to know.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("Keep it under %(n)d characters.", n=MAX_TEXT)
    if data.category not in CATEGORIES:
        errors["category"] = _("Choose a category.")
    sub = SUBTOPICS.get(data.subtopic)
    if sub is None:
        errors["subtopic"] = _("Choose a sub-topic.")
    elif data.category in CATEGORIES and sub.category != data.category:
        errors["subtopic"] = _("This sub-topic belongs to another category.")
    if data.instrument not in INSTRUMENTS:
        errors["instrument"] = _("Choose a policy instrument.")
    if data.source not in SOURCES:
        errors["source"] = _("Unknown source.")
    if data.kind not in KINDS:
        errors["kind"] = _("Choose whether this is a request or an opinion.")
    if len(set(data.sectors)) > MAX_SECTORS or not set(data.sectors) <= set(SECTORS):
        errors["sectors"] = _("Choose up to %(n)d sectors from the list.", n=MAX_SECTORS)
    if data.tier is not None and data.tier not in (1, 2, 3, 4):
        errors["tier"] = _("Choose a supply-chain tier from the list.")
    if data.region is not None and data.region not in REGIONS:
        errors["region"] = _("Choose a region from the list.")
    if data.size_class is not None and data.size_class not in SIZE_CLASSES:
        errors["size_class"] = _("Choose a company size from the list.")
    if data.level not in (0, 1, 2):
        errors["level"] = _("Unknown classification level.")
    if data.source == "anonymous" and data.company_id:
        errors["source"] = _("An anonymous item cannot name a company.")
    if data.source == "company" and not data.company_id:
        errors["company"] = _("A company item needs its company.")
    return errors


def next_ref(session: Session, year: int) -> str:
    """The next readable reference for `year`; the UPDATE serialises concurrent writers."""
    t = FeedbackCounter.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    session.execute(upsert(t).values(year=year, last=0).on_conflict_do_nothing(index_elements=["year"]))
    last = session.execute(update(t).where(t.c.year == year).values(last=t.c.last + 1).returning(t.c.last)).scalar_one()
    return f"FB-{year}-{last:05d}"


def create_item(session: Session, data: FeedbackInput, *, actor: UserAccount | None = None) -> FeedbackItem:
    """Store one item in the caller's transaction; raises FeedbackInvalid."""
    errors = validate(data)
    if errors:
        raise FeedbackInvalid(errors)
    now = utcnow()
    received = data.received_at or now
    item = FeedbackItem(
        id=new_id(),  # before the sealed text: the ciphertext is bound to the row id
        ref=next_ref(session, received.year),
        source=data.source,
        kind=data.kind,
        category=data.category,
        subtopic=data.subtopic,
        instrument=data.instrument,
        tier=data.tier,
        region=data.region,
        size_class=data.size_class,
        level=data.level,
        company_id=data.company_id,
        association_id=data.association_id,
        submitted_by_id=actor.id if actor is not None and data.source == "company" else None,
        dialogue_id=data.dialogue_id,
        minutes_id=data.minutes_id,
        minutes_key=data.minutes_key,
        status="received",
        received_at=received,
        status_changed_at=received,
    )
    item.text = data.text.strip()
    session.add(item)
    session.flush()
    if data.compartments:
        copy_compartments(session, "feedback_item", item.id, sorted(set(data.compartments)))
    if data.sectors:
        session.execute(insert(FeedbackSector.__table__), [{"item_id": item.id, "sector": s} for s in sorted(set(data.sectors))])
    if data.source != "anonymous":  # the desk's own log covers anonymous intake; nothing here may point back
        audit.append(session, realm="feedback", kind=Kind.CHANGE, summary="Feedback received",
                     actor_id=actor.id if actor else None, actor=actor.email if actor else "system",
                     data={"item": item.id, "ref": item.ref, "source": item.source, "category": item.category})
    return item


def company_profile(session: Session, company_id: str) -> tuple[list[str], str, str, int | None]:
    """(sectors, region, size class, most upstream tier) of a company, copied onto its items."""
    company = session.get(Company, company_id)
    if company is None:
        raise FeedbackInvalid({"company": _("Unknown company.")})
    sectors = session.execute(
        select(company_sector.c.sector).where(company_sector.c.company_id == company_id).order_by(company_sector.c.sector)
    ).scalars().all()
    tier = session.execute(select(func.min(GroupMember.tier)).where(GroupMember.company_id == company_id)).scalar()
    return list(sectors), company.region, company.size_class, tier


def submit_from_portal(
    session: Session, user: UserAccount, *, text: str, kind: str, category: str, subtopic: str, instrument: str,
    sectors: Sequence[str] = (),
) -> FeedbackItem:
    """A company member's request or opinion: their company, region, size and tier are filled in for them."""
    if not user.company_id:
        raise FeedbackInvalid({"company": _("Only company staff can send feedback here.")})
    own_sectors, region, size, tier = company_profile(session, user.company_id)
    return create_item(session, FeedbackInput(
        text=text, kind=kind, category=category, subtopic=subtopic, instrument=instrument, source="company",
        sectors=list(sectors) or own_sectors, tier=tier, region=region, size_class=size, company_id=user.company_id,
    ), actor=user)


def intake_anonymous(
    session: Session, *, text: str, category: str, subtopic: str, instrument: str, sectors: Sequence[str] = (),
    region: str | None = None, size_class: str | None = None, tier: int | None = None, received_at: datetime | None = None,
    actor: UserAccount | None = None,
) -> FeedbackItem:
    """An item from an anonymised consultation case. Takes no case id on purpose: nothing links back."""
    received = (received_at or utcnow()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Only the month is kept: an exact time could be matched against the desk's own records.
    item = create_item(session, FeedbackInput(
        text=text, kind="request", category=category, subtopic=subtopic, instrument=instrument, source="anonymous",
        sectors=sectors, tier=tier, region=region, size_class=size_class, received_at=received,
    ))
    audit.append(session, realm="feedback", kind=Kind.CHANGE, summary="Anonymous feedback taken in",
                 actor_id=actor.id if actor else None, actor=actor.email if actor else "system",
                 data={"item": item.id, "ref": item.ref, "category": item.category})
    return item


def classify(session: Session, item: FeedbackItem, *, category: str, subtopic: str, instrument: str,
             sectors: Sequence[str], tier: int | None, region: str | None, size_class: str | None,
             actor: UserAccount) -> None:
    """Officers correct how an item is filed (the sender's guess is often not where it belongs)."""
    probe = FeedbackInput(text="x", category=category, subtopic=subtopic, instrument=instrument, source="dialogue",
                          sectors=sectors, tier=tier, region=region, size_class=size_class)
    errors = validate(probe)
    if errors:
        raise FeedbackInvalid(errors)
    before = {"category": item.category, "subtopic": item.subtopic, "instrument": item.instrument}
    item.category, item.subtopic, item.instrument = category, subtopic, instrument
    item.tier, item.region, item.size_class = tier, region, size_class
    session.execute(delete(FeedbackSector.__table__).where(FeedbackSector.__table__.c.item_id == item.id))
    if sectors:
        session.execute(insert(FeedbackSector.__table__), [{"item_id": item.id, "sector": s} for s in sorted(set(sectors))])
    session.expire(item, ["sectors_rows"])
    audit.append(session, realm="feedback", kind=Kind.CHANGE, summary="Feedback reclassified",
                 actor_id=actor.id, actor=actor.email,
                 data={"item": item.id, "before": before, "after": {"category": category, "subtopic": subtopic,
                                                                     "instrument": instrument}})


def set_status(session: Session, item: FeedbackItem, status: str, *, actor: UserAccount) -> None:
    if status not in STATUSES:
        raise TransitionRefused(_("Unknown status."))
    if status == "answered":
        raise TransitionRefused(_("An item becomes answered when you send the official answer."))
    if status not in TRANSITIONS[item.status]:
        raise TransitionRefused(_("An item that is “%(a)s” cannot move to “%(b)s”.",
                                  a=str(STATUSES[item.status]), b=str(STATUSES[status])))
    before = item.status
    item.status = status
    item.status_changed_at = utcnow()
    audit.append(session, realm="feedback", kind=Kind.CHANGE, summary="Feedback status changed",
                 actor_id=actor.id, actor=actor.email, data={"item": item.id, "from": before, "to": status})


def answer(session: Session, item: FeedbackItem, text: str, *, actor: UserAccount, base_url: str = "") -> None:
    """Record the ministry's official answer and tell the sender (portal notice and mail, after commit)."""
    text = (text or "").strip()
    if not text:
        raise FeedbackInvalid({"answer": _("Write the answer.")})
    if len(text) > MAX_ANSWER:
        raise FeedbackInvalid({"answer": _("Keep it under %(n)d characters.", n=MAX_ANSWER)})
    first = item.status != "answered"
    now = utcnow()
    item.answer = text
    item.answered_by_id = actor.id
    item.answered_at = now
    item.status = "answered"
    item.status_changed_at = now
    audit.append(session, realm="feedback", kind=Kind.CHANGE,
                 summary="Feedback answered" if first else "Feedback answer revised",
                 actor_id=actor.id, actor=actor.email, data={"item": item.id, "ref": item.ref})
    if item.source == "company" and item.submitted_by_id:
        _notify_answer(session, item, base_url)


def _notify_answer(session: Session, item: FeedbackItem, base_url: str) -> None:
    from dialogue.portal.models import Notification

    person = session.get(UserAccount, item.submitted_by_id)
    if person is None or not person.active or person.company_id != item.company_id:
        return  # moved on, or to another company: the answer stays with the company's list
    link = f"/portal/feedback/{item.id}"
    with force_locale(person.locale or "ja"):
        title = _("The ministry answered your feedback %(ref)s", ref=item.ref)
        body = _("The Ministry of Economy, Trade and Industry has answered your feedback %(ref)s.\n\n"
                 "Read the answer in the portal:\n%(url)s\n", ref=item.ref, url=base_url.rstrip("/") + link)
    session.add(Notification(id=new_id(), user_id=person.id, kind="feedback", title=title[:300], link=link))
    outbox.enqueue(session, to=person.email, subject=title, body=body)


def set_measures(session: Session, item: FeedbackItem, measure_ids: Iterable[str], *, actor: UserAccount) -> None:
    wanted = set(measure_ids)
    known = set(session.execute(select(PolicyMeasure.id).where(PolicyMeasure.id.in_(wanted))).scalars()) if wanted else set()
    if wanted - known:
        raise FeedbackInvalid({"measures": _("Choose measures from the list.")})
    t = feedback_measure
    session.execute(delete(t).where(t.c.item_id == item.id))
    if known:
        session.execute(insert(t), [{"item_id": item.id, "measure_id": m} for m in sorted(known)])
    session.expire(item, ["measures"])
    audit.append(session, realm="feedback", kind=Kind.CHANGE, summary="Feedback linked to measures",
                 actor_id=actor.id, actor=actor.email, data={"item": item.id, "measures": sorted(known)})


def create_measure(session: Session, *, title_ja: str, title_en: str, category: str, instrument: str,
                   description: str, announced_on: datetime | None, actor: UserAccount | None) -> PolicyMeasure:
    errors: dict[str, str] = {}
    if not title_ja.strip() or len(title_ja) > 200:
        errors["title_ja"] = _("Give the measure a Japanese title (up to 200 characters).")
    if not title_en.strip() or len(title_en) > 200:
        errors["title_en"] = _("Give the measure an English title (up to 200 characters).")
    if category not in CATEGORIES:
        errors["category"] = _("Choose a category.")
    if instrument not in INSTRUMENTS:
        errors["instrument"] = _("Choose a policy instrument.")
    if len(description) > MAX_TEXT:
        errors["description"] = _("Keep it under %(n)d characters.", n=MAX_TEXT)
    if not errors and session.execute(select(PolicyMeasure.id).where(PolicyMeasure.title_ja == title_ja.strip())).first():
        errors["title_ja"] = _("A measure with this title already exists.")
    if errors:
        raise FeedbackInvalid(errors)
    measure = PolicyMeasure(id=new_id(), title_ja=title_ja.strip(), title_en=title_en.strip(), category=category,
                            instrument=instrument, description=description.strip(), announced_on=announced_on)
    session.add(measure)
    session.flush()
    audit.append(session, realm="feedback", kind=Kind.CHANGE, summary="Policy measure added",
                 actor_id=actor.id if actor else None, actor=actor.email if actor else "system",
                 data={"measure": measure.id})
    return measure


def measures(session: Session) -> list[PolicyMeasure]:
    return list(session.execute(select(PolicyMeasure).order_by(PolicyMeasure.category, PolicyMeasure.title_ja)).scalars())


# ---- reading -------------------------------------------------------------------------------------------------


def company_items(session: Session, company_id: str) -> list[FeedbackItem]:
    """A company's own items, newest first (the portal list)."""
    return list(session.execute(
        select(FeedbackItem).where(FeedbackItem.company_id == company_id, FeedbackItem.source != "anonymous")
        .order_by(FeedbackItem.received_at.desc())
    ).scalars())


def company_item(session: Session, company_id: str, item_id: str) -> FeedbackItem | None:
    """One of the company's items, or None (another company's id answers exactly like a missing one)."""
    return session.execute(
        select(FeedbackItem).where(FeedbackItem.id == item_id, FeedbackItem.company_id == company_id,
                                   FeedbackItem.source != "anonymous")
    ).scalar_one_or_none()


def items_query(filters) -> Select:
    """Officers' list: the analysis filters, newest first."""
    from dialogue.feedback.analysis import apply_filters

    return apply_filters(select(FeedbackItem), filters).order_by(FeedbackItem.received_at.desc(), FeedbackItem.ref)


# ---- intake from the anonymous consultation desk ---------------------------------------------------------------

#: the desk's case categories → the sub-topic they are filed under (the officer can reclassify)
CONSULT_THEMES = {
    "technology_transfer": "sme_technology",
    "acquisition": "acquisition_defence",
    "relocation_or_jv": "coercive_requests",
    "patent_infringement": "patent_abroad",
    "price_pass_through": "price_pass_through",
    "supply_coercion": "threat_information",
    "other": "anonymous_window",
}


def pending_consultations(session: Session) -> int:
    from dialogue.consult.models import FeedbackCandidate

    return session.execute(select(func.count()).select_from(FeedbackCandidate)
                           .where(FeedbackCandidate.taken_over.is_(False))).scalar_one()


def take_over_consultations(session: Session, *, actor: UserAccount | None) -> int:
    """Turn the desk's anonymised passages into feedback items and delete the passages.

    Only the passage's text, month and the coarse facts the desk officer chose to
    share come over; not the candidate's id, not who exported it. Deleting the
    candidate leaves no row on either side that could pair an item with a case.
    """
    from dialogue.consult.models import FeedbackCandidate

    candidates = list(session.execute(select(FeedbackCandidate).where(FeedbackCandidate.taken_over.is_(False))
                                      .with_for_update(skip_locked=True)).scalars())
    n = 0
    for c in candidates:
        sub = SUBTOPICS[CONSULT_THEMES.get(c.theme, "anonymous_window")]
        tier = int(c.tier) if c.tier and c.tier.isdigit() and 1 <= int(c.tier) <= 4 else None
        intake_anonymous(
            session, text=(c.text or "")[:MAX_TEXT] or "—", category=sub.category, subtopic=sub.code,
            instrument=sub.instrument, sectors=[c.sector] if c.sector in SECTORS else [],
            size_class=c.size_class if c.size_class in SIZE_CLASSES else None, tier=tier,
            received_at=datetime.combine(c.month, datetime.min.time()), actor=actor)
        session.delete(c)
        n += 1
    return n
