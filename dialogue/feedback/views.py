"""Feedback pages: officers' list, item, analysis and measures; the company portal's form and list."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clearance import bounds
from clearance.db import db
from clearance.permissions import Permission, requires
from dialogue.feedback import analysis, service
from dialogue.feedback.access import item_label, readable, readable_ids
from dialogue.feedback.forms import (
    AnswerForm,
    ClassifyForm,
    MeasureForm,
    MeasuresForm,
    PortalFeedbackForm,
    StatusForm,
    category_of,
)
from dialogue.feedback.models import FeedbackItem
from dialogue.feedback.taxonomy import CATEGORIES, INSTRUMENTS, KINDS, SOURCES, STATUS_ORDER, STATUSES, SUBTOPICS
from dialogue.registry.models import Company
from dialogue.registry.taxonomy import REGIONS, SECTORS, SIZE_CLASSES, TIERS

bp = Blueprint("feedback", __name__)

PER_PAGE = 50


def _vocab() -> dict[str, object]:
    return {"categories": CATEGORIES, "subtopics": SUBTOPICS, "instruments": INSTRUMENTS, "sources": SOURCES,
            "statuses": STATUSES, "kinds": KINDS, "sectors": SECTORS, "regions": REGIONS, "sizes": SIZE_CLASSES,
            "tiers": TIERS, "status_order": STATUS_ORDER}


def _apply_form_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        target = getattr(form, name, None)
        if target is not None:
            target.errors = [*list(target.errors or []), message]
        else:
            flash(message, "error")


# ---- officers ------------------------------------------------------------------------------------------------


@bp.get("/feedback")
@requires(Permission.FEEDBACK_READ)
def items() -> str:
    filters = analysis.parse_filters(request.args)
    page = db.paginate(service.items_query(filters),
                       page=bounds.page_number(), per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)
    companies = _company_names([i.company_id for i in page.items])
    labelled = _with_compartments([i.id for i in page.items if i.level == 0])
    may = readable_ids(db.session, current_user, [i.id for i in page.items if i.level > 0])
    return render_template("feedback/items.html", page=page, filters=filters, args=filters.args(),
                           readable=lambda i: i.level == 0 and i.id not in labelled or i.id in may,
                           companies=companies, pending=service.pending_consultations(db.session), **_vocab())


@bp.post("/feedback/intake")
@requires(Permission.FEEDBACK_WRITE)
def intake() -> Response:
    """Take in the anonymised passages the consultation desk has handed over."""
    from clearance.auth.forms import EmptyForm

    if not EmptyForm().validate_on_submit():
        abort(400)
    n = service.take_over_consultations(db.session, actor=current_user)
    db.session.commit()
    flash(_("%(n)d anonymised consultation passage(s) taken in as feedback.", n=n), "success")
    return redirect(url_for("feedback.items", source="anonymous"))


@bp.get("/feedback/analysis")
@requires(Permission.FEEDBACK_READ)
def analysis_page() -> str:
    from dialogue.reports.charts import heat_class

    filters = analysis.parse_filters(request.args)
    dims = {d: analysis.crosstab(db.session, filters, d) for d in ("sector", "region", "size")}
    return render_template(
        "feedback/analysis.html", filters=filters, args=filters.args(), dims=dims,
        series=analysis.over_time(db.session, filters), top=analysis.top_subtopics(db.session, filters, limit=10),
        backlog=analysis.backlog(db.session, filters), total=analysis.count(db.session, filters),
        drill=analysis.drill_args, heat=heat_class, **_vocab(),
    )


@bp.get("/feedback/charts/<name>.svg")
@requires(Permission.FEEDBACK_READ)
def chart(name: str) -> Response:
    """The analysis charts as SVG images, for the same filters as the page."""
    from dialogue.home.charts import SVG_CSP
    from dialogue.reports import charts

    filters = analysis.parse_filters(request.args)
    if name == "categories":
        svg = charts.category_bars(_("Feedback by 3P category"), analysis.crosstab(db.session, filters, "size").row_totals)
    elif name == "timeline":
        series = analysis.over_time(db.session, filters)
        svg = charts.timeline(_("Feedback per month by 3P category"), series.months, series.by_category)
    elif name == "subtopics":
        top = analysis.top_subtopics(db.session, filters, limit=10)
        svg = charts.ranked(_("Most frequent sub-topics"), [_short(str(SUBTOPICS[t.code].label)) for t in top],
                            [t.count for t in top], _("Items"))
    else:
        abort(404)
    return Response(svg, mimetype="image/svg+xml", headers={"Content-Security-Policy": SVG_CSP})


def _short(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


@bp.get("/feedback/<item_id>")
@requires(Permission.FEEDBACK_READ)
def item(item_id: str) -> str:
    entry = _officer_item(item_id)
    label = item_label(entry)
    if not label.is_public:  # every decision on labelled material is audited, allowed or denied
        from clearance import policy
        from clearance.db import utcnow
        from clearance.people import handlers_of

        decision = policy.decide(policy.subject(db.session, current_user), label, utcnow(),
                                 handlers=handlers_of(db.session, "feedback_item", entry.id), release=None)
        policy.record_decision(db.session, current_user, decision, object_table="feedback_item", object_id=entry.id,
                               label=label, route="page")
        db.session.commit()
    return _render_item(entry)


def _render_item(entry: FeedbackItem, **forms) -> str:
    classify = forms.get("classify") or ClassifyForm(
        subtopic=entry.subtopic, instrument=entry.instrument, sectors=entry.sectors,
        tier=str(entry.tier or ""), region=entry.region or "", size_class=entry.size_class or "")
    measures_form = forms.get("measures") or MeasuresForm(measures=[m.id for m in entry.measures])
    measures_form.measures.choices = [(m.id, m.title(_locale())) for m in service.measures(db.session)]
    can_read = readable(current_user, entry)
    return render_template(
        "feedback/item.html", item=entry, can_read=can_read, label=item_label(entry),
        company=db.session.get(Company, entry.company_id) if entry.company_id else None,
        status_form=forms.get("status") or StatusForm(status=entry.status if entry.status != "answered" else None),
        answer_form=forms.get("answer") or AnswerForm(answer=entry.answer if can_read and entry.answer else None),
        classify_form=classify, measures_form=measures_form, **_vocab(),
    ), (400 if forms else 200)


@bp.post("/feedback/<item_id>/status")
@requires(Permission.FEEDBACK_WRITE)
def item_status(item_id: str) -> Response | tuple[str, int]:
    entry = _officer_item(item_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _render_item(entry, status=form)
    try:
        service.set_status(db.session, entry, form.status.data, actor=current_user)
    except service.TransitionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("feedback.item", item_id=item_id))
    db.session.commit()
    flash(_("Status changed."), "success")
    return redirect(url_for("feedback.item", item_id=item_id))


@bp.post("/feedback/<item_id>/classify")
@requires(Permission.FEEDBACK_WRITE)
def item_classify(item_id: str) -> Response | tuple[str, int]:
    entry = _officer_item(item_id)
    form = ClassifyForm()
    if not form.validate_on_submit():
        return _render_item(entry, classify=form)
    try:
        service.classify(db.session, entry, category=category_of(form.subtopic.data), subtopic=form.subtopic.data,
                         instrument=form.instrument.data, sectors=form.sectors.data or [],
                         tier=int(form.tier.data) if form.tier.data else None, region=form.region.data or None,
                         size_class=form.size_class.data or None, actor=current_user)
    except service.FeedbackInvalid as exc:
        db.session.rollback()
        _apply_form_errors(form, exc.errors)
        return _render_item(entry, classify=form)
    db.session.commit()
    flash(_("Classification saved."), "success")
    return redirect(url_for("feedback.item", item_id=item_id))


@bp.post("/feedback/<item_id>/answer")
@requires(Permission.FEEDBACK_WRITE)
def item_answer(item_id: str) -> Response | tuple[str, int]:
    entry = _officer_item(item_id)
    if not readable(current_user, entry):
        abort(404)  # answering means reading: the clearance rule applies to the text
    form = AnswerForm()
    if not form.validate_on_submit():
        return _render_item(entry, answer=form)
    try:
        service.answer(db.session, entry, form.answer.data, actor=current_user,
                       base_url=current_app.config.get("TAIWA_BASE_URL", ""))
    except service.FeedbackInvalid as exc:
        db.session.rollback()
        _apply_form_errors(form, exc.errors)
        return _render_item(entry, answer=form)
    db.session.commit()
    flash(_("Answer sent. The sender sees it in the portal."), "success")
    return redirect(url_for("feedback.item", item_id=item_id))


@bp.post("/feedback/<item_id>/measures")
@requires(Permission.FEEDBACK_WRITE)
def item_measures(item_id: str) -> Response | tuple[str, int]:
    entry = _officer_item(item_id)
    form = MeasuresForm()
    form.measures.choices = [(m.id, m.title(_locale())) for m in service.measures(db.session)]
    if not form.validate_on_submit():
        return _render_item(entry, measures=form)
    try:
        service.set_measures(db.session, entry, form.measures.data or [], actor=current_user)
    except service.FeedbackInvalid as exc:
        db.session.rollback()
        _apply_form_errors(form, exc.errors)
        return _render_item(entry, measures=form)  # 400: a form was given
    db.session.commit()
    flash(_("Linked measures saved."), "success")
    return redirect(url_for("feedback.item", item_id=item_id))


@bp.route("/feedback/measures", methods=["GET"])
@requires(Permission.FEEDBACK_READ)
def measures() -> str:
    return _render_measures(MeasureForm())


def _render_measures(form: MeasureForm, status: int = 200) -> tuple[str, int]:
    from sqlalchemy import func, select

    from dialogue.feedback.models import feedback_measure

    counts = dict(db.session.execute(
        select(feedback_measure.c.measure_id, func.count()).group_by(feedback_measure.c.measure_id)).all())
    return render_template("feedback/measures.html", measures=service.measures(db.session), counts=counts,
                           form=form, **_vocab()), status


@bp.post("/feedback/measures")
@requires(Permission.FEEDBACK_WRITE)
def measure_create() -> Response | tuple[str, int]:
    form = MeasureForm()
    if not form.validate_on_submit():
        return _render_measures(form, 400)
    from datetime import datetime

    try:
        service.create_measure(
            db.session, title_ja=form.title_ja.data, title_en=form.title_en.data, category=form.category.data,
            instrument=form.instrument.data, description=form.description.data or "",
            announced_on=datetime.combine(form.announced_on.data, datetime.min.time()) if form.announced_on.data else None,
            actor=current_user)
    except service.FeedbackInvalid as exc:
        db.session.rollback()
        _apply_form_errors(form, exc.errors)
        return _render_measures(form, 400)
    db.session.commit()
    flash(_("Measure added."), "success")
    return redirect(url_for("feedback.measures"))


def _officer_item(item_id: str) -> FeedbackItem:
    entry = db.session.get(FeedbackItem, item_id[:36])
    if entry is None:
        abort(404)
    return entry


def _with_compartments(ids: list[str]) -> set[str]:
    """Level-0 items that still carry compartments (they are not public either)."""
    from sqlalchemy import select

    from clearance.labels import LabelCompartment

    if not ids:
        return set()
    return set(db.session.execute(select(LabelCompartment.owner_id).where(
        LabelCompartment.owner_table == "feedback_item", LabelCompartment.owner_id.in_(ids))).scalars())


def _company_names(ids) -> dict[str, Company]:
    from sqlalchemy import select

    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {c.id: c for c in db.session.execute(select(Company).where(Company.id.in_(wanted))).scalars()}


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale())


# ---- company portal ------------------------------------------------------------------------------------------


@bp.get("/portal/feedback")
@requires(Permission.FEEDBACK_SUBMIT)
def portal_list() -> str:
    entries = service.company_items(db.session, current_user.company_id)
    return render_template("feedback/portal_list.html", items=entries, **_vocab())


@bp.route("/portal/feedback/new", methods=["GET", "POST"])
@requires(Permission.FEEDBACK_SUBMIT)
def portal_new() -> Response | tuple[str, int] | str:
    form = PortalFeedbackForm()
    if request.method == "POST":
        if form.validate_on_submit():
            sub = SUBTOPICS[form.subtopic.data]
            try:
                entry = service.submit_from_portal(
                    db.session, current_user, text=form.text.data, kind=form.kind.data, category=sub.category,
                    subtopic=sub.code, instrument=form.instrument.data or sub.instrument, sectors=form.sectors.data or [])
            except service.FeedbackInvalid as exc:
                db.session.rollback()
                _apply_form_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(_("Thank you. Your feedback %(ref)s has reached the ministry.", ref=entry.ref), "success")
                return redirect(url_for("feedback.portal_item", item_id=entry.id))
        return render_template("feedback/portal_new.html", form=form, **_vocab()), 400
    return render_template("feedback/portal_new.html", form=form, **_vocab())


@bp.get("/portal/feedback/<item_id>")
@requires(Permission.FEEDBACK_SUBMIT)
def portal_item(item_id: str) -> str:
    entry = service.company_item(db.session, current_user.company_id, item_id[:36])
    if entry is None:
        abort(404)
    return render_template("feedback/portal_item.html", item=entry, **_vocab())
