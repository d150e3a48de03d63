"""Minutes pages: officers write, compare, review and lock; participants read and ask for corrections.

Each handler loads the objects named in the URL (404 when absent or out of
scope) and acts through dialogue.minutes.service. What a handler shows of a
minutes document comes from one place only: a ReaderCopy built by
dialogue.minutes.reader.reader_view (the stored document never reaches a view;
tests/minutes/test_reader_gate.py checks that by construction).
"""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace

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
from dialogue.minutes.document import Document, DocumentInvalid, from_dict
from dialogue.minutes.messages import message
from dialogue.minutes.models import STATUS_LABELS, STATUSES, Minutes
from dialogue.minutes.reader import (
    ReaderCopy,
    ReaderDocument,
    correction_readable,
    lines,
    own_copy,
    reader_view,
    withheld_text,
)

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


def _vocab() -> dict[str, object]:
    return {"statuses": STATUS_LABELS, "status_order": STATUSES, "levels": LEVEL_LABELS, "subtopics": SUBTOPICS,
            "categories": CATEGORIES, "instruments": INSTRUMENTS, "kinds": KINDS, "subtopics_of": subtopics_of,
            "when": _when, "label_of": lambda level, comps=(): Label.of(level, comps), "withheld_text": withheld_text}


def _refuse(exc: service.MinutesError, to: str) -> Response:
    db.session.rollback()
    flash(message(exc.code, exc.values), "error")
    return redirect(to)


def _reading(minutes: Minutes, route: str | None, number: int | None = None) -> ReaderCopy:
    """The signed-in user's copy of the minutes (the one gate), audited under `route`."""
    try:
        copy = reader_view(db.session, current_user, minutes, number=number, route=route)
    except service.MinutesError:
        abort(404)
    if route is not None:
        db.session.commit()
    return copy


# ---------------------------------------------------------------------------
# officers: list, start, view
# ---------------------------------------------------------------------------


@bp.get("/minutes")
@requires(Permission.MINUTES_READ)
def index() -> str:
    from dialogue.meetings.service import counterpart_names, readable_dialogues

    status = request.args.get("status", "")
    # Only dialogues the officer may read: of the others the list shows nothing (issue 11).
    q = select(Dialogue).outerjoin(Minutes, Minutes.dialogue_id == Dialogue.id).where(
        Dialogue.status.in_(("held", "closed")), readable_dialogues(db.session, current_user.id, utcnow()))
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
    copy = _reading(minutes, "page")
    dialogue = _dialogue(minutes)
    corrections = service.corrections(db.session, minutes)
    return render_template(
        "minutes/view.html", m=minutes, d=dialogue, counterpart=_counterpart(dialogue), copy=copy,
        label=copy.label, shown_label=copy.label, corrections=corrections,
        correction_readable=lambda c: correction_readable(c, copy),
        approve_form=forms.ApproveInternalForm(), return_form=forms.ReturnForm(), addendum_form=_addendum_form(),
        resolve_form=forms.ResolveForm(), now=utcnow(), **_vocab())




def _addendum_form() -> forms.AddendumForm:
    form = forms.AddendumForm()
    form.level.choices = [(int(k), v) for k, v in LEVEL_LABELS.items()]
    return form


# ---------------------------------------------------------------------------
# officers: edit (HTML) and the JSON API
# ---------------------------------------------------------------------------


def _editor_context(minutes: Minutes, copy: ReaderCopy, shown: Document, base: int, *, errors=(),
                    conflict=None) -> dict:
    """The editor shows `shown` (the reader's copy, or what they just sent back) and says how many
    parts are withheld from them — nothing else of those parts."""
    from clearance import policy
    from dialogue.briefings.models import LABELLED as BRIEFING
    from dialogue.briefings.models import Briefing
    from dialogue.registry.models import Company

    # Titles are sealed at each briefing's level: the readable ones offered for citing are opened here.
    briefings = [SimpleNamespace(id=r.id, title=Briefing.title.open_column(r.title_ct, r.id, r.level) or "",
                                 level=r.level)
                 for r in db.session.execute(
                     select(Briefing.id, Briefing.title_ct, Briefing.level)
                     .where(policy.readable(db.session, current_user, utcnow(), BRIEFING))
                     .order_by(Briefing.sort_at.desc()).limit(300)).all()]
    companies = sorted({a.company_id for a in copy.doc.attendees if a.company_id})
    names = {c.id: (c.name_ja if _locale() == "ja" else c.name_en) for c in db.session.execute(
        select(Company).where(Company.id.in_(companies))).scalars()} if companies else {}
    form = forms.EditorForm(formdata=None, base_revision=base)  # never the posted (stale) base
    doc = service.blank_rows(shown if isinstance(shown, ReaderDocument) else own_copy(shown).doc)
    decisions = doc.decisions()
    return {
        "m": minutes, "d": _dialogue(minutes), "doc": doc, "form": form, "withheld": copy.withheld,
        "errors": list(errors), "conflict": conflict, "briefings": briefings, "companies": names,
        "default_section": decisions.key if decisions else (doc.sections[0].key if doc.sections else ""),
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
    copy = _reading(minutes, "edit")
    return render_template("minutes/edit.html", **_editor_context(minutes, copy, copy.doc, copy.revision.number))


@bp.post("/minutes/<minutes_id>/edit")
@requires(Permission.MINUTES_WRITE)
def save(minutes_id: str) -> str | Response | tuple[str, int]:
    minutes = _officer_minutes(minutes_id)
    form = forms.EditorForm()
    if not form.validate_on_submit():
        abort(400)
    copy = _reading(minutes, None)  # rows are matched against what this reader could see, nothing else
    document = copy.doc
    try:
        document = forms.parse_editor(request.form, copy.doc)
        service.save(db.session, minutes, base=form.base_revision.data, document=document, actor=current_user,
                     note=(request.form.get("note") or "")[:300])
    except service.StaleRevision as exc:
        db.session.rollback()
        return _conflict_page(minutes, exc), 409
    except DocumentInvalid as exc:
        db.session.rollback()
        return render_template("minutes/edit.html", **_editor_context(
            minutes, copy, document, form.base_revision.data, errors=exc.errors)), 400
    except service.MinutesError as exc:
        return _refuse(exc, url_for("minutes.view", minutes_id=minutes.id))
    db.session.commit()
    flash(_("Saved as revision %(n)d.", n=minutes.current_revision), "success")
    if request.form.get("continue"):
        return redirect(url_for("minutes.edit", minutes_id=minutes.id))
    return redirect(url_for("minutes.view", minutes_id=minutes.id))


def _conflict_page(minutes: Minutes, exc: service.StaleRevision) -> str:
    current = _reading(minutes, "conflict")
    rows = service.compare(lines(current), lines(own_copy(exc.yours)), context=3)
    ctx = _editor_context(minutes, current, exc.yours, exc.current,
                          conflict={"rows": rows, "base": exc.base, "current": exc.current})
    return render_template("minutes/edit.html", **ctx)


@bp.get("/api/minutes/<minutes_id>")
@requires(Permission.MINUTES_READ)
def api_get(minutes_id: str) -> Response:
    minutes = _officer_minutes(minutes_id)
    copy = _reading(minutes, "api")
    return _json({"id": minutes.id, "status": minutes.status, "revision": copy.revision.number,
                  "document": copy.to_dict(), "withheld": copy.withheld})


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
        current = _reading(minutes, "api-conflict")
        return _json({"error": 409, "message": _("Someone saved a newer revision. Merge your changes into it."),
                      "base_revision": exc.base, "current_revision": exc.current, "current": current.to_dict(),
                      "withheld": current.withheld, "yours": exc.yours.to_dict()}, 409)
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
    return render_template("minutes/revisions.html", m=minutes, d=_dialogue(minutes),
                           revisions=_revision_rows(minutes), form=forms.RestoreForm(), **_vocab())


def _revision_rows(minutes: Minutes) -> list[dict]:
    """The revision list as plain rows: numbers, authors, dates, and a note only for a reader who may read
    it (a revision object would carry its sealed content to the template)."""
    found = service.revisions(db.session, minutes)
    readable = access.readable_revision_notes(db.session, current_user, minutes, found)
    # a revision's level says what kind of material it held: shown like its note, to those who may read at it
    return [{"number": r.number, "created_at": r.created_at, "author_name": r.author_name,
             "level": r.level if r.number in readable else None,
             "restored_from": r.restored_from, "note": r.note if r.number in readable else None,
             "note_withheld": r.number not in readable and r.note_ct is not None} for r in found]


@bp.get("/minutes/<minutes_id>/compare")
@requires(Permission.MINUTES_READ)
def compare(minutes_id: str) -> str:
    minutes = _officer_minutes(minutes_id)
    latest = minutes.current_revision
    a, b = bounds.revision_number("a", max(1, latest - 1), latest), bounds.revision_number("b", latest, latest)
    ca, cb = _reading(minutes, "compare", a), _reading(minutes, "compare", b)
    rows = service.compare(lines(ca), lines(cb), context=None if request.args.get("full") else 3)
    return render_template("minutes/compare.html", m=minutes, d=_dialogue(minutes), ra=ca.revision,
                           rb=cb.revision, rows=rows, **_vocab())


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
    from dialogue.meetings.service import readable_dialogues

    rows = db.session.execute(
        select(Minutes, Dialogue).join(Dialogue, Dialogue.id == Minutes.dialogue_id)
        .where(access.participant_filter(current_user), readable_dialogues(db.session, current_user.id, utcnow()))
        .order_by(Dialogue.starts_at.desc())
    ).all()
    return render_template("minutes/portal_index.html", rows=rows, now=utcnow(), **_vocab())


@bp.get("/portal/minutes/<minutes_id>")
@requires(Permission.PORTAL_MINUTES)
def portal_view(minutes_id: str) -> str:
    minutes = _participant_minutes(minutes_id, "portal")
    copy = _reading(minutes, "portal")
    dialogue = _dialogue(minutes)
    form = forms.CorrectionForm()
    form.section.choices = [("", _("The minutes as a whole"))] + [(s.key, s.title) for s in copy.doc.sections]
    mine = service.corrections(db.session, minutes, company_id=current_user.company_id)
    return render_template(
        "minutes/portal_view.html", m=minutes, d=dialogue, counterpart=_counterpart(dialogue), copy=copy,
        shown_label=copy.label, form=form, corrections=mine,
        correction_readable=lambda c: correction_readable(c, copy), now=utcnow(),
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
