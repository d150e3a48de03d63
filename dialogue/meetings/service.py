"""Dialogues: plan, repeat, invite, answer, change status — plain functions over a session.

Views parse input and call these; tests call them directly. Every change is audited in
realm "dialogue" inside the caller's transaction; mail goes to the outbox and leaves
after commit. Functions raise `Refused(code)` for anything the user must be told; the
view turns the code into a translated message.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from clearance import audit
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.permissions import COMPANY_ROLES, Role
from clearance.scoping import own_company
from dialogue.meetings import series as series_rules
from dialogue.meetings.models import (
    ACTIVE_REPLIES,
    FORMATS,
    OPEN_STATUSES,
    AdvanceTopic,
    AgendaItem,
    CalendarFeed,
    CompanyReach,
    Dialogue,
    DialogueSeries,
    Invitation,
    MeetingPreference,
    RsvpToken,
    dialogue_host,
)
from dialogue.meetings.times import DEFAULT_ZONE, NonexistentLocalTime, is_zone, local_input, to_utc
from dialogue.registry.models import (
    Association,
    Company,
    CompanyGroup,
    GroupMember,
    association_member,
    company_sector,
)

REALM = "dialogue"
MAX_AGENDA = 30
MAX_DURATION = timedelta(hours=24)
RSVP_MAX_TTL = timedelta(days=60)
#: how far back a personal feed reaches, and how many events it carries at most
FEED_PAST = timedelta(days=90)
FEED_LIMIT = 500
#: the statuses a dialogue may move to, from each status
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "planned": ("held", "cancelled", "postponed"),
    "invited": ("held", "cancelled", "postponed"),
    "held": ("closed",),
    "postponed": ("planned", "cancelled"),
    "closed": (),
    "cancelled": (),
}


class Refused(Exception):
    """The action cannot be done; `code` names the reason (views translate it)."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _actor_fields(actor: UserAccount | None, via: str | None = None) -> dict:
    if actor is None:
        return {"actor_id": None, "actor": "system"}
    label = actor.email if via is None else f"{actor.email} ({via})"
    return {"actor_id": actor.id, "actor": label}


# --------------------------------------------------------------------------- planning


@dataclass
class DialogueInput:
    """What an officer enters; times are wall-clock in ``time_zone``."""

    format: str
    counterpart_id: str
    title: str
    start_local: datetime
    end_local: datetime
    time_zone: str = DEFAULT_ZONE
    purpose: str = ""
    agenda: list[str] = field(default_factory=list)
    region: str | None = None
    venue: str = ""
    online_url: str = ""
    host_ids: list[str] = field(default_factory=list)
    level: int = 0
    answer_by_local: datetime | None = None
    seat_limit: int | None = None


@dataclass(frozen=True)
class Conflict:
    """A host already busy at that time."""

    host_name: str
    dialogue_id: str
    title_ct: bytes | None
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    level: int = 0

    @property
    def title(self) -> str:
        """Opened only when shown: the form shows it to officers cleared for the level."""
        return Dialogue.title.open_column(self.title_ct, self.dialogue_id, self.level) or ""


def _counterpart(session: Session, fmt: str, counterpart_id: str) -> dict[str, str | None]:
    if fmt not in FORMATS:
        raise Refused("format")
    ids: dict[str, str | None] = {"association_id": None, "group_id": None, "company_id": None}
    if fmt == "association":
        found = session.get(Association, counterpart_id)
        ids["association_id"] = found.id if found else None
    elif fmt == "company":
        found = session.get(Company, counterpart_id)
        ids["company_id"] = found.id if found else None
    else:
        found = session.get(CompanyGroup, counterpart_id)
        kind = "supply_chain" if fmt == "supply_chain" else "technology"
        ids["group_id"] = found.id if found is not None and found.kind == kind else None
    if not any(ids.values()):
        raise Refused("counterpart")
    return ids


def _utc_span(data: DialogueInput, start_local: datetime | None = None) -> tuple[datetime, datetime]:
    if not is_zone(data.time_zone):
        raise Refused("time_zone")
    start_local = start_local or data.start_local
    length = data.end_local - data.start_local
    if length <= timedelta(0):
        raise Refused("end_before_start")
    if length > MAX_DURATION:
        raise Refused("too_long")
    try:
        return to_utc(start_local, data.time_zone), to_utc(start_local + length, data.time_zone)
    except NonexistentLocalTime:
        raise Refused("nonexistent_time") from None


def _valid_hosts(session: Session, host_ids: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(h for h in host_ids if h))
    if not wanted:
        raise Refused("no_host")
    found = session.execute(
        select(UserAccount.id).where(UserAccount.id.in_(wanted), UserAccount.role == Role.OFFICER.value,
                                     UserAccount.active)
    ).scalars().all()
    if len(found) != len(wanted):
        raise Refused("host")
    return wanted


def officer_choices(session: Session) -> list[tuple[str, str]]:
    return [tuple(r) for r in session.execute(
        select(UserAccount.id, UserAccount.display_name)
        .where(UserAccount.role == Role.OFFICER.value, UserAccount.active).order_by(UserAccount.display_name)
    ).all()]


def host_conflicts(session: Session, host_ids: Sequence[str], spans: Sequence[tuple[datetime, datetime]],
                   exclude: Sequence[str] = ()) -> list[Conflict]:
    """Dialogues (not cancelled or postponed) of these hosts that overlap any of the spans."""
    if not host_ids or not spans:
        return []
    overlap = or_(*[and_(Dialogue.starts_at < end, Dialogue.ends_at > start) for start, end in spans])
    q = (
        select(UserAccount.display_name, Dialogue.id, Dialogue.title_ct, Dialogue.starts_at, Dialogue.ends_at,
               Dialogue.time_zone, Dialogue.level)
        .join(dialogue_host, dialogue_host.c.dialogue_id == Dialogue.id)
        .join(UserAccount, UserAccount.id == dialogue_host.c.user_id)
        .where(dialogue_host.c.user_id.in_(list(host_ids)), Dialogue.status.not_in(("cancelled", "postponed")),
               overlap)
        .order_by(Dialogue.starts_at)
        .limit(50)
    )
    if exclude:
        q = q.where(Dialogue.id.not_in(list(exclude)))
    return [Conflict(*row) for row in session.execute(q).all()]


@dataclass(frozen=True)
class Plan:
    """What create_dialogues would make: the spans, and the hosts' clashes with them."""

    spans: list[tuple[datetime, datetime]]
    conflicts: list[Conflict]
    rule: str | None


def plan(session: Session, data: DialogueInput, rule: str | None = None, exclude: Sequence[str] = ()) -> Plan:
    """Validate and expand; nothing is written. Raises Refused or series.SeriesError."""
    _counterpart(session, data.format, data.counterpart_id)
    hosts = _valid_hosts(session, data.host_ids)
    _check_fields(data)
    if rule:
        starts = series_rules.expand(rule, data.start_local)
        spans = [_utc_span(data, s) for s in starts]
        rule = series_rules.normalise(rule)
    else:
        spans = [_utc_span(data)]
    if data.answer_by_local is not None:
        try:
            answer_by = to_utc(data.answer_by_local, data.time_zone)
        except NonexistentLocalTime:
            raise Refused("nonexistent_time") from None
        if answer_by > spans[0][0]:
            raise Refused("deadline_after_start")
    return Plan(spans, host_conflicts(session, hosts, spans, exclude), rule)


def _check_fields(data: DialogueInput) -> None:
    if not data.title.strip():
        raise Refused("title")
    if data.level not in (0, 1, 2):
        raise Refused("level")
    if data.seat_limit is not None and data.seat_limit < 1:
        raise Refused("seat_limit")
    if data.online_url and not data.online_url.lower().startswith("https://"):
        raise Refused("online_url")
    if len([a for a in data.agenda if a.strip()]) > MAX_AGENDA:
        raise Refused("agenda_long", cap=MAX_AGENDA)


def _apply(dialogue: Dialogue, data: DialogueInput, ids: dict[str, str | None], span: tuple[datetime, datetime],
           answer_by: datetime | None) -> None:
    dialogue.format = data.format
    dialogue.association_id, dialogue.group_id, dialogue.company_id = (
        ids["association_id"], ids["group_id"], ids["company_id"])
    dialogue.title = data.title.strip()[:200]
    if dialogue.level != data.level:
        # Title, purpose, venue, link, reason and the agenda are sealed at the level: open them under
        # the old one, seal under the new.
        dialogue.reseal(data.level)
    dialogue.purpose = data.purpose.strip() or None
    dialogue.region = data.region or None
    dialogue.venue = data.venue.strip()[:300] or None
    dialogue.online_url = data.online_url.strip()[:500] or None
    dialogue.starts_at, dialogue.ends_at = span
    dialogue.time_zone = data.time_zone
    dialogue.answer_by = answer_by
    dialogue.seat_limit = data.seat_limit
    dialogue.updated_at = utcnow()


def _agenda_rows(dialogue_id: str, level: int, agenda: Iterable[str]) -> list[dict]:
    """Core insert rows, each title sealed at the dialogue's level under the item's own id."""
    items = [a.strip()[:300] for a in agenda if a.strip()]
    rows = []
    for n, t in enumerate(items, 1):
        item_id = new_id()
        rows.append({"id": item_id, "dialogue_id": dialogue_id, "position": n,
                     "title_ct": AgendaItem.title.seal_column(t, item_id, level)})
    return rows


def create_dialogues(session: Session, actor: UserAccount, data: DialogueInput, rule: str | None = None) -> list[Dialogue]:
    """Create one dialogue, or a linked series from an RRULE (same agenda, hosts and length)."""
    p = plan(session, data, rule)
    ids = _counterpart(session, data.format, data.counterpart_id)
    hosts = _valid_hosts(session, data.host_ids)
    series_id = None
    if p.rule:
        series_id = new_id()
        session.add(DialogueSeries(id=series_id, rule=p.rule, time_zone=data.time_zone, created_by=actor.id))
        session.flush()  # no relationship orders the inserts: the series row must exist first
    made = []
    lead = None
    if data.answer_by_local is not None:
        lead = p.spans[0][0] - to_utc(data.answer_by_local, data.time_zone)
    for span in p.spans:
        d = Dialogue(id=new_id(), level=data.level, status="planned", sequence=0, series_id=series_id,
                     created_by=actor.id)
        # Each dialogue of a series keeps the same answer lead time before its start.
        _apply(d, data, ids, span, None if lead is None else span[0] - lead)
        session.add(d)
        made.append(d)
    session.flush()
    agenda = [row for d in made for row in _agenda_rows(d.id, d.level, data.agenda)]
    if agenda:
        session.execute(insert(AgendaItem), agenda)
    session.execute(insert(dialogue_host), [{"dialogue_id": d.id, "user_id": h} for d in made for h in hosts])
    audit.append(session, realm=REALM, kind=Kind.CHANGE,
                 summary="Dialogue series planned" if series_id else "Dialogue planned",
                 # No title: the audit log is in clear and read by administrators without clearance.
                 data={"dialogues": [d.id for d in made], "level": made[0].level, "series": series_id,
                       "rule": p.rule, "conflicts_confirmed": len(p.conflicts)},
                 **_actor_fields(actor))
    return made


def hosts_of(session: Session, dialogue_id: str) -> list[UserAccount]:
    return list(session.execute(
        select(UserAccount).join(dialogue_host, dialogue_host.c.user_id == UserAccount.id)
        .where(dialogue_host.c.dialogue_id == dialogue_id).order_by(UserAccount.display_name)
    ).scalars())


def update_dialogue(session: Session, actor: UserAccount, dialogue: Dialogue, data: DialogueInput,
                    notify_invitees) -> list[str]:
    """Change a dialogue that has not yet taken place; returns the changed field names.

    A change of time or place raises SEQUENCE and tells every invitee still holding a place
    (``notify_invitees(dialogue, kind)`` sends mail and portal notices).
    """
    if dialogue.status not in ("planned", "invited", "postponed"):
        raise Refused("not_editable")
    p = plan(session, data, exclude=[dialogue.id])
    ids = _counterpart(session, data.format, data.counterpart_id)
    hosts = _valid_hosts(session, data.host_ids)
    answer_by = to_utc(data.answer_by_local, data.time_zone) if data.answer_by_local else None
    before = {k: getattr(dialogue, k) for k in ("title", "starts_at", "ends_at", "time_zone", "venue", "online_url",
                                                "level", "answer_by", "seat_limit", "region", "purpose", "format")}
    _apply(dialogue, data, ids, p.spans[0], answer_by)
    changed = [k for k, v in before.items() if getattr(dialogue, k) != v]
    old_agenda = [a.title for a in dialogue.agenda]
    new_agenda = [a.strip()[:300] for a in data.agenda if a.strip()]
    if old_agenda != new_agenda:
        changed.append("agenda")
        session.execute(delete(AgendaItem).where(AgendaItem.dialogue_id == dialogue.id))
        session.expire(dialogue, ["agenda"])
        rows = _agenda_rows(dialogue.id, dialogue.level, new_agenda)
        if rows:
            session.execute(insert(AgendaItem), rows)
    old_hosts = {h.id for h in hosts_of(session, dialogue.id)}
    if old_hosts != set(hosts):
        changed.append("hosts")
        session.execute(delete(dialogue_host).where(dialogue_host.c.dialogue_id == dialogue.id))
        session.execute(insert(dialogue_host), [{"dialogue_id": dialogue.id, "user_id": h} for h in hosts])
    visible = {"title", "starts_at", "ends_at", "time_zone", "venue", "online_url"}
    if visible & set(changed):
        dialogue.sequence += 1
        notify_invitees(dialogue, "update")
    if "seat_limit" in changed:
        _promote_waitlist(session, dialogue, notify_invitees)
    if changed:
        audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Dialogue changed",
                     data={"dialogue": dialogue.id, "fields": sorted(changed)}, **_actor_fields(actor))
    return changed


def change_status(session: Session, actor: UserAccount, dialogue: Dialogue, new: str, reason: str, notify_invitees,
                  now: datetime | None = None) -> None:
    """Move a dialogue along planned → invitations sent → held → closed, or cancel / postpone it.

    Cancelling and postponing need a reason, which invitees receive. Marking it held records
    every company that took part (did not decline) in company_reach for the overview.
    """
    now = now or utcnow()
    if new not in TRANSITIONS.get(dialogue.status, ()):
        raise Refused("transition")
    reason = (reason or "").strip()
    if new in ("cancelled", "postponed") and not reason:
        raise Refused("reason_required")
    if new == "held" and dialogue.starts_at > now:
        raise Refused("not_started")
    old = dialogue.status
    dialogue.status = new
    dialogue.updated_at = now
    if new in ("cancelled", "postponed"):
        dialogue.status_reason = reason[:4000]
        dialogue.sequence += 1
        notify_invitees(dialogue, new)
    elif new == "planned":  # a postponed dialogue gets a date again: invitees get the new one
        dialogue.status_reason = None
        dialogue.sequence += 1
        if _has_invitations(session, dialogue.id):
            dialogue.status = "invited"
            notify_invitees(dialogue, "update")
    elif new == "held":
        record_reach(session, dialogue)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary=f"Dialogue status {old} → {dialogue.status}",
                 # The reason is sealed with the dialogue; the audit log (in clear) only says that one was given.
                 data={"dialogue": dialogue.id, "from": old, "to": dialogue.status, "reason_given": bool(reason)},
                 **_actor_fields(actor))


def reschedule(session: Session, actor: UserAccount, dialogue: Dialogue, data: DialogueInput, notify_invitees) -> None:
    """Give a postponed dialogue its new date and bring it back to planned (or invitations sent)."""
    if dialogue.status != "postponed":
        raise Refused("transition")
    # Invitees hear once, from change_status, with the new date.
    update_dialogue(session, actor, dialogue, data, lambda *_: None)
    change_status(session, actor, dialogue, "planned", "", notify_invitees)


def edit_dialogue(session: Session, actor: UserAccount, dialogue: Dialogue, data: DialogueInput,
                  notify_invitees) -> None:
    """The edit form's save for one dialogue: a postponed one gets its new date, any other is updated."""
    if dialogue.status == "postponed":
        reschedule(session, actor, dialogue, data, notify_invitees)
    else:
        update_dialogue(session, actor, dialogue, data, notify_invitees)


# --------------------------------------------------------------------------- editing a series

#: what "this and all following" carries over to later dialogues, besides time of day and length;
#: the date, counterpart, answer deadline and seat limit stay each dialogue's own
SERIES_FIELDS = ("title", "purpose", "agenda", "venue", "online_url", "region", "host_ids", "level")


@dataclass(frozen=True)
class SeriesEdit:
    """What "this and all following" would do: the later dialogues to change with their new input,
    the later ones left as they are (held, closed, cancelled or postponed), and the hosts' clashes."""

    followers: list[tuple[Dialogue, DialogueInput]]
    skipped: list[Dialogue]
    conflicts: list[Conflict]


@dataclass(frozen=True)
class SeriesResult:
    changed: list[str]  # ids of the later dialogues that changed
    unchanged: int  # later planned ones that had nothing to change
    skipped: int  # later ones left alone because of their status


def input_of(session: Session, d: Dialogue) -> DialogueInput:
    """A dialogue's stored values as the edit form would give them (wall-clock in its own zone)."""
    return DialogueInput(
        format=d.format, counterpart_id=d.association_id or d.group_id or d.company_id or "", title=d.title,
        start_local=local_input(d.starts_at, d.time_zone), end_local=local_input(d.ends_at, d.time_zone),
        time_zone=d.time_zone, purpose=d.purpose or "", agenda=[a.title for a in d.agenda], region=d.region,
        venue=d.venue or "", online_url=d.online_url or "", host_ids=[h.id for h in hosts_of(session, d.id)], level=d.level,
        answer_by_local=local_input(d.answer_by, d.time_zone), seat_limit=d.seat_limit,
    )


def later_in_series(session: Session, dialogue: Dialogue, readable_level: int) -> list[Dialogue]:
    """The dialogues of its series that start after it and that the officer may read (level at most
    ``readable_level``), in order. One raised above the officer's clearance is left out entirely:
    not changed, not counted, exactly as if it were not in the series."""
    if not dialogue.series_id:
        return []
    return list(session.execute(
        select(Dialogue).where(Dialogue.series_id == dialogue.series_id, Dialogue.id != dialogue.id,
                               Dialogue.starts_at > dialogue.starts_at, Dialogue.level <= readable_level)
        .order_by(Dialogue.starts_at)
    ).scalars())


def _comparable(data: DialogueInput) -> dict[str, object]:
    """The carried-over fields as they would be stored, so an untouched field compares equal."""
    return {"title": data.title.strip()[:200], "purpose": data.purpose.strip(),
            "agenda": [a.strip()[:300] for a in data.agenda if a.strip()], "venue": data.venue.strip()[:300],
            "online_url": data.online_url.strip()[:500], "region": data.region or None,
            "host_ids": sorted(set(data.host_ids)), "level": data.level}


def _series_overlay(before: DialogueInput, data: DialogueInput) -> dict[str, object]:
    """The carried-over fields the officer changed on this dialogue (only those reach the others:
    a later dialogue's own venue, say, stays unless the venue was changed here)."""
    old, new = _comparable(before), _comparable(data)
    return {k: getattr(data, k) for k in SERIES_FIELDS if old[k] != new[k]}


def _time_change(before: DialogueInput, data: DialogueInput) -> tuple[timedelta, timedelta | None]:
    """The wall-clock change of the start's time of day, and the new length if it changed.

    Wall clock, not UTC: 10:00 → 11:00 makes every later dialogue start at 11:00 in its own
    zone, whichever side of a daylight-saving change it falls on."""
    old_start = before.start_local
    shift = datetime.combine(old_start.date(), data.start_local.time()) - old_start
    old_length, new_length = before.end_local - old_start, data.end_local - data.start_local
    return shift, (new_length if new_length != old_length else None)


def _follower_input(base: DialogueInput, overlay: dict[str, object], shift: timedelta,
                    length: timedelta | None) -> DialogueInput:
    start = base.start_local + shift
    if start.date() != base.start_local.date():  # each dialogue keeps its own date
        raise Refused("series_day_change", on=base.start_local.date())
    end = start + (length if length is not None else base.end_local - base.start_local)
    new = replace(base, start_local=start, end_local=end, **overlay)
    try:
        _utc_span(new)  # a time the clocks skip on that date, or too long
    except Refused as exc:
        raise Refused(exc.code, on=base.start_local.date(), **exc.values) from None
    return new


def plan_series_edit(session: Session, actor: UserAccount, dialogue: Dialogue, data: DialogueInput) -> SeriesEdit:
    """Validate "this and all following" and work out what it would change; nothing is written.

    Later dialogues still planned or with invitations sent take the changed fields, the new time
    of day and the new length (each on its own date); the others are skipped. Conflicts cover
    every changed dialogue, as a single edit's warning covers that one."""
    if data.time_zone != dialogue.time_zone:
        raise Refused("series_zone")
    before = input_of(session, dialogue)
    overlay = _series_overlay(before, replace(data, host_ids=_valid_hosts(session, data.host_ids)))
    shift, length = _time_change(before, data)
    followers: list[tuple[Dialogue, DialogueInput]] = []
    skipped: list[Dialogue] = []
    for d in later_in_series(session, dialogue, cleared_level(session, actor.id)):
        if d.status not in OPEN_STATUSES:
            skipped.append(d)
            continue
        # A new level reaches only the dialogues that shared this one's level: one raised on its own
        # keeps its label (a series edit never lowers what someone else raised).
        own = overlay if d.level == before.level else {k: v for k, v in overlay.items() if k != "level"}
        followers.append((d, _follower_input(input_of(session, d), own, shift, length)))
    changing = [dialogue.id, *(d.id for d, _ in followers)]
    conflicts = list(plan(session, data, exclude=changing).conflicts)
    by_hosts: dict[tuple[str, ...], list[tuple[datetime, datetime]]] = {}
    for _d, new in followers:
        by_hosts.setdefault(tuple(sorted(set(new.host_ids))), []).append(_utc_span(new))
    for hosts, spans in by_hosts.items():
        conflicts += host_conflicts(session, hosts, spans, exclude=changing)
    unique = {(c.host_name, c.dialogue_id): c for c in conflicts}
    return SeriesEdit(followers, skipped, sorted(unique.values(), key=lambda c: (c.starts_at, c.host_name)))


def update_series(session: Session, actor: UserAccount, dialogue: Dialogue, data: DialogueInput,
                  notify_invitees) -> SeriesResult:
    """Save "this and all following": this dialogue as a single edit would, then each later planned
    one through update_dialogue, so SEQUENCE, invitees' updated .ics and the audit work alike.
    A refusal on any of them raises (naming its date in ``on``) and the caller rolls back all."""
    edit = plan_series_edit(session, actor, dialogue, data)  # before this dialogue changes: it is the reference
    edit_dialogue(session, actor, dialogue, data, notify_invitees)
    changed, unchanged = [], 0
    for d, new in edit.followers:
        try:
            fields = update_dialogue(session, actor, d, new, notify_invitees)
        except Refused as exc:
            raise Refused(exc.code, on=local_input(d.starts_at, d.time_zone).date(), **exc.values) from None
        if fields:
            changed.append(d.id)
        else:
            unchanged += 1
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Dialogue series changed",
                 data={"series": dialogue.series_id, "from": dialogue.id, "dialogues": changed,
                       "skipped": [d.id for d in edit.skipped]}, **_actor_fields(actor))
    return SeriesResult(changed, unchanged, len(edit.skipped))


def series_outlook(session: Session, actor: UserAccount, dialogue: Dialogue) -> tuple[int, int]:
    """For the edit form: how many later dialogues "this and all following" would reach, and skip."""
    later = later_in_series(session, dialogue, cleared_level(session, actor.id))
    reach = sum(1 for d in later if d.status in OPEN_STATUSES)
    return reach, len(later) - reach


def _has_invitations(session: Session, dialogue_id: str) -> bool:
    return session.execute(select(exists().where(Invitation.dialogue_id == dialogue_id))).scalar_one()


def record_reach(session: Session, dialogue: Dialogue) -> int:
    """Upsert company_reach for the companies that took part; returns how many."""
    companies = session.execute(
        select(Invitation.company_id).where(Invitation.dialogue_id == dialogue.id,
                                            Invitation.status.in_(("accepted", "pending"))).distinct()
    ).scalars().all()
    if dialogue.format == "company" and dialogue.company_id not in companies:
        companies = [*companies, dialogue.company_id]
    if not companies:
        return 0
    known = {r.company_id: r for r in session.execute(
        select(CompanyReach).where(CompanyReach.company_id.in_(companies))).scalars()}
    for cid in companies:
        row = known.get(cid)
        if row is None:
            session.add(CompanyReach(company_id=cid, first_at=dialogue.starts_at, last_at=dialogue.starts_at,
                                     dialogues=1))
        else:
            row.first_at = min(row.first_at, dialogue.starts_at)
            row.last_at = max(row.last_at, dialogue.starts_at)
            row.dialogues += 1
    return len(companies)


# --------------------------------------------------------------------------- invitations


@dataclass
class InviteFilter:
    """Which companies to ask. Every filter given must hold (AND); an empty filter asks nobody."""

    association_id: str | None = None
    group_id: str | None = None
    tiers: list[int] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    company_id: str | None = None

    def is_empty(self) -> bool:
        return not (self.association_id or self.group_id or self.regions or self.sectors or self.sizes
                    or self.company_id)

    @classmethod
    def for_counterpart(cls, dialogue: Dialogue) -> InviteFilter:
        return cls(association_id=dialogue.association_id, group_id=dialogue.group_id,
                   company_id=dialogue.company_id)


@dataclass(frozen=True)
class Candidate:
    company_id: str
    company_ja: str
    company_en: str
    user_id: str | None
    user_name: str | None
    email: str | None
    #: why this person will not be asked (None: will be invited)
    excluded: str | None
    excluded_detail: str = ""


@dataclass(frozen=True)
class Preview:
    candidates: list[Candidate]
    fingerprint: str

    @property
    def invitees(self) -> list[Candidate]:
        return [c for c in self.candidates if c.excluded is None]

    @property
    def companies(self) -> int:
        return len({c.company_id for c in self.invitees})


def _company_query(f: InviteFilter):
    q = select(Company.id, Company.name_ja, Company.name_en)
    if f.company_id:
        q = q.where(Company.id == f.company_id)
    if f.association_id:
        q = q.where(exists().where(association_member.c.company_id == Company.id,
                                   association_member.c.association_id == f.association_id))
    if f.group_id:
        cond = [GroupMember.company_id == Company.id, GroupMember.group_id == f.group_id]
        if f.tiers:
            cond.append(GroupMember.tier.in_(f.tiers))
        q = q.where(exists().where(*cond))
    if f.regions:
        q = q.where(Company.region.in_(f.regions))
    if f.sizes:
        q = q.where(Company.size_class.in_(f.sizes))
    if f.sectors:
        q = q.where(exists().where(company_sector.c.company_id == Company.id, company_sector.c.sector.in_(f.sectors)))
    return q


def clearance_exclusions(session: Session, user_ids: list[str], level: int,
                         now: datetime | None = None) -> dict[str, tuple[str, str]]:
    """Who may not be invited to a dialogue at this level, and why: {user_id: (code, reason)}.

    The decision is clearance.policy's (issue 4): ``eligibility`` at the dialogue's label
    (its level, no compartments yet), explained with ``policy.explain``. If the policy
    module is missing, nobody is invited above public.
    """
    if level <= 0 or not user_ids:
        return {}
    try:
        from clearance import policy
        from clearance.labels import Label
    except ImportError:
        return {uid: ("clearance_unavailable", "") for uid in user_ids}
    decisions = policy.eligibility(session, Label.of(level), user_ids, now or utcnow())
    return {uid: ("clearance", policy.explain(d.clause)) for uid, d in decisions.items() if not d.allowed}


def preview(session: Session, dialogue: Dialogue, f: InviteFilter) -> Preview:
    """Exactly who an invitation with this filter would ask, and who is left out and why."""
    if f.is_empty():
        return Preview([], _fingerprint([]))
    companies = _company_query(f).subquery()
    rows = session.execute(
        select(companies.c.id, companies.c.name_ja, companies.c.name_en, UserAccount.id, UserAccount.display_name,
               UserAccount.email)
        .select_from(companies)
        .outerjoin(UserAccount, and_(UserAccount.company_id == companies.c.id, UserAccount.active,
                                     UserAccount.role.in_([r.value for r in COMPANY_ROLES])))
        .order_by(companies.c.name_ja, UserAccount.display_name)
        .limit(5000)
    ).all()
    user_ids = [r[3] for r in rows if r[3]]
    already = set(session.execute(
        select(Invitation.user_id).where(Invitation.dialogue_id == dialogue.id)
    ).scalars()) if user_ids else set()
    cleared = clearance_exclusions(session, [u for u in user_ids if u not in already], dialogue.level)
    out = []
    for cid, ja, en, uid, name, email in rows:
        reason, detail = None, ""
        if uid is None:
            reason = "no_account"
        elif uid in already:
            reason = "already_invited"
        elif uid in cleared:
            reason, detail = cleared[uid]
        out.append(Candidate(cid, ja, en, uid, name, email, reason, detail))
    return Preview(out, _fingerprint([c.user_id for c in out if c.excluded is None]))


def cleared_level(session: Session, user_id: str, now: datetime | None = None) -> int:
    """The highest dialogue level this account may read now (0: public only), by clearance.policy.

    Dialogues carry a level and no compartments, so the policy's standing decides; METI
    officers need a clearance like anyone else (the policy has no bypass)."""
    try:
        from clearance import policy
    except ImportError:
        return 0
    found = policy.standing(policy.subject(session, user_id), now or utcnow())
    return int(found.level) if found is not None else 0


def clearance_changes_at(session: Session, user_id: str, now: datetime) -> datetime | None:
    """When this account's standing changes by the passing of time alone (an expiry), if ever."""
    try:
        from clearance import policy
    except ImportError:
        return None
    return policy.changes_at(policy.subject(session, user_id), now)


def _fingerprint(user_ids: list[str | None]) -> str:
    return hashlib.sha256("\n".join(sorted(u for u in user_ids if u)).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Issued:
    """An invitation just created, with its RSVP token (the clear token exists only here, for the mail)."""

    invitation: Invitation
    user: UserAccount
    token: str


def rsvp_expiry(dialogue: Dialogue, now: datetime) -> datetime:
    end = dialogue.answer_by or dialogue.starts_at
    return min(end, now + RSVP_MAX_TTL)


def _issue_token(session: Session, invitation: Invitation, dialogue: Dialogue, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(RsvpToken(token_hash=token_digest(token), invitation_id=invitation.id, created_at=now,
                          expires_at=rsvp_expiry(dialogue, now)))
    return token


def send_invitations(session: Session, actor: UserAccount, dialogue: Dialogue, f: InviteFilter, fingerprint: str,
                     now: datetime | None = None) -> list[Issued]:
    """Invite exactly the people of the preview the officer saw (same fingerprint), or refuse."""
    now = now or utcnow()
    if dialogue.status not in OPEN_STATUSES:
        raise Refused("not_open")
    if dialogue.starts_at <= now:
        raise Refused("already_started")
    current = preview(session, dialogue, f)
    if current.fingerprint != fingerprint:
        raise Refused("preview_changed")
    if not current.invitees:
        raise Refused("nobody")
    users = {u.id: u for u in session.execute(
        select(UserAccount).where(UserAccount.id.in_([c.user_id for c in current.invitees]))).scalars()}
    issued = []
    for c in current.invitees:
        inv = Invitation(id=new_id(), dialogue_id=dialogue.id, company_id=c.company_id, user_id=c.user_id,
                         status="pending", invited_at=now, invited_by=actor.id)
        session.add(inv)
        issued.append(Issued(inv, users[c.user_id], ""))
    session.flush()
    issued = [Issued(i.invitation, i.user, _issue_token(session, i.invitation, dialogue, now)) for i in issued]
    if dialogue.status == "planned":
        dialogue.status = "invited"
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Invitations sent",
                 data={"dialogue": dialogue.id, "invitations": len(issued), "companies": current.companies,
                       "filter": _filter_data(f)}, **_actor_fields(actor))
    return issued


def _filter_data(f: InviteFilter) -> dict:
    return {k: v for k, v in f.__dict__.items() if v}


# --------------------------------------------------------------------------- replies


def load_invitation(session: Session, user: UserAccount, invitation_id: str) -> Invitation | None:
    """The invitation if it belongs to the user's company; None — exactly as if absent — otherwise."""
    return session.execute(
        select(Invitation).where(Invitation.id == invitation_id[:36], own_company(user, Invitation.company_id))
    ).scalar_one_or_none()


def may_answer(user: UserAccount, invitation: Invitation) -> bool:
    """The invitee answers; their company administrator may answer for them."""
    return user.company_id == invitation.company_id and (
        invitation.user_id == user.id or user.role == Role.COMPANY_ADMIN.value)


def _lock_dialogue(session: Session, dialogue_id: str) -> Dialogue:
    """Take the dialogue's row lock (PostgreSQL) / the write lock (SQLite) before counting seats,
    so two acceptances at once cannot both take the last seat."""
    session.execute(update(Dialogue).where(Dialogue.id == dialogue_id).values(sequence=Dialogue.sequence))
    dialogue = session.get(Dialogue, dialogue_id)
    session.refresh(dialogue)
    return dialogue


def accepted_count(session: Session, dialogue_id: str) -> int:
    return session.execute(
        select(func.count()).select_from(Invitation)
        .where(Invitation.dialogue_id == dialogue_id, Invitation.status == "accepted")
    ).scalar_one()


def _check_open(dialogue: Dialogue, now: datetime, *, deadline: bool) -> None:
    if dialogue.status not in OPEN_STATUSES:
        raise Refused("not_open")
    if dialogue.starts_at <= now:
        raise Refused("already_started")
    if deadline and dialogue.answer_by is not None and now > dialogue.answer_by:
        raise Refused("deadline_passed")


ALLOWED_REPLIES = {
    "accepted": ("pending", "declined", "withdrawn"),
    "declined": ("pending", "accepted", "waitlisted"),
    "withdrawn": ("accepted", "waitlisted"),
}


def reply(session: Session, actor: UserAccount, invitation: Invitation, answer: str, notify, *,
          now: datetime | None = None, via: str | None = None) -> str:
    """Accept, decline or withdraw. Accepting beyond the seat limit joins the waiting list; a freed
    seat goes to the longest-waiting. After the answer deadline only withdrawing is possible.
    Returns the invitation's new status."""
    now = now or utcnow()
    if answer not in ALLOWED_REPLIES:
        raise Refused("answer")
    if not may_answer(actor, invitation):
        raise Refused("not_yours")
    dialogue = _lock_dialogue(session, invitation.dialogue_id)
    session.refresh(invitation)
    _check_not_revoked(invitation)
    _check_open(dialogue, now, deadline=answer != "withdrawn")
    if invitation.status not in ALLOWED_REPLIES[answer]:
        raise Refused("reply_state", status=invitation.status)
    old = invitation.status
    new = answer
    if answer == "accepted" and dialogue.seat_limit is not None and accepted_count(session, dialogue.id) >= dialogue.seat_limit:
        new = "waitlisted"
    invitation.status = new
    invitation.replied_at = now
    invitation.waitlisted_at = now if new == "waitlisted" else None
    _spend_tokens(session, invitation.id, now)
    if old == "accepted" and new != "accepted":
        _promote_waitlist(session, dialogue, notify)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary=f"Invitation {old} → {new}",
                 data={"dialogue": dialogue.id, "invitation": invitation.id, "company": invitation.company_id},
                 **_actor_fields(actor, via))
    return new


def _spend_tokens(session: Session, invitation_id: str, now: datetime) -> None:
    """An answer, by any route, uses up the e-mailed link: it must not change the answer later."""
    session.execute(update(RsvpToken).where(RsvpToken.invitation_id == invitation_id, RsvpToken.used_at.is_(None))
                    .values(used_at=now))


def _promote_waitlist(session: Session, dialogue: Dialogue, notify) -> list[Invitation]:
    """Give freed seats to the waiting list in the order people joined it."""
    free = None if dialogue.seat_limit is None else dialogue.seat_limit - accepted_count(session, dialogue.id)
    q = (select(Invitation).where(Invitation.dialogue_id == dialogue.id, Invitation.status == "waitlisted")
         .order_by(Invitation.waitlisted_at, Invitation.id))
    if free is not None:
        if free <= 0:
            return []
        q = q.limit(free)
    promoted = list(session.execute(q).scalars())
    for inv in promoted:
        inv.status = "accepted"
        inv.waitlisted_at = None
        notify(inv, "promoted")
    if promoted:
        audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Waiting list promoted",
                     data={"dialogue": dialogue.id, "invitations": [i.id for i in promoted]})
    return promoted


def _check_not_revoked(invitation: Invitation) -> None:
    if invitation.status == "revoked":
        raise Refused("revoked")


#: an officer may take back any invitation the invitee could still act on; a delegated one
#: is inert (its colleague's invitation is the one to take back)
REVOCABLE = ("pending", "accepted", "waitlisted", "declined", "withdrawn")
#: dialogues whose invitations can no longer be taken back: it took place, or is off for everyone
REVOKE_CLOSED = ("held", "closed", "cancelled")
REVOKE_REASON_MAX = 1000


def invitation_in(session: Session, dialogue_id: str, invitation_id: str) -> Invitation | None:
    """An invitation of this dialogue; None for an unknown id or one of another dialogue."""
    return session.execute(
        select(Invitation).where(Invitation.id == (invitation_id or "")[:36], Invitation.dialogue_id == dialogue_id)
    ).scalar_one_or_none()


def revoke_invitation(session: Session, actor: UserAccount, invitation: Invitation, reason: str, notify, *,
                      now: datetime | None = None) -> Invitation:
    """Take back an invitation sent by mistake: the invitee can no longer answer, the e-mailed link
    stops working, a seat it held goes to the longest-waiting, and the invitee is told
    (``notify(invitation, "revoked")``: a mail with METHOD:CANCEL and a portal notice)."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if len(reason) > REVOKE_REASON_MAX:
        raise Refused("revoke_reason_long", cap=REVOKE_REASON_MAX)
    dialogue = _lock_dialogue(session, invitation.dialogue_id)
    session.refresh(invitation)  # a concurrent revoke or answer must be seen, not overwritten
    if dialogue.status in REVOKE_CLOSED:
        raise Refused("revoke_closed")
    if invitation.status == "revoked":
        raise Refused("already_revoked")
    if invitation.status not in REVOCABLE:
        raise Refused("revoke_delegated")
    old = invitation.status
    invitation.status = "revoked"
    invitation.revoked_at = now
    invitation.revoke_reason = reason or None
    invitation.waitlisted_at = None
    _spend_tokens(session, invitation.id, now)
    # RFC 5546: a CANCEL must carry a higher SEQUENCE than the REQUEST it withdraws.
    dialogue.sequence += 1
    dialogue.updated_at = now
    notify(invitation, "revoked")
    if old == "accepted":
        _promote_waitlist(session, dialogue, notify)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Invitation revoked",
                 data={"dialogue": dialogue.id, "invitation": invitation.id, "company": invitation.company_id,
                       "user": invitation.user_id, "from": old, "reason_given": bool(reason)},  # the reason is sealed
                 **_actor_fields(actor))
    return invitation


def colleagues(session: Session, invitation: Invitation, now: datetime | None = None) -> list[UserAccount]:
    """Active accounts of the same company not yet invited to this dialogue, and cleared for its
    level: who it can be handed to."""
    invited = select(Invitation.user_id).where(Invitation.dialogue_id == invitation.dialogue_id)
    people = list(session.execute(
        select(UserAccount).where(UserAccount.company_id == invitation.company_id, UserAccount.active,
                                  UserAccount.id.not_in(invited)).order_by(UserAccount.display_name)
    ).scalars())
    level = session.execute(select(Dialogue.level).where(Dialogue.id == invitation.dialogue_id)).scalar_one()
    excluded = clearance_exclusions(session, [p.id for p in people], level, now)
    return [p for p in people if p.id not in excluded]


def delegate(session: Session, actor: UserAccount, invitation: Invitation, colleague_id: str, *,
             now: datetime | None = None, via: str | None = None) -> Issued:
    """Hand the invitation to a colleague in the same company; an accepted or waiting place goes
    with it. Anyone outside the company is refused exactly like an unknown account."""
    now = now or utcnow()
    if not may_answer(actor, invitation):
        raise Refused("not_yours")
    dialogue = _lock_dialogue(session, invitation.dialogue_id)
    session.refresh(invitation)
    _check_not_revoked(invitation)
    _check_open(dialogue, now, deadline=invitation.status == "pending")
    if invitation.status not in ACTIVE_REPLIES:
        raise Refused("reply_state", status=invitation.status)
    target = session.execute(
        select(UserAccount).where(UserAccount.id == (colleague_id or "")[:36],
                                  UserAccount.company_id == invitation.company_id, UserAccount.active)
    ).scalar_one_or_none()
    if target is None or target.id == invitation.user_id:
        raise Refused("colleague")
    # Handing on must not get round the clearance check that decided who was invited.
    if clearance_exclusions(session, [target.id], dialogue.level, now):
        raise Refused("colleague")
    if session.execute(select(exists().where(Invitation.dialogue_id == dialogue.id,
                                             Invitation.user_id == target.id))).scalar_one():
        raise Refused("colleague_invited")
    new = Invitation(id=new_id(), dialogue_id=dialogue.id, company_id=invitation.company_id, user_id=target.id,
                     status=invitation.status, invited_at=now, waitlisted_at=invitation.waitlisted_at,
                     invited_by=invitation.invited_by)
    session.add(new)
    session.flush()
    invitation.status = "delegated"
    invitation.replied_at = now
    invitation.waitlisted_at = None
    invitation.delegated_to_id = new.id
    _spend_tokens(session, invitation.id, now)
    token = _issue_token(session, new, dialogue, now)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Invitation delegated",
                 data={"dialogue": dialogue.id, "invitation": invitation.id, "to_invitation": new.id,
                       "company": invitation.company_id}, **_actor_fields(actor, via))
    return Issued(new, target, token)


def add_topic(session: Session, actor: UserAccount, invitation: Invitation, kind: str, body: str,
              now: datetime | None = None) -> AdvanceTopic:
    """A topic or question for the agenda, from anyone in the invited company, until the dialogue starts."""
    now = now or utcnow()
    dialogue = session.get(Dialogue, invitation.dialogue_id)
    _check_open(dialogue, now, deadline=False)
    if actor.company_id != invitation.company_id:
        raise Refused("not_yours")
    _check_not_revoked(invitation)
    if kind not in ("topic", "question"):
        raise Refused("topic_kind")
    text = (body or "").strip()
    if not text:
        raise Refused("topic_empty")
    topic = AdvanceTopic(id=new_id(), dialogue_id=dialogue.id, company_id=invitation.company_id, author_id=actor.id,
                         kind=kind, body=text[:4000], created_at=now)
    session.add(topic)
    audit.append(session, realm=REALM, kind=Kind.CHANGE, summary="Advance topic sent",
                 data={"dialogue": dialogue.id, "company": invitation.company_id, "topic": topic.id, "kind": kind},
                 **_actor_fields(actor))
    return topic


# --------------------------------------------------------------------------- RSVP links


@dataclass(frozen=True)
class RsvpLookup:
    token: RsvpToken | None
    problem: str | None  # None | "unknown" | "used" | "expired" | "revoked"


def rsvp_lookup(session: Session, token: str, now: datetime | None = None) -> RsvpLookup:
    now = now or utcnow()
    if not token or len(token) > 100:
        return RsvpLookup(None, "unknown")
    row = session.get(RsvpToken, token_digest(token))
    if row is None:
        return RsvpLookup(None, "unknown")
    status = session.execute(select(Invitation.status).where(Invitation.id == row.invitation_id)).scalar_one()
    if status == "revoked":  # before "used": taking it back spent the link too
        return RsvpLookup(row, "revoked")
    if row.used_at is not None:
        return RsvpLookup(row, "used")
    if row.expires_at <= now:
        return RsvpLookup(row, "expired")
    return RsvpLookup(row, None)


def rsvp_answer(session: Session, token: str, answer: str, notify, now: datetime | None = None) -> str:
    """Answer through the e-mailed link: once, before it expires, as the invitee it was sent to."""
    now = now or utcnow()
    found = rsvp_lookup(session, token, now)
    if found.problem:
        raise Refused(f"rsvp_{found.problem}")
    if answer not in ("accepted", "declined"):
        raise Refused("answer")
    # Spend the link first, in the same transaction: a second use finds it used.
    spent = session.execute(update(RsvpToken).where(RsvpToken.token_hash == found.token.token_hash,
                                                    RsvpToken.used_at.is_(None)).values(used_at=now)).rowcount
    if spent != 1:
        raise Refused("rsvp_used")
    invitation = session.get(Invitation, found.token.invitation_id)
    invitee = session.get(UserAccount, invitation.user_id)
    if invitee is None or not invitee.active:
        raise Refused("rsvp_unknown")
    return reply(session, invitee, invitation, answer, notify, now=now, via="e-mailed link")


# --------------------------------------------------------------------------- calendar feeds and preferences


def viewer_zone(session: Session, user_id: str | None) -> str:
    if not user_id:
        return DEFAULT_ZONE
    pref = session.get(MeetingPreference, user_id)
    return pref.time_zone if pref is not None and is_zone(pref.time_zone) else DEFAULT_ZONE


def set_viewer_zone(session: Session, user: UserAccount, tz: str) -> None:
    if not is_zone(tz):
        raise Refused("time_zone")
    pref = session.get(MeetingPreference, user.id)
    if pref is None:
        session.add(MeetingPreference(user_id=user.id, time_zone=tz))
    else:
        pref.time_zone = tz


def active_feed(session: Session, user_id: str) -> CalendarFeed | None:
    return session.execute(
        select(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.created_at.desc()).limit(1)
    ).scalar_one_or_none()


def create_feed(session: Session, user: UserAccount, now: datetime | None = None) -> str:
    """A new secret feed token (any older one stops working); returns the token to show once."""
    now = now or utcnow()
    revoked = _revoke(session, user.id, now)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(token_hash=token_digest(token), user_id=user.id, created_at=now))
    audit.append(session, realm="calendar", kind=Kind.CHANGE, summary="Calendar feed created",
                 data={"user": user.id, "replaced": revoked}, **_actor_fields(user))
    return token


def revoke_feed(session: Session, user: UserAccount, now: datetime | None = None) -> int:
    n = _revoke(session, user.id, now or utcnow())
    if n:
        audit.append(session, realm="calendar", kind=Kind.CHANGE, summary="Calendar feed revoked",
                     data={"user": user.id, "feeds": n}, **_actor_fields(user))
    return n


def _revoke(session: Session, user_id: str, now: datetime) -> int:
    return session.execute(update(CalendarFeed).where(CalendarFeed.user_id == user_id,
                                                      CalendarFeed.revoked_at.is_(None)).values(revoked_at=now)).rowcount


def feed_owner(session: Session, token: str, now: datetime | None = None) -> UserAccount | None:
    """The active account behind a live feed token; None for anything else."""
    if not token or len(token) > 100:
        return None
    feed = session.get(CalendarFeed, token_digest(token))
    if feed is None or feed.revoked_at is not None:
        return None
    user = session.get(UserAccount, feed.user_id)
    if user is None or not user.active:
        return None
    now = now or utcnow()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(hours=1):
        feed.last_used_at = now  # at most one write an hour: calendar apps poll often
    return user


def feed_entries(session: Session, user: UserAccount, now: datetime | None = None) -> list[tuple[Dialogue, str | None]]:
    """What a user's feed shows: officers the dialogues they host; company staff the dialogues they
    are invited to (with their reply). Cancelled ones stay, so calendars remove them."""
    now = now or utcnow()
    since = now - FEED_PAST
    if user.role in {r.value for r in COMPANY_ROLES}:
        rows = session.execute(
            select(Dialogue, Invitation.status).join(Invitation, Invitation.dialogue_id == Dialogue.id)
            .where(Invitation.user_id == user.id, Invitation.status.in_(ACTIVE_REPLIES), Dialogue.starts_at >= since)
            .order_by(Dialogue.starts_at).limit(FEED_LIMIT)
        ).all()
        return [(d, s) for d, s in rows]
    rows = session.execute(
        select(Dialogue).join(dialogue_host, dialogue_host.c.dialogue_id == Dialogue.id)
        .where(dialogue_host.c.user_id == user.id, Dialogue.starts_at >= since)
        .order_by(Dialogue.starts_at).limit(FEED_LIMIT)
    ).scalars().all()
    return [(d, None) for d in rows]


# --------------------------------------------------------------------------- lists for pages


@dataclass
class ListFilter:
    q: str = ""
    status: str = ""
    format: str = ""
    region: str = ""
    period: str = "upcoming"  # upcoming | past | all
    mine: bool = False
    series_id: str = ""


def counterpart_names():
    """Outer joins giving each dialogue's counterpart name in both languages."""
    a, g, c = aliased(Association), aliased(CompanyGroup), aliased(Company)
    ja = func.coalesce(a.name_ja, g.name_ja, c.name_ja).label("counterpart_ja")
    en = func.coalesce(a.name_en, g.name_en, c.name_en).label("counterpart_en")
    return (a, g, c), ja, en


#: how many dialogues (those matching the other filters, nearest first in the list's order) the title
#: search decrypts: titles are sealed, so SQL cannot search them (docs/SECURITY.md §2)
TITLE_SEARCH_SCAN = 2000


def readable_dialogues(session: Session, user_id: str, now: datetime, level: int | None = None
                       ) -> ColumnElement[bool]:
    """WHERE clause: the dialogues this account may read now. Dialogues carry a level and no
    compartments, so the policy's standing (cleared_level) decides; every list goes through it, so
    a reader sees nothing of a dialogue above them (issue 11: not even that it exists). `level`:
    the account's cleared_level if the caller has just read it (a view reads it once a request)."""
    return Dialogue.level <= (cleared_level(session, user_id, now) if level is None else level)


def title_matches(session: Session, where: Sequence[ColumnElement[bool]], order: Sequence[Any], text: str,
                  scan: int = TITLE_SEARCH_SCAN) -> list[str]:
    """Ids of the dialogues selected by `where` (which must include readable_dialogues) whose title
    contains `text`, case-insensitively: the first `scan` of them in `order` are decrypted here."""
    needle = text.casefold()
    rows = session.execute(select(Dialogue.id, Dialogue.title_ct, Dialogue.level).where(*where)
                           .order_by(*order).limit(scan)).all()
    return [r.id for r in rows if needle in (Dialogue.title.open_column(r.title_ct, r.id, r.level) or "").casefold()]


def list_query(session: Session, f: ListFilter, user_id: str, now: datetime, level: int | None = None):
    """The officers' list: only dialogues the account may read (readable_dialogues), filtered."""
    (a, g, c), ja, en = counterpart_names()
    q = (select(Dialogue, ja, en)
         .outerjoin(a, a.id == Dialogue.association_id)
         .outerjoin(g, g.id == Dialogue.group_id)
         .outerjoin(c, c.id == Dialogue.company_id))
    where: list[ColumnElement[bool]] = [readable_dialogues(session, user_id, now, level)]
    if f.status:
        where.append(Dialogue.status == f.status)
    if f.format:
        where.append(Dialogue.format == f.format)
    if f.region:
        where.append(Dialogue.region == f.region)
    if f.series_id:
        where.append(Dialogue.series_id == f.series_id[:36])
    if f.mine:
        where.append(exists().where(dialogue_host.c.dialogue_id == Dialogue.id, dialogue_host.c.user_id == user_id))
    # The starts_at bounds are implied (a dialogue lasts at most MAX_DURATION) and let the
    # database walk ix_dialogue_starts_at in order instead of sorting every match.
    if f.period == "upcoming":
        where += [Dialogue.ends_at >= now, Dialogue.starts_at >= now - MAX_DURATION]
        order: list[Any] = [Dialogue.starts_at, Dialogue.id]
    elif f.period == "past":
        where += [Dialogue.ends_at < now, Dialogue.starts_at < now]
        order = [Dialogue.starts_at.desc(), Dialogue.id]
    else:
        order = [Dialogue.starts_at.desc(), Dialogue.id]
    if f.q:
        text = f.q.strip()[:100]
        needle = f"%{text}%"
        # Counterpart names are public (the register) and searched in SQL; titles are sealed.
        q = q.where(or_(ja.ilike(needle), en.ilike(needle),
                        Dialogue.id.in_(title_matches(session, where, order, text))))
    return q.where(*where).order_by(*order)


def reply_counts(session: Session, dialogue_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """{dialogue_id: {status: n}} for one page of dialogues (uses ix_invitation_dialogue_status)."""
    out: dict[str, dict[str, int]] = {}
    if not dialogue_ids:
        return out
    for did, status, n in session.execute(
        select(Invitation.dialogue_id, Invitation.status, func.count())
        .where(Invitation.dialogue_id.in_(list(dialogue_ids))).group_by(Invitation.dialogue_id, Invitation.status)
    ).all():
        out.setdefault(did, {})[status] = n
    return out


def counterpart_of(session: Session, dialogue: Dialogue) -> Association | CompanyGroup | Company | None:
    if dialogue.association_id:
        return session.get(Association, dialogue.association_id)
    if dialogue.group_id:
        return session.get(CompanyGroup, dialogue.group_id)
    return session.get(Company, dialogue.company_id) if dialogue.company_id else None


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    company_ja: str
    company_en: str
    user_name: str
    email: str


def invitations_of(session: Session, dialogue_id: str) -> list[InvitationRow]:
    order = case({"accepted": 0, "waitlisted": 1, "pending": 2, "declined": 3, "withdrawn": 4, "delegated": 5,
                  "revoked": 6},
                 value=Invitation.status, else_=9)
    rows = session.execute(
        select(Invitation, Company.name_ja, Company.name_en, UserAccount.display_name, UserAccount.email)
        .join(Company, Company.id == Invitation.company_id).join(UserAccount, UserAccount.id == Invitation.user_id)
        .where(Invitation.dialogue_id == dialogue_id)
        .order_by(order, Invitation.waitlisted_at, Company.name_ja, UserAccount.display_name)
    ).all()
    return [InvitationRow(*r) for r in rows]


def topics_of(session: Session, dialogue_id: str, company_id: str | None = None) -> list[tuple[AdvanceTopic, str, str]]:
    q = (select(AdvanceTopic, Company.name_ja, Company.name_en).join(Company, Company.id == AdvanceTopic.company_id)
         .where(AdvanceTopic.dialogue_id == dialogue_id).order_by(AdvanceTopic.created_at))
    if company_id is not None:
        q = q.where(AdvanceTopic.company_id == company_id)
    return [tuple(r) for r in session.execute(q).all()]


@dataclass
class Page:
    """One page of rows (tuples), shaped like Flask-SQLAlchemy's Pagination for the pager macro
    (whose paginate() keeps only the first column of a multi-column select)."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def paginate(session: Session, query, page: int, per_page: int) -> Page:
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page([tuple(r) for r in rows], page, per_page, total)
