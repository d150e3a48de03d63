"""From a report request to bytes: build the content, then PDF (the one path) or spreadsheet.

Used by the background worker and, for small outputs, directly by views. Every
rendering of labelled material is audited as a read by the requesting reader.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from clearance import policy
from clearance.auth.models import UserAccount
from clearance.db import utcnow
from clearance.labels import Label
from dialogue.reports import builders, exports
from dialogue.reports.jobs import _day, params_filters
from dialogue.reports.pdf import Reader, banner_text, render_pdf


class ReportInputError(ValueError):
    """Parameters that name nothing this reader may report on; `code` goes into the job row."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def content(session: Session, kind: str, params: dict[str, Any], user: UserAccount, locale: str,
            progress: builders.Progress) -> builders.Built:
    include = bool(params.get("include_classified"))
    if kind == "reactions":
        return builders.reactions(session, params_filters(params), user, locale, include_classified=include,
                                  with_appendix=bool(params.get("appendix")), progress=progress)
    if kind == "activity":
        return builders.activity(session, _day(params.get("from")), _day(params.get("to")), locale,
                                 progress=progress)
    if kind == "statement":
        try:
            return builders.statement(session, user, locale, company_id=params.get("company_id") or None,
                                      association_id=params.get("association_id") or None,
                                      include_classified=include, progress=progress)
        except LookupError:
            raise ReportInputError("unknown_owner") from None
    raise ReportInputError("unknown_kind")


def build(session: Session, kind: str, fmt: str, params: dict[str, Any], user: UserAccount, locale: str,
          progress: builders.Progress) -> tuple[bytes, str, Label, int | None]:
    built = content(session, kind, params, user, locale, progress)
    day = utcnow().strftime("%Y%m%d")
    if not built.label.is_public:
        policy.record_decision(session, user, policy.Decision(True, "granted"), object_table="report",
                               object_id=kind, label=built.label, route=f"report-{fmt}")
        session.commit()
    if fmt == "xlsx":
        if kind == "reactions" and not any(t.name == _("Items") for t in built.tables):
            progress(70, "listing")
            built.tables.append(builders.items_table(session, params_filters(params), locale))
        progress(80, "write")
        return exports.xlsx(built.tables, banner=banner_text(built.label)), f"{day}_{built.stem}.xlsx", built.label, None
    if fmt == "csv":
        progress(80, "write")
        return exports.csv_bytes(built.tables[0], banner=banner_text(built.label)), f"{day}_{built.stem}.csv", \
            built.label, None
    pages: list[int] = [0]

    def stage(name: str, n: int) -> None:
        if name == "write":
            pages[0] = n
        progress(65 if name == "layout" else 90, name)

    progress(60, "rendering")
    pdf = render_pdf(built.template, {**built.context, "report_title": built.title}, label=built.label,
                     reader=Reader(user.display_name, user.id, utcnow()), title=built.title, on_stage=stage)
    return pdf, f"{day}_{built.stem}.pdf", built.label, pages[0]


def stage_label(code: str) -> str:
    labels = {
        "queued": _("Waiting for a worker"), "counting": _("Counting"), "quoting": _("Choosing quotations"),
        "listing": _("Listing the items"), "charts": _("Drawing charts"), "gaps": _("Finding coverage gaps"),
        "collecting": _("Collecting the items"), "rendering": _("Preparing the document"),
        "layout": _("Laying out the pages"), "write": _("Writing the file"), "saving": _("Saving"),
        "done": _("Ready"), "failed": _("Failed"),
    }
    return labels.get(code, code)
