"""The public summary (議事要旨): built from the sections marked public, and nothing else.

It is built from the public's copy of the minutes (dialogue.minutes.reader with
PUBLIC_READER: the one gate, for a reader cleared for nothing), so a section gets
in only when it is marked public *and* its effective label — with the labels its
cited briefings carry now — is public; likewise an addendum. A classified
dialogue's title and counterpart are not public either: the summary then names
only the date and the kind of dialogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from clearance import policy
from dialogue.meetings import times
from dialogue.meetings.labels import FORMAT_LABELS
from dialogue.meetings.models import Dialogue
from dialogue.minutes import reader
from dialogue.minutes.models import Minutes
from dialogue.minutes.render import to_html


@dataclass
class PublicSummary:
    title: str
    held_on: str
    format: str
    counterpart: str | None
    final: bool
    revision: int
    sections: list[tuple[str, Markup]] = field(default_factory=list)
    addenda: list[tuple[str, Markup]] = field(default_factory=list)


def build(session: Session, minutes: Minutes, locale: str) -> PublicSummary:
    from dialogue.meetings.service import counterpart_of

    copy = reader.public_summary_copy(session, minutes)
    dialogue = session.get(Dialogue, minutes.dialogue_id)
    dialogue_public = policy.label_of(session, "dialogue", dialogue.id, dialogue.level).is_public
    local = times.to_local(dialogue.starts_at, dialogue.time_zone)
    with force_locale(locale):
        if dialogue_public:
            title = dialogue.title
            c = counterpart_of(session, dialogue)
            counterpart = (c.name_ja if locale == "ja" else c.name_en) if c is not None else None
        else:
            title = _("Public–private strategic dialogue on economic security")
            counterpart = None
        held_on = times.fmt(local, locale, "y年M月d日" if locale == "ja" else "d MMMM y")
        summary = PublicSummary(title=title, held_on=held_on, format=str(FORMAT_LABELS.get(dialogue.format, "")),
                                counterpart=counterpart, final=minutes.status in ("approved", "locked"),
                                revision=copy.revision.number)
    for s in copy.doc.sections:
        if s.public and copy.section_label(s).is_public:
            summary.sections.append((s.title, to_html(s.body)))
    for a in copy.addenda:
        if a.public and a.level == 0 and copy.addendum_labels[a.id].is_public:
            day = times.fmt(times.to_local(a.created_at, dialogue.time_zone), locale,
                            "y年M月d日" if locale == "ja" else "d MMMM y")
            summary.addenda.append((day, to_html(a.body, 20_000)))
    return summary
