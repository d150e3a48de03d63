"""Minutes as PDF, through the one rendering path (dialogue.reports.pdf.render_pdf).

The full version contains what this reader may read, labelled with the join of
exactly that (so a reader cleared for less gets a lower-labelled copy, never a
copy with holes under a higher banner); the reader's watermark is on every page
whenever that label is above public. The public summary is public by
construction (dialogue.minutes.summary) and carries no watermark.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from clearance.db import utcnow
from clearance.labels import PUBLIC, join
from dialogue.meetings import times
from dialogue.meetings.labels import FORMAT_LABELS
from dialogue.meetings.models import Dialogue
from dialogue.minutes import summary as summary_mod
from dialogue.minutes.reader import reader_view, withheld_text
from dialogue.reports.pdf import Reader, render_pdf

#: a printed table of contents when the minutes run really long. Its page numbers (target-counter) make
#: WeasyPrint lay the document out twice, doubling the time, and every PDF already carries a navigable
#: outline (bookmarks) built from the headings; so up to ~30 pages the outline is the table of contents.
TOC_CHARS = 40_000
TOC_SECTIONS = 16


def _filename(dialogue: Dialogue, suffix: str) -> str:
    day = times.to_local(dialogue.starts_at, dialogue.time_zone).strftime("%Y%m%d")
    return f"{day}_{suffix}.pdf"


def full(session: Session, minutes, user, locale: str, *, route: str = "pdf", on_stage=None) -> tuple[bytes, str]:
    from dialogue.meetings.service import counterpart_of

    c = reader_view(session, user, minutes, route=route)  # the one gate: only what this reader may read
    dialogue = session.get(Dialogue, minutes.dialogue_id)
    # The dialogue's title and venue are sealed at its level: shown only to a reader cleared for it, and
    # then the PDF carries material at that level too (its label covers it).
    from clearance import policy
    from dialogue.meetings.service import cleared_level

    named = dialogue.level <= cleared_level(session, user.id)
    label = join(c.label, policy.label_of(session, "dialogue", dialogue.id, dialogue.level)) if named else c.label
    with force_locale(locale):
        counterpart = counterpart_of(session, dialogue)
        local = times.to_local(dialogue.starts_at, dialogue.time_zone)
        context = {
            "m": minutes, "d": dialogue, "copy": c,
            "dialogue_title": dialogue.title if named else _("Classified dialogue"),
            "venue": (dialogue.venue or "") if named else "",
            "counterpart": (counterpart.name_ja if locale == "ja" else counterpart.name_en)
            if counterpart is not None else "",
            "format_label": str(FORMAT_LABELS.get(dialogue.format, "")),
            "held": f"{times.fmt(local, locale)} ({times.offset_label(local)}, {dialogue.time_zone})",
            "toc": len(c.doc.sections) >= TOC_SECTIONS or sum(len(s.body) for s in c.doc.sections) >= TOC_CHARS,
            "status_label": str(service_status(minutes.status)),
            "subtopic_label": _subtopic_label, "withheld_text": withheld_text,
        }
        pdf = render_pdf("reports/pdf_minutes.html", context, label=label,
                         reader=Reader(user.display_name, user.id, utcnow()),
                         title=_("Minutes: %(title)s", title=context["dialogue_title"]), on_stage=on_stage)
    return pdf, _filename(dialogue, "minutes" if locale != "ja" else "議事録")


def summary(session: Session, minutes, locale: str) -> tuple[bytes, str]:
    s = summary_mod.build(session, minutes, locale)
    dialogue = session.get(Dialogue, minutes.dialogue_id)
    with force_locale(locale):
        pdf = render_pdf("reports/pdf_summary.html", {"s": s, "m": minutes}, label=PUBLIC, reader=None,
                         title=_("Summary of proceedings: %(title)s", title=s.title))
    return pdf, _filename(dialogue, "summary" if locale != "ja" else "議事要旨")


def service_status(status: str):
    from dialogue.minutes.models import STATUS_LABELS

    return STATUS_LABELS[status]


def _subtopic_label(code: str) -> str:
    from dialogue.feedback.taxonomy import subtopic_label

    return subtopic_label(code)
