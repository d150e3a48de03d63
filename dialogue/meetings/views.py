"""Officers' dialogue pages: list, upcoming, plan (with series and double-booking warning),
detail, edit, status changes, invitations with preview, and the .ics download."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from clearance import bounds, freshness
from clearance.db import db, utcnow
from clearance.permissions import Permission, requires
from dialogue.meetings import ics, labels, service, times
from dialogue.meetings.forms import DialogueForm, InviteFilterForm, ListFilterForm, RevokeForm, StatusForm
from dialogue.meetings.models import STATUSES, Dialogue
from dialogue.meetings.notify import MailSettings, Notifier, event_text
from dialogue.meetings.series import SeriesError, preset_rule
from dialogue.registry import corporate_number
from dialogue.registry.models import Association, Company, CompanyGroup
from dialogue.registry.taxonomy import GROUP_KINDS, REGIONS, SECTORS, SIZE_CLASSES, TIERS

bp = Blueprint("meetings", __name__, url_prefix="/dialogues")
PER_PAGE = 50


@bp.app_context_processor
def time_helpers() -> dict:
    """`when(utc, tz)` for every template: the dialogue's zone, plus the viewer's when it differs."""

    def viewer() -> str:
        if "viewer_zone" not in g:
            uid = current_user.id if current_user.is_authenticated else None
            g.viewer_zone = service.viewer_zone(db.session, uid)
        return g.viewer_zone

    def when(utc, tz):
        return times.show(utc, tz, viewer(), str(get_locale()))

    return {"when": when, "cleared": cleared, "dialogue_title": dialogue_title, "viewer_zone": viewer,
            "dialogue_labels": _LAZY_LABELS, "region_labels": REGIONS}


class _Labels:
    """The label tables with each lazy string translated once per request (a list page shows
    a hundred badges; each lazy string would otherwise look its catalog up again)."""

    def __init__(self) -> None:
        for name in ("FORMAT_LABELS", "STATUS_LABELS", "TRANSITION_LABELS", "REPLY_LABELS", "LEVEL_LABELS",
                     "EXCLUSION_LABELS", "TOPIC_LABELS"):
            setattr(self, name, {k: str(v) for k, v in getattr(labels, name).items()})


class _LazyLabels:
    """Every page's context gets this; only pages that read a label pay for translating them."""

    def __getattr__(self, name: str) -> dict:
        if "dialogue_labels" not in g:
            g.dialogue_labels = _Labels()
        return getattr(g.dialogue_labels, name)


_LAZY_LABELS = _LazyLabels()


def cleared(level: int) -> bool:
    """May the signed-in user read a dialogue at this level? (asked once per request)"""
    return level <= 0 or level <= viewer_level()


def viewer_level() -> int:
    """The signed-in user's cleared_level, read once per request (lists filter on it, rows show by it)."""
    if "cleared_level" not in g:
        g.cleared_level = (service.cleared_level(db.session, current_user.id)
                           if current_user.is_authenticated else 0)
    return g.cleared_level


def dialogue_title(dialogue: Dialogue) -> str:
    """A dialogue's title where a page about something else names it (minutes, their PDFs): opened only
    for a reader cleared for the dialogue's level, neutral words for anyone else."""
    return dialogue.title if cleared(dialogue.level) else _("Classified dialogue")


def _name(row, locale: str) -> str:
    return row.name_ja if locale == "ja" else row.name_en


def _load(dialogue_id: str) -> Dialogue:
    dialogue = db.session.get(Dialogue, dialogue_id[:36])
    if dialogue is None or not cleared(dialogue.level):
        abort(404)  # above the officer's clearance: exactly as if it did not exist
    return dialogue


def notifier() -> Notifier:
    return Notifier(db.session, MailSettings.from_config(current_app.config))


# --------------------------------------------------------------------------- lists


@bp.get("")
@requires(Permission.DIALOGUES_READ)
def index() -> str:
    # The body depends on the records, the viewer (role, clearance, zone), the language and the
    # query: cached per generation under exactly those (clearance/freshness.py).
    key = (current_user.id, str(get_locale()), request.full_path)

    def page() -> str:
        body = freshness.cached_body(("meetings.index", *key), _list_body, ttl=60.0, valid_until=clearance_limit)
        return render_template("meetings/list.html", body=body)

    return freshness.cached_page(("meetings.index", *key), page, ttl=60.0, valid_until=clearance_limit)


def _list_body() -> str:
    form = ListFilterForm(request.args)
    form.status.choices = [("", _("All statuses")), *labels.STATUS_LABELS.items()]
    form.format.choices = [("", _("All formats")), *labels.FORMAT_LABELS.items()]
    form.region.choices = [("", _("All regions")), *REGIONS.items()]
    f = service.ListFilter(period="upcoming")
    if form.validate():
        f = service.ListFilter(
            q=form.q.data or "", status=form.status.data if form.status.data in STATUSES else "",
            format=form.format.data if form.format.data in labels.FORMAT_LABELS else "",
            region=form.region.data if form.region.data in REGIONS else "",
            period=form.period.data if form.period.data in ("upcoming", "past", "all") else "upcoming",
            mine=bool(form.mine.data), series_id=request.args.get("series", ""),
        )
    page = service.paginate(db.session, service.list_query(db.session, f, current_user.id, utcnow(), viewer_level()),
                            bounds.page_number(), PER_PAGE)
    counts = service.reply_counts(db.session, [row[0].id for row in page.items])
    return render_template("meetings/_list_body.html", form=form, page=page, counts=counts, f=f)


def clearance_limit() -> float | None:
    """When the viewer's clearance lapses by time alone: a cached body showing classified titles
    must not outlive it (the cache's monotonic clock)."""
    now = utcnow()
    at = service.clearance_changes_at(db.session, current_user.id, now)
    return None if at is None else freshness.monotonic_at(at, now)


@bp.get("/upcoming")
@requires(Permission.DIALOGUES_READ)
def upcoming() -> str:
    """The next eight weeks, day by day in the viewer's time zone (a printable agenda)."""
    now = utcnow()
    f = service.ListFilter(period="upcoming", mine=request.args.get("mine") == "1")
    q = service.list_query(db.session, f, current_user.id, now, viewer_level()).where(Dialogue.starts_at < now + timedelta(weeks=8)).limit(400)
    rows = db.session.execute(q).all()
    zone = service.viewer_zone(db.session, current_user.id)
    days: dict = {}
    for row in rows:
        day = times.to_local(row[0].starts_at, zone).date()
        days.setdefault(day, []).append(row)
    return render_template("meetings/upcoming.html", days=days, zone=zone, mine=f.mine)


# --------------------------------------------------------------------------- plan and edit


def _choices(form: DialogueForm, locale: str) -> None:
    form.association_id.choices = [("", "—")] + [
        (a.id, _name(a, locale)) for a in db.session.execute(select(Association).order_by(Association.name_ja)).scalars()
    ]
    form.group_id.choices = [("", "—")] + [
        (gr.id, f"{_name(gr, locale)} ({GROUP_KINDS[gr.kind]})")
        for gr in db.session.execute(select(CompanyGroup).order_by(CompanyGroup.kind, CompanyGroup.name_ja)).scalars()
    ]
    form.region.choices = [("", _("Online / not set")), *REGIONS.items()]
    form.hosts.choices = service.officer_choices(db.session)


def _company_id(number: str | None) -> str:
    if not number or not corporate_number.is_valid(number):
        return ""
    found = db.session.execute(
        select(Company.id).where(Company.corporate_number == corporate_number.normalise(number))
    ).scalar_one_or_none()
    return found or ""


def _input(form: DialogueForm) -> service.DialogueInput:
    fmt = form.format.data
    counterpart = {"association": form.association_id.data, "supply_chain": form.group_id.data,
                   "technology": form.group_id.data, "company": _company_id(form.company_number.data)}.get(fmt, "")
    return service.DialogueInput(
        format=fmt, counterpart_id=counterpart or "", title=form.title.data or "", purpose=form.purpose.data or "",
        agenda=(form.agenda.data or "").splitlines(), region=form.region.data if form.region.data in REGIONS else None,
        venue=form.venue.data or "", online_url=(form.online_url.data or "").strip(),
        start_local=form.start.data, end_local=form.end.data, time_zone=form.time_zone.data,
        host_ids=list(form.hosts.data or []), level=int(form.level.data) if form.level.data in ("0", "1", "2") else -1,
        answer_by_local=form.answer_by.data, seat_limit=form.seat_limit.data,
    )


def _rule(form: DialogueForm) -> str | None:
    if not form.repeat.data:
        return None
    if form.repeat.data == "custom":
        return form.repeat_rule.data or ""
    return preset_rule(form.repeat.data, form.start.data, form.repeat_count.data or 6)


def _refusal(form: DialogueForm, exc: Exception) -> None:
    if isinstance(exc, SeriesError):
        form.repeat_rule.errors = [labels.message(exc.code, exc.values, labels.SERIES_MESSAGES)]
    else:
        text = labels.message(exc.code, exc.values)
        if "on" in exc.values:  # one of the later dialogues of a series: say which
            text = _("The dialogue on %(date)s: %(problem)s", date=format_date(exc.values["on"]), problem=text)
        form.form_errors.append(text)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.DIALOGUES_WRITE)
def new() -> Response | str:
    locale = str(get_locale())
    form = DialogueForm()
    _choices(form, locale)
    del form.scope
    if request.method == "GET":
        form.hosts.data = [current_user.id]
        for key in ("association_id", "group_id"):
            if request.args.get(key):
                getattr(form, key).data = request.args[key][:36]
        if request.args.get("format") in labels.FORMAT_LABELS:
            form.format.data = request.args["format"]
    conflicts = []
    if form.validate_on_submit():
        data, rule = _input(form), None
        try:
            rule = _rule(form)
            plan = service.plan(db.session, data, rule)
            conflicts = plan.conflicts
            if not conflicts or form.confirm_overlap.data:
                made = service.create_dialogues(db.session, current_user, data, rule)
                db.session.commit()
                if len(made) > 1:
                    flash(_("%(n)d dialogues planned as a series.", n=len(made)), "info")
                else:
                    flash(_("Dialogue planned."), "info")
                return redirect(url_for("meetings.detail", dialogue_id=made[0].id))
        except (service.Refused, SeriesError) as exc:
            db.session.rollback()
            _refusal(form, exc)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("meetings/form.html", form=form, conflicts=conflicts, dialogue=None), status


@bp.route("/<dialogue_id>/edit", methods=["GET", "POST"])
@requires(Permission.DIALOGUES_WRITE)
def edit(dialogue_id: str) -> Response | str:
    dialogue = _load(dialogue_id)
    if dialogue.status not in ("planned", "invited", "postponed"):
        flash(labels.message("not_editable"), "error")
        return redirect(url_for("meetings.detail", dialogue_id=dialogue.id))
    locale = str(get_locale())
    form = DialogueForm(obj=None)
    _choices(form, locale)
    del form.repeat, form.repeat_count, form.repeat_rule
    if not dialogue.series_id:
        del form.scope
    if request.method == "GET":
        company = db.session.get(Company, dialogue.company_id) if dialogue.company_id else None
        form.process(data={
            "format": dialogue.format, "association_id": dialogue.association_id or "",
            "group_id": dialogue.group_id or "", "company_number": company.corporate_number if company else "",
            "title": dialogue.title, "purpose": dialogue.purpose or "",
            "agenda": "\n".join(a.title for a in dialogue.agenda), "region": dialogue.region or "",
            "venue": dialogue.venue, "online_url": dialogue.online_url,
            "start": times.local_input(dialogue.starts_at, dialogue.time_zone),
            "end": times.local_input(dialogue.ends_at, dialogue.time_zone), "time_zone": dialogue.time_zone,
            "hosts": [h.id for h in service.hosts_of(db.session, dialogue.id)], "level": str(dialogue.level),
            "answer_by": times.local_input(dialogue.answer_by, dialogue.time_zone), "seat_limit": dialogue.seat_limit,
        })
    conflicts = []
    if form.validate_on_submit():
        data = _input(form)
        following = form.scope is not None and form.scope.data == "following"
        try:
            if following:
                conflicts = service.plan_series_edit(db.session, current_user, dialogue, data).conflicts
            else:
                conflicts = service.plan(db.session, data, exclude=[dialogue.id]).conflicts
            if not conflicts or form.confirm_overlap.data:
                _save_edit(dialogue, data, following)
                return redirect(url_for("meetings.detail", dialogue_id=dialogue.id))
        except service.Refused as exc:
            db.session.rollback()
            _refusal(form, exc)
    status = 400 if form.errors or form.form_errors else 200
    outlook = service.series_outlook(db.session, current_user, dialogue) if form.scope is not None else None
    return render_template("meetings/form.html", form=form, conflicts=conflicts, dialogue=dialogue,
                           outlook=outlook), status


def _save_edit(dialogue: Dialogue, data: service.DialogueInput, following: bool) -> None:
    """Save one dialogue, or it and the later ones of its series; commit and say what happened."""
    if not following:
        service.edit_dialogue(db.session, current_user, dialogue, data, notifier())
        db.session.commit()
        flash(_("Saved."), "info")
        return
    result = service.update_series(db.session, current_user, dialogue, data, notifier())
    db.session.commit()
    flash(_("Saved: this dialogue and %(n)d following dialogue(s) changed.", n=len(result.changed)), "info")
    if result.skipped:
        flash(_("%(n)d following dialogue(s) were left as they are: already held, closed, cancelled or postponed.",
                n=result.skipped), "info")


# --------------------------------------------------------------------------- one dialogue


@bp.get("/<dialogue_id>")
@requires(Permission.DIALOGUES_READ)
def detail(dialogue_id: str) -> str:
    dialogue = _load(dialogue_id)
    invitations = service.invitations_of(db.session, dialogue.id)
    tally: dict[str, int] = {}
    for row in invitations:
        tally[row.invitation.status] = tally.get(row.invitation.status, 0) + 1
    siblings = []
    if dialogue.series_id:
        siblings = db.session.execute(
            select(Dialogue.id, Dialogue.starts_at, Dialogue.status, Dialogue.time_zone)
            .where(Dialogue.series_id == dialogue.series_id).order_by(Dialogue.starts_at)
        ).all()
    return render_template(
        "meetings/detail.html", d=dialogue, counterpart=service.counterpart_of(db.session, dialogue),
        hosts=service.hosts_of(db.session, dialogue.id), invitations=invitations, tally=tally,
        topics=service.topics_of(db.session, dialogue.id), siblings=siblings,
        transitions=service.TRANSITIONS.get(dialogue.status, ()), status_form=StatusForm(),
        may_write=current_user.can(Permission.DIALOGUES_WRITE), sizes=SIZE_CLASSES,
        may_revoke=current_user.can(Permission.DIALOGUES_WRITE) and dialogue.status not in service.REVOKE_CLOSED,
        revocable=service.REVOCABLE, revoke_max=service.REVOKE_REASON_MAX,
    )


@bp.post("/<dialogue_id>/invitations/<invitation_id>/revoke")
@requires(Permission.DIALOGUES_WRITE)
def revoke(dialogue_id: str, invitation_id: str) -> Response:
    """Take back one invitation sent by mistake (from the detail page's list of invitations)."""
    dialogue = _load(dialogue_id)
    invitation = service.invitation_in(db.session, dialogue.id, invitation_id)
    if invitation is None:
        abort(404)
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.revoke_invitation(db.session, current_user, invitation, form.reason.data or "", notifier())
        db.session.commit()
        flash(_("Invitation withdrawn. The invitee has been told by e-mail and in the portal."), "info")
    except service.Refused as exc:
        db.session.rollback()
        flash(labels.message(exc.code, exc.values), "error")
    return redirect(url_for("meetings.detail", dialogue_id=dialogue.id, _anchor="invitations"))


@bp.post("/<dialogue_id>/status")
@requires(Permission.DIALOGUES_WRITE)
def status(dialogue_id: str) -> Response:
    dialogue = _load(dialogue_id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash(labels.message("transition"), "error")
        return redirect(url_for("meetings.detail", dialogue_id=dialogue.id))
    if form.status.data == "planned" and dialogue.status == "postponed":
        flash(_("Give the postponed dialogue its new date here; invitees are told when you save."), "info")
        return redirect(url_for("meetings.edit", dialogue_id=dialogue.id))
    try:
        service.change_status(db.session, current_user, dialogue, form.status.data, form.reason.data or "", notifier())
        db.session.commit()
        flash(_("Status changed to “%(status)s”.", status=labels.STATUS_LABELS[dialogue.status]), "info")
    except service.Refused as exc:
        db.session.rollback()
        flash(labels.message(exc.code, exc.values), "error")
    return redirect(url_for("meetings.detail", dialogue_id=dialogue.id))


@bp.get("/<dialogue_id>/dialogue.ics")
@requires(Permission.DIALOGUES_READ)
def download_ics(dialogue_id: str) -> Response:
    dialogue = _load(dialogue_id)
    settings = MailSettings.from_config(current_app.config)
    link = settings.base_url + url_for("meetings.detail", dialogue_id=dialogue.id)
    text = event_text(dialogue, link, str(get_locale()))
    ev = ics.event(dialogue, text, domain=settings.domain, organizer=settings.mail_from,
                   cancelled=dialogue.status in ("cancelled", "postponed"))
    return _ics_response(ics.calendar([(dialogue, ev)], method="PUBLISH"), f"dialogue-{dialogue.starts_at:%Y%m%d}.ics")


def _ics_response(body: bytes, filename: str) -> Response:
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --------------------------------------------------------------------------- invitations


def _filter_form(dialogue: Dialogue, formdata) -> InviteFilterForm:
    locale = str(get_locale())
    form = InviteFilterForm(formdata=formdata, meta={"csrf": request.method == "POST"})
    form.association_id.choices = [("", "—")] + [
        (a.id, _name(a, locale)) for a in db.session.execute(select(Association).order_by(Association.name_ja)).scalars()
    ]
    form.group_id.choices = [("", "—")] + [
        (gr.id, f"{_name(gr, locale)} ({GROUP_KINDS[gr.kind]})")
        for gr in db.session.execute(select(CompanyGroup).order_by(CompanyGroup.kind, CompanyGroup.name_ja)).scalars()
    ]
    form.tiers.choices = list(TIERS.items())
    form.regions.choices = list(REGIONS.items())
    form.sectors.choices = list(SECTORS.items())
    form.sizes.choices = list(SIZE_CLASSES.items())
    return form


def _filter_from(form: InviteFilterForm) -> service.InviteFilter:
    number = form.company_number.data
    company = _company_id(number) if number else ""
    return service.InviteFilter(
        association_id=(form.association_id.data or None), group_id=(form.group_id.data or None),
        tiers=[t for t in (form.tiers.data or []) if t in TIERS] if form.group_id.data else [],
        regions=[r for r in (form.regions.data or []) if r in REGIONS],
        sectors=[s for s in (form.sectors.data or []) if s in SECTORS],
        sizes=[s for s in (form.sizes.data or []) if s in SIZE_CLASSES],
        # A number that matches no company must select nobody, not drop the filter.
        company_id=(company or "-") if number else None,
    )


@bp.route("/<dialogue_id>/invite", methods=["GET", "POST"])
@requires(Permission.DIALOGUES_WRITE)
def invite(dialogue_id: str) -> Response | str:
    dialogue = _load(dialogue_id)
    if request.method == "POST":
        form = _filter_form(dialogue, request.form)
        if form.validate_on_submit():
            f = _filter_from(form)
            try:
                issued = service.send_invitations(db.session, current_user, dialogue, f, form.fingerprint.data or "")
                n = notifier()
                for item in issued:
                    n.invited(item)
                db.session.commit()  # the mails leave after this commit
                flash(_("%(n)d invitation(s) sent.", n=len(issued)), "info")
                return redirect(url_for("meetings.detail", dialogue_id=dialogue.id))
            except service.Refused as exc:
                db.session.rollback()
                flash(labels.message(exc.code, exc.values), "error")
                args = request.form.to_dict(flat=False)
                args.pop("csrf_token", None)
                args.pop("fingerprint", None)
                return redirect(url_for("meetings.invite", dialogue_id=dialogue.id, applied="1", **args))
        flash(labels.message("preview_changed"), "error")
        return redirect(url_for("meetings.invite", dialogue_id=dialogue.id))
    if request.args.get("applied"):
        form = _filter_form(dialogue, request.args)
        form.validate()
        f = _filter_from(form)
    else:
        f = service.InviteFilter.for_counterpart(dialogue)
        company = db.session.get(Company, f.company_id) if f.company_id else None
        form = _filter_form(dialogue, None)
        form.process(data={"association_id": f.association_id or "", "group_id": f.group_id or "",
                           "company_number": company.corporate_number if company else ""})
    preview = service.preview(db.session, dialogue, f)
    form.fingerprint.data = preview.fingerprint
    open_ = dialogue.status in ("planned", "invited") and dialogue.starts_at > utcnow()
    return render_template("meetings/invite.html", d=dialogue, form=form, preview=preview, empty=f.is_empty(),
                           open_=open_)
