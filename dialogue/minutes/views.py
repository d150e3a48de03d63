"""Minutes pages: officers write, compare, review and lock; participants read and ask for corrections.

Each handler loads the objects named in the URL (404 when absent or out of
scope), asks dialogue.minutes.access which sections the reader may see, then
acts through dialogue.minutes.service.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from clearance import bounds
from clearance.db import db, utcnow
from clearance.labels import LEVEL_LABELS, Compartment, Label
from clearance.permissions import Permission, requires
from dialogue.feedback.taxonomy import CATEGORIES, INSTRUMENTS, KINDS, SUBTOPICS, subtopics_of
from dialogue.meetings import times
from dialogue.meetings.models import Dialogue
from dialogue.minutes import access, forms, service
from dialogue.minutes.document import Document, DocumentInvalid, from_dict, lines
from dialogue.minutes.messages import message
from dialogue.minutes.models import STATUS_LABELS, STATUSES, Minutes
from dialogue.minutes.render import TooLarge, to_html

bp = Blueprint("minutes", __name__)

MAX_JSON = 1_000_000


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _locale() -> str:
    return str(get_locale())


def _dialogue(minutes: Minutes) -> Dialogue:
    return db.session.get(Dialogue, minutes.dialogue_id)


def _when(utc_naive: datetime | None, tz: str = "Asia/Tokyo") -> str:
    if utc_naive is None:
        return ""
    aware = times.to_local(utc_naive, tz)
    return f"{times.fmt(aware, _locale())} ({times.offset_label(aware)})"


def _counterpart(dialogue: Dialogue) -> str:
    from dialogue.meetings.service import counterpart_of

    c = counterpart_of(db.session, dialogue)
    if c is None:
        return ""
    return c.name_ja if _locale() == "ja" else c.name_en


def _officer_minutes(minutes_id: str) -> Minutes:
    minutes = db.session.get(Minutes, minutes_id[:36])
    if minutes is None:
        abort(404)
    return minutes


def _html_sections(doc: Document, keys: set[str]) -> dict[str, object]:
    out = {}
    for s in doc.sections:
        if s.key in keys:
            try:
                out[s.key] = to_html(s.body)
            except TooLarge:  # stored before a lower limit: show it escaped rather than fail
                out[s.key] = s.body
    return out


def _vocab() -> dict[str, object]:
    return {"statuses": STATUS_LABELS, "status_order": STATUSES, "levels": LEVEL_LABELS, "subtopics": SUBTOPICS,
            "categories": CATEGORIES, "instruments": INSTRUMENTS, "kinds": KINDS, "subtopics_of": subtopics_of,
            "when": _when, "label_of": lambda level, comps=(): Label.of(level, comps)}


def _refuse(exc: service.MinutesError, to: str) -> Response:
    db.session.rollback()
    flash(message(exc.code, exc.values), "error")
    return redirect(to)


def _reading(minutes: Minutes, route: str):
    """The current document and what the signed-in user may read of it (audited)."""
    doc, rev = service.current(db.session, minutes)
    outcome = access.decide_sections(db.session, current_user, minutes, doc)
    access.record_reading(db.session, current_user, minutes, doc, outcome, route)
    db.session.commit()
    return doc, rev, outcome


# ---------------------------------------------------------------------------
# officers: list, start, view
# ---------------------------------------------------------------------------


@bp.get("/minutes")
@requires(Permission.MINUTES_READ)
def index() -> str:
    from dialogue.meetings.service import counterpart_names

    status = request.args.get("status", "")
    q = select(Dialogue).outerjoin(Minutes, Minutes.dialogue_id == Dialogue.id).where(
        Dialogue.status.in_(("held", "closed")))
    if status == "none":
        q = q.where(Minutes.id.is_(None))
    elif status in STATUSES:
        q = q.where(Minutes.status == status)
    page = db.paginate(q.order_by(Dialogue.starts_at.desc(), Dialogue.id),
                       page=bounds.page_number(), per_page=30, max_per_page=30,
                       error_out=False)
    ids = [d.id for d in page.items]
    (a, g, c), ja, en = counterpart_names()
    names = {row[0]: (row[1], row[2]) for row in db.session.execute(
        select(Dialogue.id, ja, en).outerjoin(a, a.id == Dialogue.association_id)
        .outerjoin(g, g.id == Dialogue.group_id).outerjoin(c, c.id == Dialogue.company_id)
        .where(Dialogue.id.in_(ids)))} if ids else {}
    minutes = {m.dialogue_id: m for m in db.session.execute(
        select(Minutes).where(Minutes.dialogue_id.in_(ids))).scalars()} if ids else {}
    rows = [(d, minutes.get(d.id), *names.get(d.id, ("", ""))) for d in page.items]
    return render_template("minutes/index.html", page=page, rows=rows, status=status, **_vocab())


@bp.post("/minutes/start/<dialogue_id>")
@requires(Permission.MINUTES_WRITE)
def start(dialogue_id: str) -> Response:
    dialogue = db.session.get(Dialogue, dialogue_id[:36])
    if dialogue is None:
        abort(404)
    try:
        minutes = service.create(db.session, dialogue, actor=current_user)
    except service.MinutesError as exc:
        return _refuse(exc, url_for("minutes.index"))
    db.session.commit()
    flash(_("Minutes started from the dialogue's replies and agenda."), "success")
    return redirect(url_for("minutes.edit", minutes_id=minutes.id))


@bp.get("/minutes/<minutes_id>")
@requires(Permission.MINUTES_READ)
def view(minutes_id: str) -> str:
    minutes = _officer_minutes(minutes_id)
    doc, rev, outcome = _reading(minutes, "page")
    dialogue = _dialogue(minutes)
    shown_addenda, withheld_addenda = access.readable_addenda(db.session, current_user, service.addenda(db.session, minutes))
    corrections = service.corrections(db.session, minutes)
    return render_template(
        "minutes/view.html", m=minutes, d=dialogue, counterpart=_counterpart(dialogue), doc=doc, rev=rev,
        outcome=outcome, html=_html_sections(doc, outcome.readable), label=service.label_of(db.session, minutes),
        shown_label=outcome.label(doc), addenda=shown_addenda, withheld_addenda=withheld_addenda,
        addendum_label=lambda a: service.addendum_label(db.session, a), addendum_html=lambda a: to_html(a.body, 20_000),
        corrections=corrections, correction_readable=lambda c: _correction_readable(c, outcome, doc),
        approve_form=forms.ApproveInternalForm(), return_form=forms.ReturnForm(), addendum_form=_addendum_form(),
        resolve_form=forms.ResolveForm(), now=utcnow(), **_vocab())


def _correction_readable(c, outcome, doc) -> bool:
    if c.section_key:
        return c.section_key in outcome.readable
    return c.level == 0 or all(s.key in outcome.readable for s in doc.sections)


def _addendum_form() -> forms.AddendumForm:
    form = forms.AddendumForm()
    form.level.choices = [(int(k), v) for k, v in LEVEL_LABELS.items()]
    return form


# ---------------------------------------------------------------------------
# officers: edit (HTML) and the JSON API
# ---------------------------------------------------------------------------


def _editor_context(minutes: Minutes, doc: Document, base: int, *, errors=(), conflict=None) -> dict:
    from clearance import policy
    from dialogue.briefings.models import LABELLED as BRIEFING
    from dialogue.briefings.models import Briefing
    from dialogue.registry.models import Company

    stored, _rev = service.current(db.session, minutes)
    readable = access.readable_section_keys(db.session, current_user, minutes, stored)
    hidden = {s.key for s in stored.sections} - readable
    briefings = db.session.execute(
        select(Briefing.id, Briefing.title, Briefing.level)
        .where(policy.readable(db.session, current_user, utcnow(), BRIEFING))
        .order_by(Briefing.sort_at.desc()).limit(300)).all()
    companies = sorted({a.company_id for a in stored.attendees if a.company_id})
    names = {c.id: (c.name_ja if _locale() == "ja" else c.name_en) for c in db.session.execute(
        select(Company).where(Company.id.in_(companies))).scalars()} if companies else {}
    form = forms.EditorForm(formdata=None, base_revision=base)  # never the posted (stale) base
    return {
        "m": minutes, "d": _dialogue(minutes), "doc": service.blank_rows(doc), "form": form, "hidden": hidden,
        "errors": list(errors), "conflict": conflict, "briefings": briefings, "companies": names,
        "compartments": db.session.execute(select(Compartment).order_by(Compartment.code)).scalars().all(),
        **_vocab(),
    }


@bp.get("/minutes/<minutes_id>/edit")
@requires(Permission.MINUTES_WRITE)
def edit(minutes_id: str) -> str | Response:
    minutes = _officer_minutes(minutes_id)
    if minutes.status not in ("draft", "participant_review"):
        flash(message("not_editable"), "error")
        return redirect(url_for("minutes.view", minutes_id=minutes.id))
    doc, rev, _outcome = _reading(minutes, "edit")
    return render_template("minutes/edit.html", **_editor_context(minutes, doc, rev.number))


@bp.post("/minutes/<minutes_id>/edit")
@requires(Permission.MINUTES_WRITE)
def save(minutes_id: str) -> str | Response | tuple[str, int]:
    minutes = _officer_minutes(minutes_id)
    form = forms.EditorForm()
    if not form.validate_on_submit():
        abort(400)
    stored, _rev = service.current(db.session, minutes)
    document = stored
    try:
        document = forms.parse_editor(request.form, stored)
        service.save(db.session, minutes, base=form.base_revision.data, document=document, actor=current_user,
                     note=(request.form.get("note") or "")[:300])
    except service.StaleRevision as exc:
        db.session.rollback()
        return _conflict_page(minutes, exc), 409
    except DocumentInvalid as exc:
        db.session.rollback()
        return render_template("minutes/edit.html", **_editor_context(
            minutes, document, form.base_revision.data, errors=exc.errors)), 400
    except service.MinutesError as exc:
        return _refuse(exc, url_for("minutes.view", minutes_id=minutes.id))
    db.session.commit()
    flash(_("Saved as revision %(n)d.", n=minutes.current_revision), "success")
    if request.form.get("continue"):
        return redirect(url_for("minutes.edit", minutes_id=minutes.id))
    return redirect(url_for("minutes.view", minutes_id=minutes.id))


def _visible_lines(doc: Document, readable: set[str]) -> list[str]:
    return lines(doc, readable, hidden_text=_("(a section you are not cleared to read)"))


def _conflict_page(minutes: Minutes, exc: service.StaleRevision) -> str:
    readable = access.readable_section_keys(db.session, current_user, minutes, exc.current_doc)
    rows = service.compare(_visible_lines(exc.current_doc, readable), _visible_lines(exc.yours, readable
                                                                                       | {s.key for s in exc.yours.sections}),
                           context=3)
    ctx = _editor_context(minutes, exc.yours, exc.current, conflict={"rows": rows, "base": exc.base,
                                                                     "current": exc.current})
    return render_template("minutes/edit.html", **ctx)


@bp.get("/api/minutes/<minutes_id>")
@requires(Permission.MINUTES_READ)
def api_get(minutes_id: str) -> Response:
    minutes = _officer_minutes(minutes_id)
    doc, rev, outcome = _reading(minutes, "api")
    visible = doc.to_dict()
    visible["sections"] = [s for s in visible["sections"] if s["key"] in outcome.readable]
    return _json({"id": minutes.id, "status": minutes.status, "revision": rev.number, "document": visible,
                  "withheld_sections": len(outcome.denied)})


@bp.post("/api/minutes/<minutes_id>/revisions")
@requires(Permission.MINUTES_WRITE)
def api_save(minutes_id: str) -> Response:
    """Save a revision: {"base_revision": n, "document": {...}} → 201, or 409 with both versions to merge."""
    minutes = _officer_minutes(minutes_id)
    if request.content_length is not None and request.content_length > MAX_JSON:
        return _json({"error": 413, "message": _("What you sent is too large.")}, 413)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("base_revision"), int) \
            or isinstance(payload.get("base_revision"), bool):
        return _json({"error": 400, "message": _("Send JSON with base_revision and document.")}, 400)
    try:
        document = from_dict(payload.get("document"))
        rev = service.save(db.session, minutes, base=payload["base_revision"], document=document, actor=current_user,
                           note=str(payload.get("note") or "")[:300])
    except service.StaleRevision as exc:
        db.session.rollback()
        readable = access.readable_section_keys(db.session, current_user, minutes, exc.current_doc)
        current_doc = exc.current_doc.to_dict()
        current_doc["sections"] = [s for s in current_doc["sections"] if s["key"] in readable]
        return _json({"error": 409, "message": _("Someone saved a newer revision. Merge your changes into it."),
                      "base_revision": exc.base, "current_revision": exc.current, "current": current_doc,
                      "yours": exc.yours.to_dict()}, 409)
    except DocumentInvalid as exc:
        db.session.rollback()
        return _json({"error": 400, "message": _("The document was not saved."),
                      "errors": [{"where": w, "message": m} for w, m in exc.errors]}, 400)
    except service.MinutesError as exc:
        db.session.rollback()
        return _json({"error": 409 if exc.code == "not_editable" else 400, "code": exc.code,
                      "message": message(exc.code, exc.values)}, 409 if exc.code == "not_editable" else 400)
    db.session.commit()
    return _json({"id": minutes.id, "revision": rev.number, "status": minutes.status}, 201)


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


# ---------------------------------------------------------------------------
# officers: revisions, compare, restore
# ---------------------------------------------------------------------------


@bp.get("/minutes/<minutes_id>/revisions")
@requires(Permission.MINUTES_READ)
def revisions(minutes_id: str) -> str:
    minutes = _officer_minutes(minutes_id)
    found = service.revisions(db.session, minutes)
    return render_template("minutes/revisions.html", m=minutes, d=_dialogue(minutes), revisions=found,
                           readable_notes=access.readable_revision_notes(db.session, current_user, minutes, found),
                           form=forms.RestoreForm(), **_vocab())


@bp.get("/minutes/<minutes_id>/compare")
@requires(Permission.MINUTES_READ)
def compare(minutes_id: str) -> str:
    minutes = _officer_minutes(minutes_id)
    latest = minutes.current_revision
    a, b = bounds.revision_number("a", max(1, latest - 1), latest), bounds.revision_number("b", latest, latest)
    ra, rb = service.revision(db.session, minutes, a), service.revision(db.session, minutes, b)
    if ra is None or rb is None:
        abort(404)
    da, db_ = service.document_of(ra), service.document_of(rb)
    ka = access.decide_sections(db.session, current_user, minutes, da)
    kb = access.decide_sections(db.session, current_user, minutes, db_)
    access.record_reading(db.session, current_user, minutes, db_, kb, "compare")
    db.session.commit()
    rows = service.compare(_visible_lines(da, ka.readable), _visible_lines(db_, kb.readable),
                           context=None if request.args.get("full") else 3)
    return render_template("minutes/compare.html", m=minutes, d=_dialogue(minutes), ra=ra, rb=rb, rows=rows,
                           revisions=service.revisions(db.session, minutes), **_vocab())


@bp.post("/minutes/<minutes_id>/restore/<int:number>")
@requires(Permission.MINUTES_WRITE)
def restore(minutes_id: str, number: int) -> Response | tuple[str, int]:
    minutes = _officer_minutes(minutes_id)
    form = forms.RestoreForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        rev = service.restore(db.session, minutes, number, base=form.base_revision.data, actor=current_user)
    except service.StaleRevision as exc:
        db.session.rollback()
        return _conflict_page(minutes, exc), 409
    except DocumentInvalid as exc:
        db.session.rollback()
        flash("; ".join(m for _w, m in exc.errors[:3]), "error")
        return redirect(url_for("minutes.revisions", minutes_id=minutes.id))
    except service.MinutesError as exc:
        return _refuse(exc, url_for("minutes.revisions", minutes_id=minutes.id))
    db.session.commit()
    flash(_("Revision %(old)d restored as revision %(new)d.", old=number, new=rev.number), "success")
    return redirect(url_for("minutes.view", minutes_id=minutes.id))


# ---------------------------------------------------------------------------
# officers: lifecycle
# ---------------------------------------------------------------------------


def _lifecycle(minutes_id: str, action) -> Response:
    minutes = _officer_minutes(minutes_id)
    back = url_for("minutes.view", minutes_id=minutes.id)
    try:
        done = action(minutes)
    except service.MinutesError as exc:
        return _refuse(exc, back)
    if done is False:
        return redirect(back)
    db.session.commit()
    return redirect(back)


def _empty_form_ok() -> bool:
    from clearance.auth.forms import EmptyForm

    return EmptyForm().validate_on_submit()


@bp.post("/minutes/<minutes_id>/submit")
@requires(Permission.MINUTES_WRITE)
def submit(minutes_id: str) -> Response:
    def act(m):
        if not _empty_form_ok():
            abort(400)
        service.submit_for_review(db.session, m, actor=current_user)
        flash(_("Sent to internal review. A second officer must approve it."), "success")
    return _lifecycle(minutes_id, act)


@bp.post("/minutes/<minutes_id>/approve-internal")
@requires(Permission.MINUTES_WRITE)
def approve_internal(minutes_id: str) -> Response:
    def act(m):
        form = forms.ApproveInternalForm()
        if not form.validate_on_submit():
            flash(_("Choose a deadline."), "error")
            return False
        dialogue = _dialogue(m)
        try:
            deadline = times.to_utc(form.deadline.data, dialogue.time_zone)
        except times.NonexistentLocalTime:
            flash(_("That time does not exist in the dialogue's time zone."), "error")
            return False
        n = service.approve_internal(db.session, m, actor=current_user, deadline=deadline,
                                     base_url=current_app.config.get("TAIWA_BASE_URL", ""))
        flash(_("Approved. %(n)d participant(s) were asked to review the draft.", n=n), "success")
        return None
    return _lifecycle(minutes_id, act)


@bp.post("/minutes/<minutes_id>/return")
@requires(Permission.MINUTES_WRITE)
def return_to_draft(minutes_id: str) -> Response:
    def act(m):
        form = forms.ReturnForm()
        if not form.validate_on_submit():
            flash(_("Say why the minutes go back to draft."), "error")
            return False
        service.return_to_draft(db.session, m, actor=current_user, note=form.note.data)
        flash(_("Returned to draft."), "success")
        return None
    return _lifecycle(minutes_id, act)


@bp.post("/minutes/<minutes_id>/approve")
@requires(Permission.MINUTES_WRITE)
def approve(minutes_id: str) -> Response:
    def act(m):
        if not _empty_form_ok():
            abort(400)
        service.approve(db.session, m, actor=current_user, base_url=current_app.config.get("TAIWA_BASE_URL", ""))
        flash(_("The minutes are approved. Participants were told."), "success")
    return _lifecycle(minutes_id, act)


@bp.post("/minutes/<minutes_id>/lock")
@requires(Permission.MINUTES_WRITE)
def lock(minutes_id: str) -> Response:
    def act(m):
        if not _empty_form_ok():
            abort(400)
        service.lock(db.session, m, actor=current_user)
        flash(_("Locked. From now on only dated addenda can be added."), "success")
    return _lifecycle(minutes_id, act)


@bp.post("/minutes/<minutes_id>/addenda")
@requires(Permission.MINUTES_WRITE)
def add_addendum(minutes_id: str) -> Response:
    def act(m):
        form = _addendum_form()
        if not form.validate_on_submit():
            flash(_("Write the addendum and choose its classification."), "error")
            return False
        service.add_addendum(db.session, m, actor=current_user, body=form.body.data, level=form.level.data,
                             public=form.public.data)
        flash(_("Addendum added."), "success")
        return None
    return _lifecycle(minutes_id, act)


@bp.post("/minutes/<minutes_id>/corrections/<correction_id>")
@requires(Permission.MINUTES_WRITE)
def resolve(minutes_id: str, correction_id: str) -> Response:
    def act(m):
        form = forms.ResolveForm()
        if not form.validate_on_submit():
            flash(_("Choose accepted or declined."), "error")
            return False
        service.resolve_correction(db.session, m, correction_id, actor=current_user,
                                   accept=form.decision.data == "accept", response=form.response.data or "",
                                   base_url=current_app.config.get("TAIWA_BASE_URL", ""))
        flash(_("Correction request answered."), "success")
        return None
    return _lifecycle(minutes_id, act)


# ---------------------------------------------------------------------------
# public summary and PDFs (officers)
# ---------------------------------------------------------------------------


@bp.get("/minutes/<minutes_id>/summary")
@requires(Permission.MINUTES_READ)
def summary(minutes_id: str) -> str:
    from dialogue.minutes import summary as summary_mod

    minutes = _officer_minutes(minutes_id)
    s = summary_mod.build(db.session, minutes, _locale())
    return render_template("minutes/summary.html", m=minutes, s=s, **_vocab())


@bp.get("/minutes/<minutes_id>/pdf")
@requires(Permission.MINUTES_READ)
def pdf(minutes_id: str) -> Response:
    from dialogue.reports import minutes_pdf

    minutes = _officer_minutes(minutes_id)
    data, name = minutes_pdf.full(db.session, minutes, current_user, _locale(), route="pdf")
    db.session.commit()
    return _pdf_response(data, name)


@bp.get("/minutes/<minutes_id>/summary.pdf")
@requires(Permission.MINUTES_READ)
def summary_pdf(minutes_id: str) -> Response:
    from dialogue.reports import minutes_pdf

    minutes = _officer_minutes(minutes_id)
    data, name = minutes_pdf.summary(db.session, minutes, _locale())
    return _pdf_response(data, name)


def _pdf_response(data: bytes, name: str) -> Response:
    from urllib.parse import quote

    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f"attachment; filename=\"minutes.pdf\"; filename*=UTF-8''{quote(name)}"
    return resp


# ---------------------------------------------------------------------------
# participants (company portal)
# ---------------------------------------------------------------------------


def _participant_minutes(minutes_id: str, route: str) -> Minutes:
    minutes = access.load_for_participant(db.session, current_user, minutes_id)
    if minutes is None:
        access.record_not_found(db.session, current_user, minutes_id, route)
        db.session.commit()
        abort(404)
    return minutes


@bp.get("/portal/minutes")
@requires(Permission.PORTAL_MINUTES)
def portal_index() -> str:
    rows = db.session.execute(
        select(Minutes, Dialogue).join(Dialogue, Dialogue.id == Minutes.dialogue_id)
        .where(access.participant_filter(current_user)).order_by(Dialogue.starts_at.desc())
    ).all()
    return render_template("minutes/portal_index.html", rows=rows, now=utcnow(), **_vocab())


@bp.get("/portal/minutes/<minutes_id>")
@requires(Permission.PORTAL_MINUTES)
def portal_view(minutes_id: str) -> str:
    minutes = _participant_minutes(minutes_id, "portal")
    doc, rev, outcome = _reading(minutes, "portal")
    dialogue = _dialogue(minutes)
    form = forms.CorrectionForm()
    form.section.choices = [("", _("The minutes as a whole"))] + [(s.key, s.title) for s in outcome.shown(doc)]
    shown_addenda, withheld_addenda = access.readable_addenda(db.session, current_user, service.addenda(db.session, minutes))
    mine = service.corrections(db.session, minutes, company_id=current_user.company_id)
    return render_template(
        "minutes/portal_view.html", m=minutes, d=dialogue, counterpart=_counterpart(dialogue), doc=doc, rev=rev,
        outcome=outcome, html=_html_sections(doc, outcome.readable), shown_label=outcome.label(doc), form=form,
        addenda=shown_addenda, withheld_addenda=withheld_addenda, addendum_html=lambda a: to_html(a.body, 20_000),
        addendum_label=lambda a: service.addendum_label(db.session, a), corrections=mine,
        correction_readable=lambda c: _correction_readable(c, outcome, doc), now=utcnow(),
        can_correct=minutes.status == "participant_review" and minutes.correction_deadline is not None
        and utcnow() <= minutes.correction_deadline, **_vocab())


@bp.post("/portal/minutes/<minutes_id>/corrections")
@requires(Permission.PORTAL_MINUTES)
def portal_correct(minutes_id: str) -> Response:
    minutes = _participant_minutes(minutes_id, "portal")
    form = forms.CorrectionForm()
    back = url_for("minutes.portal_view", minutes_id=minutes.id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
        return redirect(back)
    try:
        service.request_correction(db.session, minutes, actor=current_user, body=form.body.data,
                                   section_key=form.section.data or None)
    except service.MinutesError as exc:
        return _refuse(exc, back)
    db.session.commit()
    flash(_("Your correction request was sent to the ministry."), "success")
    return redirect(back)


@bp.get("/portal/minutes/<minutes_id>/pdf")
@requires(Permission.PORTAL_MINUTES)
def portal_pdf(minutes_id: str) -> Response:
    from dialogue.reports import minutes_pdf

    minutes = _participant_minutes(minutes_id, "portal-pdf")
    data, name = minutes_pdf.full(db.session, minutes, current_user, _locale(), route="portal-pdf")
    db.session.commit()
    return _pdf_response(data, name)


@bp.get("/portal/minutes/<minutes_id>/summary.pdf")
@requires(Permission.PORTAL_MINUTES)
def portal_summary_pdf(minutes_id: str) -> Response:
    from dialogue.reports import minutes_pdf

    minutes = _participant_minutes(minutes_id, "portal-summary")
    data, name = minutes_pdf.summary(db.session, minutes, _locale())
    return _pdf_response(data, name)
