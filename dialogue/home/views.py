"""The landing pages after sign-in."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clearance.db import db
from clearance.permissions import Permission, requires
from dialogue.home import service
from dialogue.registry.taxonomy import REGIONS, SIZE_CLASSES

bp = Blueprint("home", __name__)


@bp.get("/")
@requires(Permission.ACCOUNT_SELF)
def index() -> Response:
    if current_user.can(Permission.STAFF_HOME):
        return redirect(url_for("home.staff"))
    return redirect(url_for("home.portal"))


@bp.get("/officer")
@requires(Permission.STAFF_HOME)
def staff() -> str:
    return render_template("home/staff.html", o=service.overview(db.session), regions=REGIONS, sizes=SIZE_CLASSES)


@bp.get("/portal")
@requires(Permission.PORTAL_HOME)
def portal() -> str:
    return render_template("home/portal.html", s=service.portal_summary(db.session, current_user.company_id))
