"""The register's pages for ministry staff: officers write (REGISTER_WRITE), security officers and
administrators read (REGISTER_READ). Each view loads what the URL names (404 if missing), then acts
through service.py, then renders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from clearance import bounds, freshness
from clearance.audit import Kind
from clearance.auth.forms import EmptyForm
from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.files import accepts_uploads
from clearance.permissions import Permission, requires
from dialogue.registry import corrections, export, importer, service
from dialogue.registry.diagram import layout
from dialogue.registry.forms import (
    AssociationFilterForm,
    AssociationForm,
    CompanyFilterForm,
    CompanyForm,
    ContactForm,
    CorrectionFilterForm,
    DecisionForm,
    GroupFilterForm,
    GroupForm,
    ImportForm,
    LinkForm,
    MemberForm,
    prefecture_choices,
)
from dialogue.registry.models import Association, Company, CompanyGroup, ContactPerson, CorrectionRequest
from dialogue.registry.service import (
    AssociationData,
    CompanyData,
    CompanyFilters,
    ContactData,
    GroupData,
    RegisterError,
)
from dialogue.registry.tables import association_table, company_table, group_table
from dialogue.registry.taxonomy import TIERS, prefecture_label

bp = Blueprint("registry", __name__, url_prefix="/registry")
PER_PAGE = 50


def _locale() -> str:
    return str(get_locale() or "ja")


def _get(model, object_id: str):
    obj = db.session.get(model, object_id[:36])
    if obj is None:
        abort(404)
    return obj


def _page_args() -> dict[str, str]:
    return {k: v for k, v in request.args.to_dict().items() if k != "page"}


def _render(template: str, form=None, **context: Any):
    """Render; a posted form with errors answers 400 so tests and tools see the refusal."""
    status = 400 if form is not None and request.method == "POST" and form.errors else 200
    return render_template(template, form=form, labels=service.label_maps(), **context), status


def _blame(form, exc: RegisterError) -> None:
    target = getattr(form, exc.field, None) if exc.field else None
    if target is not None:
        target.errors = [*target.errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")


_FAILED = object()


def _attempt(form, change: Callable[[], Any]) -> Any:
    """Run one register change and commit it; on a RegisterError roll back, show the reason on the
    form and return _FAILED. Every create and edit view goes through here."""
    try:
        result = change()
        db.session.commit()
    except RegisterError as exc:
        db.session.rollback()
        _blame(form, exc)
        return _FAILED
    return result


def _deleted(delete: Callable[[], Any]) -> bool:
    """Delete and commit; when other records still point at the row, roll back and say why."""
    try:
        delete()
        db.session.commit()
    except service.InUse as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return False
    return True


@bp.context_processor
def _register_context() -> dict[str, Any]:
    # The sub-navigation shows how many correction requests wait for a decision.
    return {"pending_corrections": freshness.cached_count(("registry.pending_corrections",),
                                                          lambda: corrections.pending_count(db.session)),
            "pref_label": lambda code: prefecture_label(code, _locale())}


@bp.get("/")
@requires(Permission.REGISTER_READ)
def index() -> Response:
    return redirect(url_for("registry.companies"))


# --------------------------------------------------------------------------- companies


def _company_filters(form: CompanyFilterForm) -> CompanyFilters:
    form.association.choices = [("", _("All associations")), *_id_names(Association)]
    form.group.choices = [("", _("All groups")), *_id_names(CompanyGroup)]
    # Every field is a plain string; an over-long search is cut rather than silently ignored.
    return CompanyFilters(**{k: str(getattr(form, k).data or "").strip()[:100]
                             for k in CompanyFilters.__dataclass_fields__})


def _id_names(model) -> list[tuple[str, str]]:
    """(id, name in the reader's language) for a select or checkbox list."""
    name = model.name_ja if _locale() == "ja" else model.name_en
    return [(i, n) for i, n in db.session.execute(select(model.id, name).order_by(name))]


@bp.get("/companies")
@requires(Permission.REGISTER_READ)
def companies() -> tuple[str, int]:
    # The register reads the same for everyone with one role: the body is shared by role,
    # language and query, per generation (clearance/freshness.py).
    key = ("registry.companies", current_user.role, _locale(), request.query_string)

    def page() -> str:
        return _render("registry/companies.html", body=freshness.cached_body(key, _companies_body, ttl=300.0))[0]

    return freshness.cached_page(("registry.companies", current_user.id, _locale(), request.full_path), page,
                                 ttl=300.0), 200


def _companies_body() -> str:
    form = CompanyFilterForm(request.args)
    filters = _company_filters(form)
    page = db.paginate(service.company_query(filters, locale=_locale()),
                       page=bounds.page_number(), per_page=PER_PAGE, error_out=False)
    ids = [c.id for c in page.items]
    return render_template("registry/_companies_body.html", filter_form=form, page=page, filters=filters,
                           sectors=service.sectors_of(db.session, ids), args=_page_args(),
                           labels=service.label_maps())


@bp.get("/companies.<any(csv, xlsx):fmt>")
@requires(Permission.REGISTER_READ)
def companies_export(fmt: str) -> Response:
    filters = _company_filters(CompanyFilterForm(request.args))
    header, rows = company_table(db.session, service.company_query(filters, locale=_locale()), _locale())
    return _download("companies", fmt, header, rows, {k: v for k, v in vars(filters).items() if v})


def _download(what: str, fmt: str, header: list[str], rows: list[list[Any]], filters: dict[str, str]) -> Response:
    service.record(db.session, current_user, "Register exported",
                   {"list": what, "format": fmt, "rows": len(rows), "filters": filters}, kind=Kind.INFO)
    db.session.commit()
    title = {"companies": _("Companies"), "associations": _("Industry associations"),
             "groups": _("Company groups")}[what]
    name = f"taiwa-{what}-{date.today().isoformat()}.{fmt}"
    if fmt == "xlsx":
        return export.download(export.xlsx_bytes(title, header, rows), name, fmt)
    return export.download(export.csv_bytes(header, rows), name, fmt)


def _company_form(obj_values: dict[str, Any] | None = None) -> CompanyForm:
    form = CompanyForm(data=obj_values) if obj_values is not None and request.method == "GET" else CompanyForm()
    form.prefecture.choices = prefecture_choices(_locale())
    form.associations.choices = _id_names(Association)
    return form


def _company_data(form: CompanyForm) -> CompanyData:
    return CompanyData(
        corporate_number=form.corporate_number.data, name_ja=form.name_ja.data, name_en=form.name_en.data,
        size_class=form.size_class.data, prefecture=form.prefecture.data, sectors=tuple(form.sectors.data or ()),
        tech_field=form.tech_field.data or None, materials=tuple(form.materials.data or ()),
        key_products=form.key_products.data or "", key_technologies=form.key_technologies.data or "",
        association_ids=tuple(form.associations.data or ()),
    )


@bp.route("/companies/new", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def company_new():
    form = _company_form()
    if form.validate_on_submit():
        company = _attempt(form, lambda: service.create_company(db.session, current_user, _company_data(form)))
        if company is not _FAILED:
            flash(_("Company added to the register."), "info")
            return redirect(url_for("registry.company", company_id=company.id))
    return _render("registry/company_form.html", form, company=None)


@bp.get("/companies/<company_id>")
@requires(Permission.REGISTER_READ)
def company(company_id: str):
    c = _get(Company, company_id)
    values = service.company_values(db.session, c)
    pending = db.session.execute(select(CorrectionRequest).where(CorrectionRequest.company_id == c.id)
                                 .order_by(CorrectionRequest.created_at.desc()).limit(20)).scalars().all()
    accounts = db.session.execute(select(func.count()).select_from(UserAccount)
                                  .where(UserAccount.company_id == c.id, UserAccount.active)).scalar_one()
    return _render("registry/company.html", company=c, values=values,
                   associations=service.associations_of(db.session, [c.id]).get(c.id, []),
                   places=service.company_groups(db.session, c.id),
                   contacts=service.contacts_of(db.session, company_id=c.id),
                   requests=pending, accounts=accounts, empty=EmptyForm())


@bp.route("/companies/<company_id>/edit", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def company_edit(company_id: str):
    c = _get(Company, company_id)
    values = service.company_values(db.session, c)
    values["associations"] = values.pop("association_ids")
    form = _company_form(values)
    if form.validate_on_submit():
        changed = _attempt(form, lambda: service.update_company(db.session, current_user, c, _company_data(form)))
        if changed is not _FAILED:
            flash(_("Saved.") if changed else _("Nothing was changed."), "info")
            return redirect(url_for("registry.company", company_id=c.id))
    return _render("registry/company_form.html", form, company=c)


@bp.route("/companies/<company_id>/delete", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def company_delete(company_id: str):
    c = _get(Company, company_id)
    form = EmptyForm()
    if form.validate_on_submit():
        name = c.name_ja if _locale() == "ja" else c.name_en
        if not _deleted(lambda: service.delete_company(db.session, current_user, c)):
            return redirect(url_for("registry.company", company_id=company_id[:36]))
        flash(_("%(name)s was deleted from the register.", name=name), "info")
        return redirect(url_for("registry.companies"))
    places = service.company_groups(db.session, c.id)
    consequences = [
        _("%(n)d association membership(s) end.",
          n=len(service.associations_of(db.session, [c.id]).get(c.id, []))),
        _("It leaves %(n)d company group(s), with its supplier links.", n=len(places)),
        _("Its contact people and correction requests are deleted."),
    ]
    return _render("registry/confirm_delete.html", form, what=c.name_ja if _locale() == "ja" else c.name_en,
                   consequences=consequences, cancel=url_for("registry.company", company_id=c.id))


# --------------------------------------------------------------------------- contact people


def _contact_owner_url(contact: ContactPerson) -> str:
    if contact.company_id:
        return url_for("registry.company", company_id=contact.company_id)
    return url_for("registry.association", association_id=contact.association_id)


def _contact_data(form: ContactForm) -> ContactData:
    return ContactData(form.name.data or "", form.department.data or "", form.title.data or "",
                       form.email.data or "", form.phone.data or "")


@bp.route("/companies/<company_id>/contacts/new", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def company_contact_new(company_id: str):
    c = _get(Company, company_id)
    form = ContactForm()
    if form.validate_on_submit():
        service.add_contact(db.session, current_user, _contact_data(form), company=c)
        db.session.commit()
        flash(_("Contact person added."), "info")
        return redirect(url_for("registry.company", company_id=c.id))
    return _render("registry/contact_form.html", form, owner=c, contact=None,
                   back=url_for("registry.company", company_id=c.id))


@bp.route("/associations/<association_id>/contacts/new", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def association_contact_new(association_id: str):
    a = _get(Association, association_id)
    form = ContactForm()
    if form.validate_on_submit():
        service.add_contact(db.session, current_user, _contact_data(form), association=a)
        db.session.commit()
        flash(_("Contact person added."), "info")
        return redirect(url_for("registry.association", association_id=a.id))
    return _render("registry/contact_form.html", form, owner=a, contact=None,
                   back=url_for("registry.association", association_id=a.id))


@bp.route("/contacts/<contact_id>/edit", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def contact_edit(contact_id: str):
    contact = _get(ContactPerson, contact_id)
    if request.method == "GET":
        form = ContactForm(data={"name": contact.name, "department": contact.department, "title": contact.title,
                                 "email": contact.email, "phone": contact.phone})
    else:
        form = ContactForm()
    if form.validate_on_submit():
        service.update_contact(db.session, current_user, contact, _contact_data(form))
        db.session.commit()
        flash(_("Saved."), "info")
        return redirect(_contact_owner_url(contact))
    owner = db.session.get(Company, contact.company_id) if contact.company_id else db.session.get(
        Association, contact.association_id)
    return _render("registry/contact_form.html", form, owner=owner, contact=contact, back=_contact_owner_url(contact),
                   empty=EmptyForm())


@bp.post("/contacts/<contact_id>/delete")
@requires(Permission.REGISTER_WRITE)
def contact_delete(contact_id: str) -> Response:
    contact = _get(ContactPerson, contact_id)
    back = _contact_owner_url(contact)
    service.delete_contact(db.session, current_user, contact)
    db.session.commit()
    flash(_("Contact person deleted."), "info")
    return redirect(back)


# --------------------------------------------------------------------------- CSV import


@bp.route("/companies/import", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
@accepts_uploads(importer.MAX_BYTES)
def import_upload():
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.stream.read(importer.MAX_BYTES + 1)
        if len(raw) > importer.MAX_BYTES:
            form.file.errors.append(_("The file is larger than %(mb)d MB. Split it into smaller files.",
                                      mb=importer.MAX_BYTES // (1024 * 1024)))
        else:
            result = importer.parse(db.session, raw)
            if result.ok:
                batch = importer.stage(db.session, current_user, upload.filename or "", result)
                db.session.commit()
                return redirect(url_for("registry.import_preview", batch_id=batch.id))
    status = 400 if request.method == "POST" else 200
    html, _status = _render("registry/import.html", form, result=result, columns=importer.COLUMNS,
                            limit=importer.REPORT_LIMIT)
    return html, status


def _batch(batch_id: str):
    batch = importer.load_staged(db.session, current_user, batch_id)
    if batch is None:
        abort(404)  # someone else's, expired, or already imported: all look the same
    return batch


@bp.get("/companies/import/<batch_id>")
@requires(Permission.REGISTER_WRITE)
def import_preview(batch_id: str):
    batch = _batch(batch_id)
    rows = importer.staged_rows(batch)
    names = dict(db.session.execute(select(Association.id, Association.name_ja)).all())
    return _render("registry/import_preview.html", batch=batch, rows=rows[:100], total=len(rows), names=names,
                   empty=EmptyForm())


@bp.post("/companies/import/<batch_id>/confirm")
@requires(Permission.REGISTER_WRITE)
def import_confirm(batch_id: str):
    batch = _batch(batch_id)
    try:
        n = importer.commit(db.session, current_user, batch)
        db.session.commit()
    except importer.StaleImport as exc:
        db.session.rollback()
        form = ImportForm()
        result = importer.ParseResult(problems=exc.problems)
        flash(_("The register changed since the preview: nothing was imported. Correct the file and upload it "
                "again."), "error")
        html, _s = _render("registry/import.html", form, result=result, columns=importer.COLUMNS,
                           limit=importer.REPORT_LIMIT)
        return html, 409
    flash(_("%(n)d companies imported.", n=n), "info")
    return redirect(url_for("registry.companies"))


@bp.post("/companies/import/<batch_id>/discard")
@requires(Permission.REGISTER_WRITE)
def import_discard(batch_id: str) -> Response:
    batch = _batch(batch_id)
    db.session.delete(batch)
    db.session.commit()
    flash(_("The file was discarded; nothing was imported."), "info")
    return redirect(url_for("registry.import_upload"))


# --------------------------------------------------------------------------- associations


@bp.get("/associations")
@requires(Permission.REGISTER_READ)
def associations():
    form = AssociationFilterForm(request.args)
    q, sector = (form.q.data or "")[:100], form.sector.data or ""
    page = db.paginate(service.association_query(q, sector, locale=_locale()),
                       page=bounds.page_number(), per_page=PER_PAGE, error_out=False)
    ids = [a.id for a in page.items]
    return _render("registry/associations.html", filter_form=form, page=page, args=_page_args(),
                   sectors=service.association_sectors(db.session, ids),
                   counts=service.member_counts(db.session, ids))


@bp.get("/associations.<any(csv, xlsx):fmt>")
@requires(Permission.REGISTER_READ)
def associations_export(fmt: str) -> Response:
    form = AssociationFilterForm(request.args)
    q, sector = (form.q.data or "")[:100], form.sector.data or ""
    header, rows = association_table(db.session, service.association_query(q, sector, locale=_locale()), _locale())
    return _download("associations", fmt, header, rows, {k: v for k, v in {"q": q, "sector": sector}.items() if v})


def _association_data(form: AssociationForm) -> AssociationData:
    return AssociationData(form.name_ja.data or "", form.name_en.data or "", tuple(form.sectors.data or ()))


@bp.route("/associations/new", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def association_new():
    form = AssociationForm()
    if form.validate_on_submit():
        a = _attempt(form, lambda: service.create_association(db.session, current_user, _association_data(form)))
        if a is not _FAILED:
            flash(_("Association added to the register."), "info")
            return redirect(url_for("registry.association", association_id=a.id))
    return _render("registry/association_form.html", form, association=None)


@bp.get("/associations/<association_id>")
@requires(Permission.REGISTER_READ)
def association(association_id: str):
    a = _get(Association, association_id)
    members = service.association_members(db.session, a.id, locale=_locale())
    return _render("registry/association.html", association=a,
                   sectors=service.association_sectors(db.session, [a.id]).get(a.id, []),
                   members=members, member_sectors=service.sectors_of(db.session, [m.id for m in members]),
                   contacts=service.contacts_of(db.session, association_id=a.id),
                   member_form=MemberForm(), empty=EmptyForm())


@bp.route("/associations/<association_id>/edit", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def association_edit(association_id: str):
    a = _get(Association, association_id)
    if request.method == "GET":
        form = AssociationForm(data={"name_ja": a.name_ja, "name_en": a.name_en,
                                     "sectors": service.association_sectors(db.session, [a.id]).get(a.id, [])})
    else:
        form = AssociationForm()
    if form.validate_on_submit():
        outcome = _attempt(form, lambda: service.update_association(db.session, current_user, a, _association_data(form)))
        if outcome is not _FAILED:
            flash(_("Saved."), "info")
            return redirect(url_for("registry.association", association_id=a.id))
    return _render("registry/association_form.html", form, association=a)


@bp.route("/associations/<association_id>/delete", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def association_delete(association_id: str):
    a = _get(Association, association_id)
    form = EmptyForm()
    name = a.name_ja if _locale() == "ja" else a.name_en
    if form.validate_on_submit():
        if not _deleted(lambda: service.delete_association(db.session, current_user, a)):
            return redirect(url_for("registry.association", association_id=association_id[:36]))
        flash(_("%(name)s was deleted from the register.", name=name), "info")
        return redirect(url_for("registry.associations"))
    n = service.member_counts(db.session, [a.id]).get(a.id, 0)
    consequences = [_("Its %(n)d membership(s) end; the companies stay in the register.", n=n),
                    _("Its contact people are deleted.")]
    return _render("registry/confirm_delete.html", form, what=name, consequences=consequences,
                   cancel=url_for("registry.association", association_id=a.id))


@bp.post("/associations/<association_id>/members")
@requires(Permission.REGISTER_WRITE)
def association_member_add(association_id: str) -> Response:
    a = _get(Association, association_id)
    form = MemberForm()
    back = url_for("registry.association", association_id=a.id)
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.corporate_number.errors) or _("Enter a corporate number."), "error")
        return redirect(back)
    company = service.company_by_number(db.session, form.corporate_number.data)
    if company is None:
        flash(_("No company with this corporate number is in the register."), "error")
        return redirect(back)
    added = service.add_association_member(db.session, current_user, a, company)
    db.session.commit()
    flash(_("Member added.") if added else _("This company is already a member."), "info")
    return redirect(back)


@bp.post("/associations/<association_id>/members/<company_id>/remove")
@requires(Permission.REGISTER_WRITE)
def association_member_remove(association_id: str, company_id: str) -> Response:
    a = _get(Association, association_id)
    if not service.remove_association_member(db.session, current_user, a, company_id[:36]):
        abort(404)
    db.session.commit()
    flash(_("Member removed."), "info")
    return redirect(url_for("registry.association", association_id=a.id))


# --------------------------------------------------------------------------- groups


def _group_filter_values(form: GroupFilterForm) -> tuple[str, str, str]:
    return (form.q.data or "")[:100], form.kind.data or "", form.sector.data or ""


@bp.get("/groups")
@requires(Permission.REGISTER_READ)
def groups():
    form = GroupFilterForm(request.args)
    q, kind, sector = _group_filter_values(form)
    page = db.paginate(service.group_query(q, kind, sector, locale=_locale()),
                       page=bounds.page_number(), per_page=PER_PAGE, error_out=False)
    return _render("registry/groups.html", filter_form=form, page=page, args=_page_args(),
                   counts=service.group_member_counts(db.session, [g.id for g in page.items]))


@bp.get("/groups.<any(csv, xlsx):fmt>")
@requires(Permission.REGISTER_READ)
def groups_export(fmt: str) -> Response:
    q, kind, sector = _group_filter_values(GroupFilterForm(request.args))
    header, rows = group_table(db.session, service.group_query(q, kind, sector, locale=_locale()), _locale())
    return _download("groups", fmt, header, rows,
                     {k: v for k, v in {"q": q, "kind": kind, "sector": sector}.items() if v})


def _group_data(form: GroupForm) -> GroupData:
    return GroupData(form.kind.data, form.name_ja.data or "", form.name_en.data or "", form.sector.data,
                     form.subject_ja.data or "", form.subject_en.data or "")


@bp.route("/groups/new", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def group_new():
    form = GroupForm()
    if form.validate_on_submit():
        g = _attempt(form, lambda: service.create_group(db.session, current_user, _group_data(form)))
        if g is not _FAILED:
            flash(_("Company group added to the register."), "info")
            return redirect(url_for("registry.group", group_id=g.id))
    return _render("registry/group_form.html", form, group=None)


def _diagram(g: CompanyGroup, view: service.GroupView):
    if g.kind != "supply_chain" or not view.members:
        return None
    return layout(view, locale=_locale(), tier_labels={k: str(v) for k, v in TIERS.items()},
                  size_labels=_short_sizes())


def _short_sizes() -> dict[str, str]:
    """Box labels in the diagram have little room."""
    return {"large": _("Large"), "mid": _("Mid-sized"), "small": _("Small")}


@bp.get("/groups/<group_id>")
@requires(Permission.REGISTER_READ)
def group(group_id: str):
    g = _get(CompanyGroup, group_id)
    view = service.group_view(db.session, g, locale=_locale())
    link_form = LinkForm()
    names = {m.company.id: (m.company.name_ja if _locale() == "ja" else m.company.name_en) for m in view.members}
    tiers_of = {m.company.id: m.tier for m in view.members}
    choices = [(m.company.id, names[m.company.id]) for m in view.members]
    link_form.supplier.choices = choices
    link_form.customer.choices = choices
    links = sorted(view.links, key=lambda lk: (tiers_of.get(lk.supplier_id) or 0, names.get(lk.supplier_id, ""),
                                              names.get(lk.customer_id, "")))
    return _render("registry/group.html", group=g, view=view, diagram=_diagram(g, view), names=names,
                   tiers_of=tiers_of, links=links, member_form=MemberForm(), link_form=link_form, empty=EmptyForm())


@bp.get("/groups/<group_id>/diagram.svg")
@requires(Permission.REGISTER_READ)
def group_diagram(group_id: str) -> Response:
    g = _get(CompanyGroup, group_id)
    view = service.group_view(db.session, g, locale=_locale())
    diagram = _diagram(g, view)
    if diagram is None:
        abort(404)
    svg = render_template("registry/diagram.svg", group=g, diagram=diagram, standalone=True)
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, mimetype="image/svg+xml")


@bp.route("/groups/<group_id>/edit", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def group_edit(group_id: str):
    g = _get(CompanyGroup, group_id)
    if request.method == "GET":
        form = GroupForm(obj=g)
    else:
        form = GroupForm()
    form.kind.data = g.kind  # fixed at creation
    if form.validate_on_submit():
        outcome = _attempt(form, lambda: service.update_group(db.session, current_user, g, _group_data(form)))
        if outcome is not _FAILED:
            flash(_("Saved."), "info")
            return redirect(url_for("registry.group", group_id=g.id))
    return _render("registry/group_form.html", form, group=g)


@bp.route("/groups/<group_id>/delete", methods=["GET", "POST"])
@requires(Permission.REGISTER_WRITE)
def group_delete(group_id: str):
    g = _get(CompanyGroup, group_id)
    form = EmptyForm()
    name = g.name_ja if _locale() == "ja" else g.name_en
    if form.validate_on_submit():
        if not _deleted(lambda: service.delete_group(db.session, current_user, g)):
            return redirect(url_for("registry.group", group_id=group_id[:36]))
        flash(_("%(name)s was deleted from the register.", name=name), "info")
        return redirect(url_for("registry.groups"))
    n = service.group_member_counts(db.session, [g.id]).get(g.id, 0)
    consequences = [_("Its %(n)d member place(s) and all its supplier links are deleted; the companies stay in "
                      "the register.", n=n)]
    return _render("registry/confirm_delete.html", form, what=name, consequences=consequences,
                   cancel=url_for("registry.group", group_id=g.id))


@bp.post("/groups/<group_id>/members")
@requires(Permission.REGISTER_WRITE)
def group_member_add(group_id: str) -> Response:
    g = _get(CompanyGroup, group_id)
    form = MemberForm()
    back = url_for("registry.group", group_id=g.id)
    if not form.validate_on_submit():
        errors = [str(e) for f in (form.corporate_number, form.tier) for e in f.errors]
        flash(" ".join(errors) or _("Enter a corporate number."), "error")
        return redirect(back)
    company = service.company_by_number(db.session, form.corporate_number.data)
    if company is None:
        flash(_("No company with this corporate number is in the register."), "error")
        return redirect(back)
    try:
        broken = service.set_group_member(db.session, current_user, g, company,
                                          int(form.tier.data) if form.tier.data else None)
        db.session.commit()
    except RegisterError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(back)
    flash(_("Saved.") if not broken else _("Saved. %(n)d supplier link(s) no longer ran downstream and were "
                                           "removed.", n=broken), "info")
    return redirect(back)


@bp.post("/groups/<group_id>/members/<member_id>/remove")
@requires(Permission.REGISTER_WRITE)
def group_member_remove(group_id: str, member_id: str) -> Response:
    g = _get(CompanyGroup, group_id)
    if not service.remove_group_member(db.session, current_user, g, member_id[:36]):
        abort(404)
    db.session.commit()
    flash(_("Member removed."), "info")
    return redirect(url_for("registry.group", group_id=g.id))


@bp.post("/groups/<group_id>/links")
@requires(Permission.REGISTER_WRITE)
def group_link_add(group_id: str) -> Response:
    g = _get(CompanyGroup, group_id)
    form = LinkForm()
    form.supplier.choices = form.customer.choices = None  # checked by the service against the members
    form.supplier.validate_choice = form.customer.validate_choice = False
    back = url_for("registry.group", group_id=g.id)
    if not form.validate_on_submit():
        flash(_("Choose a supplier and a customer."), "error")
        return redirect(back)
    try:
        service.add_group_link(db.session, current_user, g, form.supplier.data[:36], form.customer.data[:36])
        db.session.commit()
    except RegisterError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(back)
    flash(_("Supplier link added."), "info")
    return redirect(back)


@bp.post("/groups/<group_id>/links/<link_id>/remove")
@requires(Permission.REGISTER_WRITE)
def group_link_remove(group_id: str, link_id: str) -> Response:
    g = _get(CompanyGroup, group_id)
    if not service.remove_group_link(db.session, current_user, g, link_id[:36]):
        abort(404)
    db.session.commit()
    flash(_("Supplier link removed."), "info")
    return redirect(url_for("registry.group", group_id=g.id))


# --------------------------------------------------------------------------- correction requests


def _status_labels() -> dict[str, str]:
    return {"pending": _("Pending"), "approved": _("Approved"), "rejected": _("Rejected"),
            "withdrawn": _("Withdrawn")}


@bp.get("/corrections")
@requires(Permission.REGISTER_READ)
def corrections_list():
    form = CorrectionFilterForm(request.args)
    labels = _status_labels()
    form.status.choices = [*labels.items(), ("all", _("All"))]
    status = form.status.data if form.status.data in (*labels, "all") else "pending"
    form.status.data = status
    page = db.paginate(corrections.officer_query(status), page=bounds.page_number(), per_page=PER_PAGE, error_out=False)
    fields = {r.id: [k for k in corrections.CORRECTABLE if k in corrections.proposed_of(r)] for r in page.items}
    return _render("registry/corrections.html", filter_form=form, page=page, args=_page_args(),
                   statuses=labels, fields=fields)


@bp.get("/corrections/<request_id>")
@requires(Permission.REGISTER_READ)
def correction(request_id: str):
    req = _get(CorrectionRequest, request_id)
    people = {u.id: u for u in db.session.execute(select(UserAccount).where(
        UserAccount.id.in_([i for i in (req.requested_by_id, req.decided_by_id) if i]))).scalars()}
    return _render("registry/correction.html", DecisionForm(), req=req, changes=corrections.changes(db.session, req),
                   people=people, statuses=_status_labels(), empty=EmptyForm())


@bp.post("/corrections/<request_id>/approve")
@requires(Permission.REGISTER_WRITE)
def correction_approve(request_id: str) -> Response:
    req = _get(CorrectionRequest, request_id)
    try:
        corrections.approve(db.session, current_user, req)
        db.session.commit()
    except RegisterError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        flash(_("Approved: the profile has been corrected."), "info")
    return redirect(url_for("registry.correction", request_id=req.id))


@bp.post("/corrections/<request_id>/reject")
@requires(Permission.REGISTER_WRITE)
def correction_reject(request_id: str):
    req = _get(CorrectionRequest, request_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            corrections.reject(db.session, current_user, req, form.reason.data or "")
            db.session.commit()
        except RegisterError as exc:
            db.session.rollback()
            form.reason.errors = [str(exc.message)]
        else:
            flash(_("Rejected. The company can read your reason."), "info")
            return redirect(url_for("registry.correction", request_id=req.id))
    people = {u.id: u for u in db.session.execute(select(UserAccount).where(
        UserAccount.id.in_([i for i in (req.requested_by_id, req.decided_by_id) if i]))).scalars()}
    html, _s = _render("registry/correction.html", form, req=req, changes=corrections.changes(db.session, req),
                       people=people, statuses=_status_labels(), empty=EmptyForm())
    return html, 400
