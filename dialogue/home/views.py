"""The landing pages after sign-in, and the overview's charts (SVG images)."""

from __future__ import annotations

import threading

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from clearance import freshness
from clearance.db import db, utcnow
from clearance.permissions import Permission, requires
from dialogue.home import charts, service
from dialogue.registry.taxonomy import REGIONS, SECTORS, SIZE_CLASSES, TIERS

bp = Blueprint("home", __name__)


@bp.get("/")
@requires(Permission.ACCOUNT_SELF)
def index() -> Response:
    if current_user.can(Permission.STAFF_HOME):
        return redirect(url_for("home.staff"))
    return redirect(url_for("home.portal"))


def _overview() -> service.Overview:
    ttl = 0 if current_app.testing else current_app.config.get("TAIWA_OVERVIEW_TTL", 60)
    return service.cached_overview(db.session, utcnow(), float(ttl))


_fragments: dict[tuple[str, str, object], Markup] = {}
_fragments_lock = threading.Lock()


def _overview_html(o: service.Overview) -> Markup:
    """Render the overview's body once per locale and zone for each cached set of figures.

    The figures are the same for every officer (and already cached for the TTL), and
    rendering ~100 translated, escaped table cells was most of the page's cost. Nothing
    per-user or per-session (names, CSRF tokens) is inside the fragment."""
    key = (str(get_locale()), str(get_timezone()), o.computed_at)
    html = _fragments.get(key)
    if html is None:
        rendered = render_template("home/_overview.html", o=o, regions=REGIONS, sizes=SIZE_CLASSES,
                                   sectors=SECTORS, tiers=TIERS)
        html = Markup(rendered)  # noqa: S704 - output of our own autoescaped template
        with _fragments_lock:
            if len(_fragments) > 16:
                _fragments.clear()
            _fragments[key] = html
    return html


@bp.get("/officer")
@requires(Permission.STAFF_HOME)
def staff() -> str:
    o = _overview()
    # The overview's figures refresh on their own clock (TAIWA_OVERVIEW_TTL), so their time is in the key.
    key = ("home.staff", current_user.id, str(get_locale()), request.full_path, o.computed_at)
    return freshness.cached_page(key, lambda: render_template("home/staff.html", overview_html=_overview_html(o)),
                                 ttl=60.0)


@bp.get("/officer/charts/<name>.svg")
@requires(Permission.STAFF_HOME)
def chart(name: str) -> Response:
    o = _overview()  # the same figures as the page's tables
    if name == "regions":
        rows = o.by_region
        svg = charts.reach_by_region(_("Companies by region"), [str(REGIONS[c]) for c, _n, _r in rows],
                                     [n for _c, n, _r in rows], [r for _c, _n, r in rows],
                                     (_("In the register"), _("Reached in the last 12 months")))
    elif name == "sizes":
        rows = o.by_size
        svg = charts.share_by_size(_("Share reached in the last 12 months, by size"),
                                   [str(SIZE_CLASSES[c]) for c, _n, _r in rows],
                                   [r / n if n else 0.0 for _c, n, r in rows], _("Reached"))
    elif name == "months":
        months = o.months
        svg = charts.per_month(_("Dialogues held per month"), [m[2:] for m, _n in months], [n for _m, n in months],
                               _("Dialogues held"))
    else:
        abort(404)
    return Response(svg, mimetype="image/svg+xml", headers={"Content-Security-Policy": charts.SVG_CSP})


@bp.get("/portal")
@requires(Permission.PORTAL_HOME)
def portal() -> str:
    return render_template("home/portal.html", s=service.portal_summary(db.session, current_user.company_id))
