"""Accounts (administrators: all; company admins: their own company) and the audit log."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from clearance import accounts, audit, audit_labels, bounds
from clearance.admin.forms import AccountFilterForm, AccountForm, AuditFilterForm, RoleForm
from clearance.audit import AuditEntry, Kind
from clearance.auth.forms import EmptyForm
from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.export_cells import csv_writer
from clearance.outbox import enqueue
from clearance.permissions import Permission, Role, requires, role_labels
from dialogue.registry.models import Company

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


def _role_choices() -> list[tuple[str, str]]:
    labels = role_labels()
    return [(r.value, labels[r]) for r in accounts.assignable_roles(current_user)]


@bp.get("/accounts")
@requires(Permission.ACCOUNTS_MANAGE)
def accounts_list() -> str:
    form = AccountFilterForm(request.args)
    form.role.choices = [("", _("All roles")), *_role_choices()]
    q = accounts.manageable(current_user)
    if form.validate():
        if form.q.data:
            needle = f"%{form.q.data.strip().lower()}%"
            q = q.where(or_(UserAccount.email.like(needle), UserAccount.display_name.ilike(needle)))
        if form.role.data:
            q = q.where(UserAccount.role == form.role.data)
    page = db.paginate(q.order_by(UserAccount.role, UserAccount.email),
                       page=bounds.page_number(), per_page=PER_PAGE, error_out=False)
    companies = dict(db.session.execute(select(Company.id, Company.name_ja)).all()) if current_user.can(Permission.USERS_MANAGE) else {}
    return render_template("admin/accounts.html", form=form, page=page, roles=role_labels(), companies=companies)


@bp.route("/accounts/new", methods=["GET", "POST"])
@requires(Permission.ACCOUNTS_MANAGE)
def account_new() -> Response | str:
    form = AccountForm()
    form.role.choices = _role_choices()
    every = current_user.can(Permission.USERS_MANAGE)
    if every:
        rows = db.session.execute(select(Company.id, Company.name_ja).order_by(Company.name_ja)).all()
        # plain tuples: WTForms reads a choice by unpacking, and a Row is not a tuple to it (3.3: None)
        form.company_id.choices = [("", _("— none (ministry staff) —")), *((cid, name) for cid, name in rows)]
    else:
        form.company_id.choices = [(current_user.company_id, "")]
    if form.validate_on_submit():
        company = form.company_id.data or None
        if every and company and db.session.get(Company, company) is None:
            form.company_id.errors.append(_("Choose a company from the list."))
        else:
            try:
                user, token = accounts.create_account(
                    db.session, current_user,
                    accounts.NewAccount(form.email.data, form.display_name.data, Role(form.role.data), company,
                                        form.department.data),
                    timedelta(days=3),
                )
                link = current_app.config["TAIWA_BASE_URL"].rstrip("/") + url_for("auth.password_reset", token=token)
                enqueue(db.session, to=user.email, subject=_("Your Taiwa account"),
                        body=render_template("mail/welcome.txt", user=user, link=link))
                db.session.commit()
            except accounts.NotAllowed:
                db.session.rollback()
                form.role.errors.append(_("A company role needs a company, and ministry roles must have none."))
            except IntegrityError:
                db.session.rollback()
                form.email.errors.append(_("An account with this e-mail address already exists."))
            else:
                flash(_("Account created. %(email)s has been sent a link to set a password.", email=user.email), "info")
                return redirect(url_for("admin.account_detail", account_id=user.id))
    return render_template("admin/account_new.html", form=form), 400 if form.errors else 200


def _target(account_id: str) -> UserAccount:
    target = accounts.load_manageable(db.session, current_user, account_id[:36])
    if target is None:
        abort(404)
    return target


@bp.get("/accounts/<account_id>")
@requires(Permission.ACCOUNTS_MANAGE)
def account_detail(account_id: str) -> str:
    target = _target(account_id)
    form = RoleForm(role=target.role)
    form.role.choices = _role_choices()
    company = db.session.get(Company, target.company_id) if target.company_id else None
    return render_template("admin/account.html", target=target, form=form, empty=EmptyForm(), roles=role_labels(),
                           company=company, editable=accounts.may_manage(current_user, target))


def _act(account_id: str, action, after=None) -> Response:
    target = _target(account_id)  # CSRFProtect has already checked the token
    try:
        action(target)
        db.session.commit()
        if after is not None:
            after(target)  # outside the transaction: the session store has its own connection
        flash(_("Saved."), "info")
    except accounts.NotAllowed:
        db.session.rollback()
        flash(_("You cannot change your own account here, and company roles need a company."), "error")
    return redirect(url_for("admin.account_detail", account_id=target.id))


@bp.post("/accounts/<account_id>/role")
@requires(Permission.ACCOUNTS_MANAGE)
def account_role(account_id: str) -> Response:
    form = RoleForm()
    form.role.choices = _role_choices()
    if not form.validate_on_submit():
        flash(_("Choose one of the listed roles."), "error")
        return redirect(url_for("admin.account_detail", account_id=account_id[:36]))
    return _act(account_id, lambda t: accounts.change_role(db.session, current_user, t, Role(form.role.data)))


@bp.post("/accounts/<account_id>/deactivate")
@requires(Permission.ACCOUNTS_MANAGE)
def account_deactivate(account_id: str) -> Response:
    return _act(
        account_id,
        lambda t: accounts.set_active(db.session, current_user, t, False),
        after=lambda t: current_app.session_interface.store.delete_user(t.id),
    )


@bp.post("/accounts/<account_id>/reactivate")
@requires(Permission.ACCOUNTS_MANAGE)
def account_reactivate(account_id: str) -> Response:
    return _act(account_id, lambda t: accounts.set_active(db.session, current_user, t, True))


@bp.post("/accounts/<account_id>/unlock")
@requires(Permission.ACCOUNTS_MANAGE)
def account_unlock(account_id: str) -> Response:
    return _act(account_id, lambda t: accounts.unlock(db.session, current_user, t, current_app.config["SECRET_KEY"]))


@bp.post("/accounts/<account_id>/reset-2fa")
@requires(Permission.ACCOUNTS_MANAGE)
def account_reset_2fa(account_id: str) -> Response:
    # A lost or stolen phone: whoever holds a session with it is signed out too.
    return _act(
        account_id,
        lambda t: accounts.reset_second_factor(db.session, current_user, t),
        after=lambda t: current_app.session_interface.store.delete_user(t.id),
    )


def _audit_query(form: AuditFilterForm):
    q = select(AuditEntry)
    if form.validate():
        if form.q.data:
            needle = f"%{form.q.data.strip()}%"
            q = q.where(or_(AuditEntry.actor.ilike(needle), AuditEntry.summary.ilike(needle)))
        if form.person.data:
            person = form.person.data.strip()
            q = q.where(or_(AuditEntry.actor.ilike(f"%{person}%"), AuditEntry.actor_id == person))
        if form.obj.data:
            q = q.where(AuditEntry.data.ilike(f"%{form.obj.data.strip()}%"))
        if form.realm.data:
            q = q.where(AuditEntry.realm == form.realm.data)
        if form.kind.data:
            q = q.where(AuditEntry.kind == form.kind.data)
        # The dates are days in the display time zone; entries are stored in UTC.
        if form.start.data:
            q = q.where(AuditEntry.occurred_at >= _utc(form.start.data))
        if form.end.data:
            q = q.where(AuditEntry.occurred_at < _utc(form.end.data + timedelta(days=1)))
    return q.order_by(AuditEntry.seq.desc())


def _utc(day) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, zone).astimezone(UTC).replace(tzinfo=None)


def _audit_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    realms = db.session.execute(select(AuditEntry.realm).distinct().order_by(AuditEntry.realm)).scalars().all()
    form.realm.choices = [("", _("All areas")), *[(r, audit_labels.labels(r, "", "").area) for r in realms]]
    kinds = {Kind.POSITIVE: _("Success"), Kind.NEGATIVE: _("Refused or failed"), Kind.CHANGE: _("Change"),
             Kind.INFO: _("Information")}
    form.kind.choices = [("", _("All kinds")), *[(k.value, kinds[k]) for k in Kind]]
    return form


@bp.get("/audit")
@requires(Permission.AUDIT_READ)
def audit_log() -> str:
    form = _audit_form()
    page = db.paginate(_audit_query(form), page=bounds.page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/audit.html", form=form, page=page, args=request.args.to_dict(),
                           labels=audit_labels.labels, checkpoint=audit.last_checkpoint(db.session))


@bp.get("/audit/<int:seq>/proof.json")
@requires(Permission.AUDIT_READ)
def audit_proof(seq: int) -> Response:
    """The inclusion proof of one entry, for an auditor (`flask audit-check-proof` checks it)."""
    try:
        proof = audit.prove(db.session, seq)
    except audit.NotYetCheckpointed:
        return Response(_("This entry is not in a signed checkpoint yet; try again in a minute."), status=409,
                        mimetype="text/plain")
    except LookupError:
        abort(404)
    resp = Response(json.dumps(proof, ensure_ascii=False, indent=2), mimetype="application/json")
    resp.headers["Content-Disposition"] = f"attachment; filename=taiwa-audit-{seq}-proof.json"
    return resp


@bp.get("/audit.jsonl")
@requires(Permission.AUDIT_READ)
def audit_jsonl() -> Response:
    """Filtered entries as JSON Lines, each with its inclusion proof (or "proof": null before its checkpoint)."""
    form = _audit_form()
    seqs = db.session.execute(_audit_query(form).with_only_columns(AuditEntry.seq).limit(100_000)).scalars().all()
    app = current_app._get_current_object()

    def generate():
        with app.app_context():
            for record in audit.export_with_proofs(db.session, sorted(seqs)):
                yield json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
            db.session.remove()

    resp = Response(generate(), mimetype="application/jsonl; charset=utf-8")
    resp.headers["Content-Disposition"] = "attachment; filename=taiwa-audit.jsonl"
    return resp


def _with_bom(rows):
    yield "\ufeff"
    yield from rows


@bp.get("/audit.csv")
@requires(Permission.AUDIT_READ)
def audit_csv() -> Response:
    form = _audit_form()
    t = AuditEntry.__table__
    cols = [t.c.seq, t.c.occurred_at, t.c.actor, t.c.realm, t.c.kind, t.c.summary, t.c.data, t.c.key_ref, t.c.mac]
    stmt = _audit_query(form).with_only_columns(*cols).limit(100_000)
    engine = db.engine

    def generate():
        buf = io.StringIO()
        writer = csv_writer(buf)  # the one export helper: formulas neutralised
        writer.writerow(["seq", "occurred_at_utc", "actor", "realm", "kind", "summary", "data", "key", "mac"])
        # Its own connection: the stream outlives the request's ORM session.
        with engine.connect() as conn:
            for seq, at, actor, realm, kind, summary, data, key_ref, mac in conn.execute(stmt):
                writer.writerow([seq, at.isoformat(), actor, realm, kind, summary,
                                 json.dumps(json.loads(data), ensure_ascii=False), key_ref, mac])
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()

    # Streamed so a large export never sits in memory; the BOM lets Excel read UTF-8.
    resp = Response(stream_with_context(_with_bom(generate())), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = "attachment; filename=taiwa-audit.csv"
    return resp
