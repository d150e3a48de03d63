"""Report pages: request a report, watch its progress, download it; the feedback export; the portal statement."""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from clearance import policy
from clearance.db import db, utcnow
from clearance.labels import Label
from clearance.permissions import Permission, requires
from dialogue.feedback import analysis
from dialogue.feedback.access import public_ids
from dialogue.feedback.models import FeedbackItem
from dialogue.feedback.taxonomy import CATEGORIES, INSTRUMENTS, SOURCES, STATUSES, SUBTOPICS
from dialogue.registry.models import Association, Company
from dialogue.reports import exports, forms, jobs, render
from dialogue.reports.pdf import Reader, render_pdf

bp = Blueprint("reports", __name__)

CONTENT_TYPES = {"pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "csv": "text/csv; charset=utf-8"}


def _locale() -> str:
    return str(get_locale())


def _statement_form() -> forms.StatementForm:
    form = forms.StatementForm(prefix="statement")
    with_items = select(FeedbackItem.company_id).where(FeedbackItem.company_id.is_not(None)).distinct()
    companies = db.session.execute(select(Company).where(Company.id.in_(with_items)).order_by(Company.name_ja)).scalars()
    form.company_id.choices = [("", "—")] + [(c.id, c.name_ja if _locale() == "ja" else c.name_en) for c in companies]
    assocs = db.session.execute(select(Association).order_by(Association.name_ja)).scalars()
    form.association_id.choices = [("", "—")] + [(a.id, a.name_ja if _locale() == "ja" else a.name_en) for a in assocs]
    return form


def _forms(kind: str | None = None, posted=None):
    reactions = forms.ReactionsForm(prefix="reactions")
    activity = forms.ActivityForm(prefix="activity")
    statement = _statement_form()
    return {"reactions_form": reactions, "activity_form": activity, "statement_form": statement}


@bp.get("/reports")
@requires(Permission.REPORTS_READ)
def index() -> str:
    ctx = _forms()
    # Links from the analysis page carry its filters: pre-fill the reactions form with them.
    if request.args.get("kind") == "reactions":
        f = analysis.parse_filters(request.args)
        r = ctx["reactions_form"]
        r.date_from.data, r.date_to.data = f.date_from, f.date_to
        r.sectors.data, r.regions.data = list(f.sectors), list(f.regions)
    return render_template("reports/index.html", jobs=jobs.recent(db.session, current_user), stage=render.stage_label,
                           **ctx)


@bp.get("/reports/new")
@requires(Permission.REPORTS_READ)
def new() -> Response:
    return redirect(url_for("reports.index", **request.args.to_dict(flat=False)))


@bp.post("/reports")
@requires(Permission.REPORTS_READ)
def create() -> Response | tuple[str, int]:
    kind = request.form.get("reactions-kind") or request.form.get("activity-kind") or request.form.get("statement-kind")
    ctx = _forms()
    form = {"reactions": ctx["reactions_form"], "activity": ctx["activity_form"],
            "statement": ctx["statement_form"]}.get(kind or "")
    if form is None:
        abort(400)
    if not form.validate_on_submit():
        return render_template("reports/index.html", jobs=jobs.recent(db.session, current_user),
                               stage=render.stage_label, invalid=kind, **ctx), 400
    if kind == "reactions":
        params = {"from": form.date_from.data, "to": form.date_to.data, "sector": form.sectors.data or [],
                  "region": form.regions.data or [], "include_classified": bool(form.include_classified.data),
                  "appendix": bool(form.appendix.data)}
    elif kind == "activity":
        params = {"from": form.date_from.data, "to": form.date_to.data}
    else:
        params = {"company_id": form.company_id.data or "", "association_id": form.association_id.data or ""}
    params = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in params.items()
              if v not in (None, "", [], False)}
    try:
        job = jobs.enqueue(db.session, kind=kind, fmt=form.fmt.data, params=params, user=current_user,
                           locale=_locale())
    except jobs.JobRefused:
        abort(400)  # the forms only offer what the queue takes; anything else was not sent by them
    db.session.commit()
    jobs.kick(current_app._get_current_object())
    return redirect(url_for("reports.job", job_id=job.id))


@bp.get("/reports/jobs/<job_id>")
@requires(Permission.REPORTS_READ)
def job(job_id: str) -> str:
    found = jobs.own_job(db.session, current_user, job_id)
    if found is None:
        abort(404)
    if found.status in ("queued", "running") and jobs.pending(db.engine):
        jobs.kick(current_app._get_current_object())  # the process that queued it may be gone
        db.session.refresh(found)
    waiting = found.status in ("queued", "running")
    return render_template("reports/job.html", job=found, waiting=waiting, stage=render.stage_label,
                           label=_label_from_code(found.label_code))


def _label_from_code(code: str) -> Label:
    level, _sep, comps = code.partition(":")
    try:
        return Label.of(int(level), [c for c in comps.split("+") if c])
    except ValueError:
        return Label()


@bp.get("/reports/jobs/<job_id>/download")
@requires(Permission.REPORTS_READ)
def download(job_id: str) -> Response:
    found = jobs.own_job(db.session, current_user, job_id)
    if found is None or found.status != "done" or found.result_ct is None:
        abort(404)
    label = _label_from_code(found.label_code)
    if not label.is_public:
        policy.record_decision(db.session, current_user, policy.Decision(True, "granted"), object_table="report_job",
                               object_id=found.id, label=label, route="download")
        db.session.commit()
    return _attachment(found.result, found.result_name, CONTENT_TYPES[found.format])


def _attachment(data: bytes, name: str, content_type: str) -> Response:
    resp = Response(data, mimetype=content_type.split(";")[0])
    if "charset" in content_type:
        resp.headers["Content-Type"] = content_type
    ascii_name = "report." + name.rsplit(".", 1)[-1]
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return resp


# ---------------------------------------------------------------------------
# the feedback list as XLSX / CSV (synchronous: a table, no layout)
# ---------------------------------------------------------------------------


@bp.get("/reports/feedback.<fmt>")
@requires(Permission.REPORTS_READ)
def feedback_export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = analysis.parse_filters(request.args)
    header = [_("Reference"), _("Received"), _("Source"), _("3P category"), _("Sub-topic"), _("Policy instrument"),
              _("Region"), _("Company size"), _("Status"), _("Answered"), _("Text")]

    def rows():
        offset = 0
        while True:
            batch = list(db.session.execute(service_query(filters).offset(offset).limit(500)).scalars())
            if not batch:
                return
            public = public_ids(db.session, batch)
            for i in batch:
                # Only public items' words leave in a spreadsheet: it carries no banner on every page. Public is
                # level 0 *and* no compartment (a level-0 item in a compartment is restricted all the same).
                text = i.text if i.id in public else _("(classified: read it in Taiwa)")
                yield [i.ref, i.received_at.date().isoformat(), str(SOURCES[i.source]), str(CATEGORIES[i.category]),
                       str(SUBTOPICS[i.subtopic].label), str(INSTRUMENTS[i.instrument]), i.region or "",
                       i.size_class or "", str(STATUSES[i.status]),
                       i.answered_at.date().isoformat() if i.answered_at else "", text]
            offset += len(batch)
            db.session.expunge_all()

    day = utcnow().strftime("%Y%m%d")
    if fmt == "csv":
        resp = Response(stream_with_context(exports.csv_stream(header, rows())), mimetype="text/csv")
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
        resp.headers["Content-Disposition"] = f"attachment; filename=\"feedback-{day}.csv\""
        return resp
    from dialogue.reports.builders import Table

    return _attachment(exports.xlsx([Table(_("Feedback"), header, list(rows()))]), f"feedback-{day}.xlsx",
                       CONTENT_TYPES["xlsx"])


def service_query(filters):
    from dialogue.feedback.service import items_query

    return items_query(filters)


# ---------------------------------------------------------------------------
# portal: a company's own "you said, we did"
# ---------------------------------------------------------------------------


@bp.get("/portal/feedback/statement.pdf")
@requires(Permission.FEEDBACK_SUBMIT)
def portal_statement() -> Response:
    from dialogue.reports import builders

    built = builders.statement(db.session, current_user, _locale(), company_id=current_user.company_id,
                               include_classified=False)
    pdf = render_pdf(built.template, {**built.context, "report_title": built.title}, label=built.label,
                     reader=Reader(current_user.display_name, current_user.id, utcnow()), title=built.title)
    return _attachment(pdf, f"{utcnow():%Y%m%d}_statement.pdf", CONTENT_TYPES["pdf"])



