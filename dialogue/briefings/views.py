"""Briefing pages. Every route opens the briefing through service.open_briefing(), which applies
clearance.policy and audits the decision; anything the reader may not see is the same 404 as an
id that does not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from clearance import bounds, files, policy
from clearance.auth.forms import EmptyForm
from clearance.auth.models import UserAccount
from clearance.db import db, utcnow
from clearance.labels import LEVEL_LABELS, Compartment, Level, NotHostedHere
from clearance.people import expiry_instant, legal_today
from clearance.permissions import Permission, requires
from dialogue.briefings import service
from dialogue.briefings.forms import (
    AttachmentForm,
    BriefingFilterForm,
    BriefingForm,
    LabelForm,
    WithdrawForm,
    emails_in,
    level_choices,
)
from dialogue.briefings.models import RISK_TYPES, STATUS_LABELS, TECHNOLOGY_DOMAINS
from dialogue.registry.models import Company, CompanyGroup
from dialogue.registry.taxonomy import CRITICAL_MATERIALS, SECTORS, TECH_FIELDS
from dialogue.reports.pdf import Reader, render_pdf

bp = Blueprint("briefings", __name__, url_prefix="/briefings")


def _locale() -> str:
    return str(get_locale() or "ja")


def _compartment_names() -> dict[str, str]:
    ja = _locale() == "ja"
    return {c.code: (c.name_ja if ja else c.name_en)
            for c in db.session.execute(select(Compartment).order_by(Compartment.code)).scalars()}


def _vocab() -> dict[str, Any]:
    return {"risks": RISK_TYPES, "sectors": SECTORS, "tech_fields": TECH_FIELDS, "materials": CRITICAL_MATERIALS,
            "domains": TECHNOLOGY_DOMAINS, "statuses": STATUS_LABELS, "level_labels": LEVEL_LABELS}


def _open(briefing_id: str, route: str, *, reading: bool = False) -> tuple[service.Viewer, service.Opened, datetime]:
    """Open through the policy or answer 404; the audit entry (and, for a reading, the access-log
    row) is committed either way, in one transaction."""
    now = utcnow()
    v = service.viewer(db.session, current_user)
    opened = service.open_briefing(db.session, v, briefing_id, now, route=route)
    if opened is not None and reading:
        service.record_read(db.session, v, opened, route, now)
    db.session.commit()
    if opened is None:
        abort(404)
    return v, opened, now


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


@bp.get("")
@requires(Permission.BRIEFINGS_READ)
def index() -> str:
    form = BriefingFilterForm(request.args)
    form.risk.choices = [("", _("All risk types")), *[(k, str(v)) for k, v in RISK_TYPES.items()]]
    form.sector.choices = [("", _("All sectors")), *[(k, str(v)) for k, v in SECTORS.items()]]
    form.level.choices = [("", _("All levels")), *[(str(int(lv)), str(LEVEL_LABELS[lv])) for lv in Level]]
    form.status.choices = [("", _("Any status")), *[(k, str(v)) for k, v in STATUS_LABELS.items()]]
    filters = service.Filters()
    if form.validate():
        level = form.level.data if form.level.data in ("0", "1", "2") else None
        filters = service.Filters(
            q=(form.q.data or "").strip(),
            risk=form.risk.data if form.risk.data in RISK_TYPES else "",
            sector=form.sector.data if form.sector.data in SECTORS else "",
            level=int(level) if level is not None else None,
            status=form.status.data if form.status.data in STATUS_LABELS else "",
        )
    page_no = bounds.page_number()
    now = utcnow()
    v = service.viewer(db.session, current_user)
    page = service.list_page(db.session, v, now, filters, page_no)
    args = {k: val for k, val in request.args.items() if k != "page" and val}
    standing = policy.standing(v.subject, now)
    return render_template("briefings/list.html", form=form, page=page, args=args, viewer=v, standing=standing,
                           compartments=_compartment_names(), **_vocab())


@bp.get("/<briefing_id>")
@requires(Permission.BRIEFINGS_READ)
def show(briefing_id: str) -> str:
    v, opened, now = _open(briefing_id, "page", reading=True)
    b = opened.briefing
    rendered = service.body_of(b)
    ctx: dict[str, Any] = {}
    if v.can_write:
        ctx = {"withdraw_form": WithdrawForm(), "attachment_form": AttachmentForm(),
               "readings": service.reader_count(db.session, b.id), "release": _release_names(opened.release),
               "handler_names": _names(opened.handlers)}
    return render_template(
        "briefings/show.html", b=b, opened=opened, label=service.document_label(opened.label, rendered),
        body=rendered.html(_locale()), marked=rendered.marked, tags=service.tags_of(db.session, b.id),
        files=service.attachments(db.session, b.id), viewer=v, lifecycle=b.lifecycle(now), empty=EmptyForm(),
        compartments=_compartment_names(), **ctx, **_vocab())


@bp.get("/<briefing_id>/pdf")
@requires(Permission.BRIEFINGS_READ)
def pdf(briefing_id: str) -> Response:
    _v, opened, now = _open(briefing_id, "pdf", reading=True)
    b = opened.briefing
    rendered = service.body_of(b)
    label = service.document_label(opened.label, rendered)
    data = render_pdf("pdf/briefing.html",
                      {"b": b, "body": rendered.html(_locale()), "marked": rendered.marked,
                       "tags": service.tags_of(db.session, b.id), "compartments": _compartment_names(),
                       "files": service.attachments(db.session, b.id), **_vocab()},
                      label=label, reader=Reader(current_user.display_name, current_user.id, now), title=b.title)
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="briefing-{b.id[:8]}.pdf"'
    return resp


@bp.get("/<briefing_id>/files/<file_id>")
@requires(Permission.BRIEFINGS_READ)
def attachment(briefing_id: str, file_id: str) -> Response:
    v, opened, now = _open(briefing_id, "attachment")
    stored = service.attachment(db.session, opened, file_id)
    if stored is None:
        abort(404)
    service.record_read(db.session, v, opened, "attachment", now, file_id=stored.id)
    db.session.commit()
    return files.send_download(stored)


@bp.get("/<briefing_id>/readers")
@requires(Permission.BRIEFINGS_WRITE)
def readers(briefing_id: str) -> str:
    _v, opened, _now = _open(briefing_id, "readers")
    rows = service.readers(db.session, opened.briefing.id)
    companies = dict(db.session.execute(select(Company.id, Company.name_ja if _locale() == "ja" else Company.name_en)
                                        .where(Company.id.in_({r.company_id for r in rows if r.company_id}))).all())
    return render_template("briefings/readers.html", b=opened.briefing, label=opened.label, rows=rows,
                           companies=companies, compartments=_compartment_names())


def _names(user_ids: set[str]) -> list[str]:
    if not user_ids:
        return []
    return sorted(db.session.execute(select(UserAccount.display_name).where(UserAccount.id.in_(user_ids))).scalars())


def _release_names(entries: list[tuple[str, str]]) -> list[str]:
    ja = _locale() == "ja"
    by_kind: dict[str, list[str]] = {}
    for k, t in entries:
        by_kind.setdefault(k, []).append(t)
    out = []
    if "all" in by_kind:
        out.append(_("Every company in the dialogue"))
    if by_kind.get("company"):
        out += db.session.execute(select(Company.name_ja if ja else Company.name_en)
                                  .where(Company.id.in_(by_kind["company"]))).scalars().all()
    if by_kind.get("group"):
        out += db.session.execute(select(CompanyGroup.name_ja if ja else CompanyGroup.name_en)
                                  .where(CompanyGroup.id.in_(by_kind["group"]))).scalars().all()
    if by_kind.get("user"):
        out += [f"{n} <{e}>" for n, e in db.session.execute(
            select(UserAccount.display_name, UserAccount.email).where(UserAccount.id.in_(by_kind["user"]))).all()]
    return out


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _fill_choices(form: BriefingForm | LabelForm) -> None:
    ja = _locale() == "ja"
    form.level.choices = level_choices()
    form.compartments.choices = [(c.code, f"{c.code} · {c.name_ja if ja else c.name_en}")
                                 for c in db.session.execute(select(Compartment).order_by(Compartment.code)).scalars()]
    if isinstance(form, BriefingForm):
        form.technology_domain.choices = [("", _("— none —")), *[(str(k), str(v)) for k, v in TECHNOLOGY_DOMAINS.items()]]
        form.risk_types.choices = [(k, str(v)) for k, v in RISK_TYPES.items()]
        form.sectors.choices = [(k, str(v)) for k, v in SECTORS.items()]
        form.tech_fields.choices = [(k, str(v)) for k, v in TECH_FIELDS.items()]
        form.materials.choices = [(k, str(v)) for k, v in CRITICAL_MATERIALS.items()]
        name = Company.name_ja if ja else Company.name_en
        form.release_companies.choices = [(i, n) for i, n in db.session.execute(
            select(Company.id, name).order_by(Company.name_ja)).all()]
        gname = CompanyGroup.name_ja if ja else CompanyGroup.name_en
        form.release_groups.choices = [(i, n) for i, n in db.session.execute(
            select(CompanyGroup.id, gname).order_by(CompanyGroup.name_ja)).all()]


def _accounts_by_email(emails: list[str]) -> tuple[list[str], list[str]]:
    """(ids, unknown addresses)."""
    if not emails:
        return [], []
    found = dict(db.session.execute(select(UserAccount.email, UserAccount.id).where(UserAccount.email.in_(emails))).all())
    return [found[e] for e in emails if e in found], [e for e in emails if e not in found]


def _input_from(form: BriefingForm) -> tuple[service.BriefingInput | None, bool]:
    """Form → input; field errors go onto the form. Returns (input, ok)."""
    ok = True
    people, unknown_people = _accounts_by_email(emails_in(form.release_people.data))
    handler_ids, unknown_handlers = _accounts_by_email(emails_in(form.handlers.data))
    if unknown_people:
        form.release_people.errors.append(_("No account has these addresses: %(list)s", list=", ".join(unknown_people)))
        ok = False
    if unknown_handlers:
        form.handlers.errors.append(_("No account has these addresses: %(list)s", list=", ".join(unknown_handlers)))
        ok = False
    release = [("all", "")] if form.release_all.data else []
    release += [("company", c) for c in form.release_companies.data or []]
    release += [("group", g) for g in form.release_groups.data or []]
    release += [("user", u) for u in people]
    inp = service.BriefingInput(
        title=form.title.data or "", summary=form.summary.data or "", body=form.body.data or "",
        level=form.level.data or "0", compartments=form.compartments.data or [],
        designation=service.Designation(form.designating_agency.data or None, form.designation_number.data or None,
                                        form.designated_on.data, form.designation_expires_on.data),
        technology_domain=int(form.technology_domain.data) if form.technology_domain.data else None,
        tags={"risk": form.risk_types.data or [], "sector": form.sectors.data or [],
              "tech": form.tech_fields.data or [], "material": form.materials.data or []},
        release=release, handler_ids=handler_ids,
        expires_at=expiry_instant(form.expires_on.data) if form.expires_on.data else None,
    )
    return inp, ok


_FIELD_OF = {"designation": "designating_agency", "handlers": "handlers", "compartments": "compartments",
             "level": "level", "body": "body"}


def _put_errors(form: BriefingForm, errors: dict[str, list[str]]) -> None:
    for name, messages in errors.items():
        getattr(form, _FIELD_OF.get(name, name)).errors.extend(messages)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.BRIEFINGS_WRITE)
def new() -> Response | tuple[str, int] | str:
    form = BriefingForm()
    _fill_choices(form)
    if form.validate_on_submit():
        inp, ok = _input_from(form)
        if ok and inp is not None:
            v = service.viewer(db.session, current_user)
            try:
                b = service.create(db.session, v, inp)
            except service.InvalidInput as exc:
                db.session.rollback()
                _put_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(_("Draft saved. Check it, then release it to its readers."), "info")
                return redirect(url_for("briefings.show", briefing_id=b.id))
    elif form.level.data == "3":
        form.level.errors.append(str(NotHostedHere.EXPLANATION))
    status = 400 if form.errors or any(f.errors for f in form) else 200
    return render_template("briefings/form.html", form=form, b=None, label=None,
                           compartments=_compartment_names()), status


@bp.route("/<briefing_id>/edit", methods=["GET", "POST"])
@requires(Permission.BRIEFINGS_WRITE)
def edit(briefing_id: str) -> Response | tuple[str, int] | str:
    v, opened, now = _open(briefing_id, "edit")
    b = opened.briefing
    if b.status == "withdrawn":
        flash(_("A withdrawn briefing cannot be changed."), "error")
        return redirect(url_for("briefings.show", briefing_id=b.id))
    form = BriefingForm()
    _fill_choices(form)
    if request.method == "GET":
        _prefill(form, opened)
    elif form.validate_on_submit():
        inp, ok = _input_from(form)
        if ok and inp is not None:
            try:
                service.update(db.session, v, opened, inp, now)
            except service.InvalidInput as exc:
                db.session.rollback()
                _put_errors(form, exc.errors)
            except service.NotAllowed:
                db.session.rollback()
                abort(409)
            else:
                db.session.commit()
                flash(_("Saved."), "info")
                return redirect(url_for("briefings.show", briefing_id=b.id))
    status = 400 if any(f.errors for f in form) else 200
    eligible = service.eligible_people(db.session, opened.label, now) if opened.label.level >= Level.CRITICAL else []
    return render_template("briefings/form.html", form=form, b=b, label=opened.label, eligible=eligible,
                           compartments=_compartment_names()), status


def _prefill(form: BriefingForm, opened: service.Opened) -> None:
    b = opened.briefing
    tags = service.tags_of(db.session, b.id)
    form.title.data, form.summary.data, form.body.data = b.title, b.summary, b.body
    form.level.data = str(b.level)
    form.compartments.data = sorted(opened.label.compartments)
    form.technology_domain.data = str(b.technology_domain) if b.technology_domain else ""
    form.risk_types.data, form.sectors.data = tags["risk"], tags["sector"]
    form.tech_fields.data, form.materials.data = tags["tech"], tags["material"]
    form.release_all.data = any(k == "all" for k, _t in opened.release)
    form.release_companies.data = [t for k, t in opened.release if k == "company"]
    form.release_groups.data = [t for k, t in opened.release if k == "group"]
    ids = [t for k, t in opened.release if k == "user"]
    if ids:
        form.release_people.data = "\n".join(sorted(db.session.execute(
            select(UserAccount.email).where(UserAccount.id.in_(ids))).scalars()))
    if opened.handlers:
        form.handlers.data = "\n".join(sorted(db.session.execute(
            select(UserAccount.email).where(UserAccount.id.in_(opened.handlers))).scalars()))
    if b.expires_at:
        form.expires_on.data = legal_today(b.expires_at)  # expires_at is 00:00 JST of the chosen day


@bp.post("/<briefing_id>/release")
@requires(Permission.BRIEFINGS_WRITE)
def release(briefing_id: str) -> Response:
    v, opened, now = _open(briefing_id, "release")
    try:
        service.release(db.session, v, opened, now)
        db.session.commit()
        flash(_("Released. Readers on the release list can open it now."), "info")
    except service.NotAllowed:
        db.session.rollback()
        flash(_("Only a draft can be released."), "error")
    return redirect(url_for("briefings.show", briefing_id=opened.briefing.id))


@bp.post("/<briefing_id>/withdraw")
@requires(Permission.BRIEFINGS_WRITE)
def withdraw(briefing_id: str) -> Response:
    v, opened, now = _open(briefing_id, "withdraw")
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(_("Give a reason (at least five characters) to withdraw a briefing."), "error")
        return redirect(url_for("briefings.show", briefing_id=opened.briefing.id))
    try:
        service.withdraw(db.session, v, opened, form.reason.data, now)
        db.session.commit()
        flash(_("Withdrawn. Readers no longer see it."), "info")
    except service.NotAllowed:
        db.session.rollback()
        flash(_("Only a released briefing can be withdrawn."), "error")
    return redirect(url_for("briefings.show", briefing_id=opened.briefing.id))


@bp.post("/<briefing_id>/attachments")
@requires(Permission.BRIEFINGS_WRITE)
@files.accepts_uploads()
def upload(briefing_id: str) -> Response:
    v, opened, _now = _open(briefing_id, "upload")
    form = AttachmentForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to attach."), "error")
        return redirect(url_for("briefings.show", briefing_id=opened.briefing.id))
    try:
        service.add_attachment(db.session, v, opened, form.file.data.stream, form.file.data.filename or "")
        db.session.commit()
        flash(_("Attached, encrypted at the briefing's level."), "info")
    except files.FileRejected as exc:
        db.session.rollback()
        flash(exc.message, "error")
    except service.NotAllowed:
        db.session.rollback()
        flash(_("A withdrawn briefing cannot be changed."), "error")
    return redirect(url_for("briefings.show", briefing_id=opened.briefing.id))


_LABEL_ERRORS = {
    "unchanged": lambda: _("The new label is the same as the current one."),
    "designator_only": lambda: _("Only the officer who designated this briefing may lower its label."),
    "reason_required": lambda: _("Give a reason (at least five characters)."),
    "designation": lambda: _("Level 2 needs the full designation: agency, number, date and expiry."),
    "compartment": lambda: _("Choose compartments from the list."),
}


@bp.route("/<briefing_id>/label", methods=["GET", "POST"])
@requires(Permission.BRIEFINGS_WRITE)
def label(briefing_id: str) -> Response | tuple[str, int] | str:
    v, opened, now = _open(briefing_id, "label")
    b = opened.briefing
    form = LabelForm()
    _fill_choices(form)
    if request.method == "GET":
        form.level.data = str(b.level)
        form.compartments.data = sorted(opened.label.compartments)
        form.designating_agency.data, form.designation_number.data = b.designating_agency, b.designation_number
        form.designated_on.data, form.designation_expires_on.data = b.designated_on, b.designation_expires_on
    elif form.validate_on_submit():
        try:
            new_label = service.label_from(db.session, form.level.data, form.compartments.data or [])
        except NotHostedHere:
            form.level.errors.append(str(NotHostedHere.EXPLANATION))
        except (service.NotAllowed, ValueError):
            form.level.errors.append(_("Choose one of the listed levels."))
        else:
            designation = service.Designation(form.designating_agency.data or None, form.designation_number.data or None,
                                              form.designated_on.data, form.designation_expires_on.data)
            try:
                what = service.change_label(db.session, v, opened, new_label, designation, form.reason.data, now)
            except service.NotAllowed as exc:
                db.session.rollback()
                message = _LABEL_ERRORS.get(exc.reason)
                text = message() if message else _("Your own clearance does not cover this label: %(why)s",
                                                   why=exc.detail or exc.reason)
                form.level.errors.append(text)
            else:
                db.session.commit()
                flash(_("Label raised.") if what == "raised" else _("Label lowered. The change is in the audit log."),
                      "info")
                return redirect(url_for("briefings.show", briefing_id=b.id))
    status = 400 if any(f.errors for f in form) else 200
    return render_template("briefings/label.html", form=form, b=b, label=opened.label,
                           designator=b.designator_id == current_user.id, compartments=_compartment_names()), status

