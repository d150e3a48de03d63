"""iCalendar (RFC 5545) output: downloads, invitation mails (METHOD:REQUEST / CANCEL), personal feeds.

Every event carries DTSTART/DTEND with the dialogue's TZID and a matching VTIMEZONE, a
stable UID and the dialogue's SEQUENCE, so calendar programs update the event they
already have instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

from dialogue.meetings.models import Dialogue
from dialogue.meetings.times import to_local, zone

PRODID = "-//METI//Taiwa strategic dialogue//JA"

_STATUS = {"cancelled": "CANCELLED", "postponed": "CANCELLED", "planned": "TENTATIVE"}
_PARTSTAT = {"pending": "NEEDS-ACTION", "waitlisted": "TENTATIVE", "accepted": "ACCEPTED", "declined": "DECLINED",
             "delegated": "DELEGATED", "withdrawn": "DECLINED"}


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str
    reply: str  # Invitation.status


@dataclass(frozen=True)
class EventText:
    """What an event says. For classified dialogues the caller passes neutral text:
    calendars sync to phones and third-party servers, so nothing above public goes there."""

    summary: str
    description: str
    location: str
    url: str


def uid(dialogue: Dialogue, domain: str) -> str:
    return f"dialogue-{dialogue.id}@{domain}"


def event(dialogue: Dialogue, text: EventText, *, domain: str, organizer: str, attendee: Attendee | None = None,
          cancelled: bool = False) -> Event:
    ev = Event()
    ev.add("uid", uid(dialogue, domain))
    ev.add("dtstamp", datetime.now(UTC))
    ev.add("dtstart", to_local(dialogue.starts_at, dialogue.time_zone))
    ev.add("dtend", to_local(dialogue.ends_at, dialogue.time_zone))
    ev.add("sequence", dialogue.sequence)
    ev.add("summary", text.summary)
    if text.description:
        ev.add("description", text.description)
    if text.location:
        ev.add("location", text.location)
    if text.url:
        ev.add("url", text.url)
    ev.add("class", "PUBLIC" if dialogue.level == 0 else "CONFIDENTIAL")
    # An invitation the ministry took back is off for that attendee, whatever the dialogue's status.
    cancelled = cancelled or (attendee is not None and attendee.reply == "revoked")
    ev.add("status", "CANCELLED" if cancelled else _STATUS.get(dialogue.status, "CONFIRMED"))
    org = vCalAddress(f"mailto:{organizer}")
    org.params["cn"] = vText("Taiwa 対話 (METI)")
    ev.add("organizer", org)
    if attendee is not None:
        who = vCalAddress(f"mailto:{attendee.email}")
        who.params["cn"] = vText(attendee.name)
        who.params["role"] = vText("REQ-PARTICIPANT")
        who.params["partstat"] = vText(_PARTSTAT.get(attendee.reply, "NEEDS-ACTION"))
        who.params["rsvp"] = vText("TRUE" if attendee.reply == "pending" else "FALSE")
        ev.add("attendee", who)
    return ev


def calendar(events: Iterable[tuple[Dialogue, Event]], *, method: str, name: str | None = None) -> bytes:
    """Wrap events in a VCALENDAR with one VTIMEZONE per zone used; returns the serialised bytes."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    first = last = None
    for dialogue, ev in events:
        cal.add_component(ev)
        first = dialogue.starts_at if first is None else min(first, dialogue.starts_at)
        last = dialogue.ends_at if last is None else max(last, dialogue.ends_at)
    if first is not None:
        # VTIMEZONE rules covering the events' years (icalendar's default stops at 2038).
        cal.add_missing_timezones(first_date=datetime(first.year - 1, 1, 1).date(),
                                  last_date=datetime(last.year + 2, 1, 1).date())
    return cal.to_ical()


def zone_name(dialogue: Dialogue) -> str:
    return zone(dialogue.time_zone).key
