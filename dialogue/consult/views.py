"""相談窓口 — the public desk at /consult: no account, no JavaScript needed, nothing kept that identifies.

Every page works with plain HTML forms. The desk never reads or writes
flask.session (its own session is dialogue.consult.desk_session), never flashes,
never audits per request (daily counts instead, see service.count) and never
logs. Views are thin: parse, call service, render.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from clearance import files, outage
from clearance.crypto import DecryptionError
from clearance.db import db
from dialogue.consult import desk_session, limits, receipt, service
from dialogue.consult.forms import ConfirmForm, OpenForm, ReplyForm, SubmitForm
from dialogue.consult.taxonomy import CATEGORIES, REMOVED, SECTORS, SIZE_CLASSES, STATUS_FOR_SUBMITTER, TIERS

bp = Blueprint("consult", __name__, url_prefix="/consult")

NOTICES = {
    "sent": lambda: _("Your message has been sent to the ministry."),
    "saved": lambda: _("Thank you. Your consultation is with the ministry. Come back with your receipt to read the reply."),
    "expired": lambda: _("For your safety, the page expired after 30 minutes without activity. Please start again."),
    "left": lambda: _("You have left your consultation. Nothing about this visit was kept."),
    "refused": lambda: _("That receipt number was not recognised. Check the digits and try again."),
    "duplicate": lambda: _("This consultation was already sent. If you kept the receipt, you can open it below."),
}


# ---------------------------------------------------------------------------
# Request plumbing: the desk session, language, limits
# ---------------------------------------------------------------------------


def _desk() -> desk_session.DeskSession:
    return g.desk


def _client() -> str:
    return _limiter().client_key(request.remote_addr or "unknown")


def _limiter() -> limits.Limiter:
    return current_app.extensions["consult"]["limiter"]


def _rules() -> dict[str, tuple[limits.Rule, limits.Rule]]:
    return limits.rules(current_app.config)


@bp.url_value_preprocessor
def upload_limit(endpoint: str | None, _values: dict | None) -> None:
    # Runs before the app's guard parses the form: room for every file the page promises, plus the form.
    if endpoint in ("consult.new", "consult.case"):
        cfg = current_app.config
        request.max_content_length = (int(cfg["TAIWA_CONSULT_MAX_FILES"]) * int(cfg["TAIWA_CONSULT_MAX_FILE_BYTES"])
                                      + files.FORM_OVERHEAD)


@bp.before_request
def open_desk() -> Response | None:
    g.desk = desk_session.open_desk(request)
    lang = request.args.get("lang")
    if request.method == "GET" and lang in current_app.config["LANGUAGES"]:
        g.desk.set("locale", lang)
    if g.desk.get("locale") in current_app.config["LANGUAGES"]:
        g.locale_override = g.desk.get("locale")
    if not g.desk.stored and limits.over(_limiter(), _rules()["session"], _client()):
        _count(throttled=1)
        return _error_page(429, _("There have been too many visits from your network. Please wait a while and try again."))
    return None


@bp.after_request
def save_desk(response: Response) -> Response:
    desk = g.get("desk")
    if desk is None or outage.answered():
        return response  # the outage page (clearance.outage): storage failed, keep the cookie as it is
    if not desk.stored and desk.keep and not desk.destroy:
        limits.spend(_limiter(), _rules()["session"], _client())
    desk_session.save_desk(desk, request, response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def desk_helpers() -> dict[str, Any]:
    return {
        "desk_csrf": lambda: _desk().csrf_token(),
        "CATEGORIES": CATEGORIES,
        "SECTORS": SECTORS,
        "TIERS": TIERS,
        "SIZE_CLASSES": SIZE_CLASSES,
        "REMOVED": REMOVED,
        "STATUS_FOR_SUBMITTER": STATUS_FOR_SUBMITTER,
        "max_file": files.human_size(int(current_app.config["TAIWA_CONSULT_MAX_FILE_BYTES"])),
        "max_files": int(current_app.config["TAIWA_CONSULT_MAX_FILES"]),
        "accepted_types": ", ".join(service.DESK_KINDS.extensions),
    }


def _count(**n: int) -> None:
    """Daily counters, committed on their own so a refused request still counts."""
    service.count(db.session, **n)
    db.session.commit()


def _csrf_ok() -> bool:
    return _desk().check_csrf(request.form.get("csrf_token"))


def _notices() -> list[str]:
    return [NOTICES[c]() for c in _desk().take_notices() if c in NOTICES]


def _error_page(code: int, message: str) -> tuple[str, int]:
    return render_template("consult/error.html", code=code, message=message), code


@bp.errorhandler(DecryptionError)
def decryption_failed(_exc: DecryptionError) -> tuple[str, int]:
    # Fail closed, counted for the day's audit entry rather than audited with this moment's time.
    db.session.rollback()
    _count(decryption_failures=1)
    return _error_page(500, _("Something stored for this consultation could not be opened, so nothing of it is "
                              "shown. The ministry has been notified. Please try again later."))


@bp.errorhandler(HTTPException)
def desk_http_error(exc: HTTPException) -> tuple[str, int]:
    messages = {
        400: _("The request could not be understood. Please go back and try again."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        413: _("What you sent is too large. Files can be up to %(size)s each.",
               size=files.human_size(int(current_app.config["TAIWA_CONSULT_MAX_FILE_BYTES"]))),
        429: _("Too many requests. Please wait a while and try again."),
    }
    return _error_page(exc.code or 500, messages.get(exc.code or 500, _("Something went wrong. Please try again later.")))


def _opened() -> service.Opened | None:
    case_id, key = _desk().get("case"), _desk().get("key")
    if not case_id or not key:
        return None
    try:
        return service.Opened(case_id, base64.b64decode(key))
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# Landing page and language
# ---------------------------------------------------------------------------


@bp.route("", methods=["GET", "POST"])
def index() -> Response | str | tuple[str, int]:
    """The desk's front page. POST: the language switch (the desk keeps the choice in its own session)."""
    if request.method == "POST":
        if not _csrf_ok():
            _desk().notice("expired")
            return redirect(url_for("consult.index"), 303)
        locale = request.form.get("locale")
        if locale in current_app.config["LANGUAGES"]:
            _desk().set("locale", locale)
        back = request.form.get("next", "")
        if not back.startswith("/consult") or "//" in back or "\\" in back:
            back = url_for("consult.index")
        return redirect(back, 303)
    notices = _notices() + ([NOTICES["left"]()] if request.args.get("left") == "1" else [])
    return render_template("consult/index.html", notices=notices, opened=_opened() is not None)


# ---------------------------------------------------------------------------
# A new consultation
# ---------------------------------------------------------------------------


def _form_tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="taiwa-consult-form")


def _fresh_form_token() -> str:
    return _form_tokens().dumps({"n": secrets.token_urlsafe(12)})


def _render_new(form: SubmitForm, status: int = 200, problem: str | None = None) -> tuple[str, int]:
    form.form_token.data = _fresh_form_token()
    form.website.data = ""
    return render_template("consult/new.html", form=form, problem=problem, notices=_notices()), status


@bp.route("/new", methods=["GET", "POST"])
@files.accepts_uploads()
def new() -> Response | str | tuple[str, int]:
    form = SubmitForm()
    if request.method == "GET":
        return _render_new(form)
    cfg = current_app.config
    if not _csrf_ok():
        # Keep what they wrote: the page is shown again with the text, under a fresh session.
        return _render_new(form, 400, _("For your safety, the page had expired. Your text is still here: "
                                        "check it, add any files again, and send it."))
    if cfg["TAIWA_CONSULT_HONEYPOT"] and form.website.data:
        _count(bot_refused=1)
        return _render_new(form, 400, _("Please leave the last field, “Leave this field empty”, empty and send again."))
    try:
        nonce, ts = _form_tokens().loads(form.form_token.data or "", return_timestamp=True)
        nonce = nonce["n"]
    except (BadSignature, KeyError, TypeError):
        return _render_new(form, 400, _("The form could not be checked. Your text is still here: please send it again."))
    age = time.time() - ts.timestamp()
    if age < int(cfg["TAIWA_CONSULT_MIN_FORM_SECONDS"]):
        _count(bot_refused=1)
        return _render_new(form, 400, _("That was very quick. Please check what you wrote, then send it again."))
    if age > int(cfg["TAIWA_CONSULT_MAX_FORM_SECONDS"]):
        return _render_new(form, 400, _("The form was open for a long time. Your text is still here: please send it again."))
    if _desk().form_used(nonce):
        _desk().notice("duplicate")
        return redirect(url_for("consult.open_case"), 303)
    if limits.over(_limiter(), _rules()["submit"], _client()):
        _count(throttled=1)
        return _render_new(form, 429, _("Many consultations have been sent from your network recently. Your text is "
                                        "still here; please try again in an hour."))
    if not form.validate():
        return _render_new(form, 400)
    try:
        prepared = service.prepare_uploads(
            [service.Upload(f.filename, f.stream) for f in (form.files.data or []) if getattr(f, "filename", None)],
            max_files=int(cfg["TAIWA_CONSULT_MAX_FILES"]), max_bytes=int(cfg["TAIWA_CONSULT_MAX_FILE_BYTES"]),
            keep_names=form.keep_names.data,
        )
        result = service.submit_case(db.session, service.NewCase(
            category=form.category.data, text=form.text.data, sector=form.sector.data or None,
            tier=form.tier.data or None, size_class=form.size_class.data or None, uploads=prepared,
        ), ack_days=int(cfg["TAIWA_CONSULT_ACK_DAYS"]))
        db.session.commit()
    except service.DeskError as exc:
        db.session.rollback()
        return _render_new(form, 400, str(exc.message))
    limits.spend(_limiter(), _rules()["submit"], _client())
    _desk().use_form(nonce)
    _desk().set("pending", result.case_id)
    _desk().set("pending_files", [{"name": o.name, "removed": o.removed} for o in result.files])
    return _render_receipt(result.receipt, result.files)


def _render_receipt(code: str, outcomes: list[service.FileOutcome], form: ConfirmForm | None = None,
                    status: int = 200) -> tuple[str, int]:
    form = form or ConfirmForm()
    form.receipt.data = code
    form.last_group.data = ""
    return render_template("consult/receipt.html", groups=receipt.grouped(code), form=form, outcomes=outcomes,
                           bits=int(receipt.ENTROPY_BITS)), status


@bp.post("/new/confirm")
def confirm() -> Response | tuple[str, int]:
    """"I have written it down": the receipt comes back in the form (it is kept nowhere else)."""
    form = ConfirmForm()
    pending = _desk().get("pending")
    code = receipt.normalise(form.receipt.data)
    opened = service.open_pending(db.session, code, pending) if pending and code and _csrf_ok() else None
    if opened is None:
        _desk().notice("expired")
        return redirect(url_for("consult.index"), 303)
    if not form.validate() or not service.check_receipt_written(code, form.last_group.data):
        if not form.last_group.errors and form.last_group.data:
            form.last_group.errors = [_("Those are not the last five digits. Look at the receipt above and check your note.")]
        kept = [service.FileOutcome(o["name"], o["removed"]) for o in _desk().get("pending_files", [])]
        return _render_receipt(code, kept, form, 400)
    desk = _desk()
    desk.pop("pending")
    desk.pop("pending_files")
    desk.renew()
    desk.set("case", opened.case_id)
    desk.set("key", base64.b64encode(opened.case_key).decode())
    desk.notice("saved")
    return redirect(url_for("consult.case"), 303)


# ---------------------------------------------------------------------------
# Coming back with the receipt
# ---------------------------------------------------------------------------


@bp.route("/open", methods=["GET", "POST"])
def open_case() -> Response | str | tuple[str, int]:
    form = OpenForm()
    if request.method == "GET":
        refused = _desk().pop("refused", False)
        if refused:
            form.receipt.errors = [NOTICES["refused"]()]
        return render_template("consult/open.html", form=form, notices=_notices()), 200
    if not _csrf_ok():
        _desk().notice("expired")
        return redirect(url_for("consult.open_case"), 303)
    client = _client()
    rule = _rules()["receipt"]
    if limits.over(_limiter(), rule, client):
        # Locked out: the receipt is not even looked at, so right and wrong answer alike.
        _count(throttled=1)
        form.receipt.data = ""
        return render_template("consult/open.html", form=form, locked=True, notices=[]), 429
    opened = service.open_with_receipt(db.session, form.receipt.data)
    desk = _desk()
    desk.renew()
    desk.pop("case")
    desk.pop("key")
    if opened is None:
        limits.spend(_limiter(), rule, client)
        _count(receipts_refused=1)
        desk.set("refused", True)
    else:
        _count(receipts_accepted=1)
        desk.set("case", opened.case_id)
        desk.set("key", base64.b64encode(opened.case_key).decode())
    # The same answer either way: a redirect to the case page, with a new session id.
    return redirect(url_for("consult.case"), 303)


@bp.route("/case", methods=["GET", "POST"])
@files.accepts_uploads()
def case() -> Response | str | tuple[str, int]:
    desk = _desk()
    opened = _opened()
    if request.method == "POST" and request.form.get("action") == "leave":
        if _csrf_ok():
            desk.end()
            return redirect(url_for("consult.index", left=1), 303)  # the session that could carry a notice is gone
        return redirect(url_for("consult.index"), 303)
    if opened is None:
        if request.method == "POST":
            desk.notice("expired")
        return redirect(url_for("consult.open_case"), 303)
    form = ReplyForm()
    problem = None
    status = 200
    if request.method == "POST":
        cfg = current_app.config
        if not _csrf_ok():
            problem, status = _("For your safety, the page had expired. Your message is still here: send it again."), 400
        elif limits.over(_limiter(), _rules()["reply"], _client()):
            _count(throttled=1)
            problem, status = _("Many messages have been sent from your network recently. Please try again later."), 429
        elif form.validate():
            try:
                prepared = service.prepare_uploads(
                    [service.Upload(f.filename, f.stream) for f in (form.files.data or []) if getattr(f, "filename", None)],
                    max_files=int(cfg["TAIWA_CONSULT_MAX_FILES"]), max_bytes=int(cfg["TAIWA_CONSULT_MAX_FILE_BYTES"]),
                    keep_names=form.keep_names.data,
                    start_index=service.attachment_count(db.session, opened.case_id) + 1,
                )
                outcomes = service.submitter_reply(db.session, opened, form.text.data or "", prepared)
                db.session.commit()
            except service.DeskError as exc:
                db.session.rollback()
                problem, status = str(exc.message), 400
            else:
                limits.spend(_limiter(), _rules()["reply"], _client())
                desk.notice("sent")
                desk.set("outcomes", [{"name": o.name, "removed": o.removed} for o in outcomes])
                return redirect(url_for("consult.case") + "#latest", 303)
        else:
            status = 400
    view = service.submitter_case(db.session, opened)
    if view is None:
        # Purged, or never there: forget it, and answer like an unknown receipt.
        desk.pop("case")
        desk.pop("key")
        desk.set("refused", True)
        return redirect(url_for("consult.open_case"), 303)
    db.session.commit()
    outcomes = [service.FileOutcome(o["name"], o["removed"]) for o in desk.pop("outcomes", []) or []]
    if request.method == "GET":
        form.text.data = ""
    return render_template("consult/case.html", view=view, form=form, problem=problem, notices=_notices(),
                           outcomes=outcomes), status


@bp.get("/case/files/<attachment_id>")
def download(attachment_id: str) -> Response:
    if not service.is_row_id(attachment_id):
        abort(404)
    stored = service.submitter_file(db.session, _opened(), attachment_id)
    if stored is None:
        abort(404)
    return files.send_download(stored)
