"""Hostile input (issue 12, findings 3 and 7): refused with the form's words, never a 500.

The fuzz suite (tests/fuzz) finds these by generating input; these tests pin each one down.
"""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import Optional

from clearance import bounds
from clearance.forms import SafeForm
from clearance.permissions import Role
from tests.factories import csrf, sign_in


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_form_of_the_app_is_a_safe_form(app):
    """Structural: the guard holds for a form nobody has written yet, as long as it derives from SafeForm."""
    forms = [f for f in _all_subclasses(FlaskForm) if f.__module__.split(".")[0] in ("clearance", "dialogue")]
    assert len(forms) > 60  # create_app imported every area
    unsafe = sorted(f"{f.__module__}.{f.__qualname__}" for f in forms if not issubclass(f, SafeForm))
    assert unsafe == []


@pytest.mark.parametrize("path,field,label", [("/login", "email", "メールアドレス"), ("/login", "password", "パスワード"),
                                              ("/password/forgot", "email", "メールアドレス")])
def test_a_file_part_in_a_text_field_is_a_400_naming_the_field(client, path, field, label):
    data = {"csrf_token": csrf(client, path), "email": "a@example.jp", "password": "whatever password",
            field: (io.BytesIO(b"not text"), "x.txt")}
    resp = client.post(path, data=data, content_type="multipart/form-data")
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert label in page and "ファイル" in page


def test_a_file_part_on_the_desk_is_a_400_before_sign_in(client):
    html = client.get("/consult/open").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
    resp = client.post("/consult/open", data={"csrf_token": token, "receipt": (io.BytesIO(b"x"), "r.txt")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400


def test_a_json_body_that_is_not_flat_text_is_a_400(client):
    token = csrf(client)
    for body in ("42", '{"email": 123, "password": "x"}', '["a"]', '{"email": {"a": 1}}'):
        resp = client.post("/login", data=body, content_type="application/json", headers={"X-CSRFToken": token})
        assert resp.status_code == 400, body


class _Bounded(SafeForm):
    class Meta:
        csrf = False

    day = DateField(validators=[Optional()])
    count = IntegerField(validators=[Optional()])
    amount = DecimalField(validators=[Optional()])
    picks = SelectMultipleField(choices=[("a", "A")], validators=[Optional()])
    name = StringField()


@pytest.mark.parametrize("field,value", [("day", "9999-12-31"), ("day", "0001-01-01"), ("count", "99999999999999999999"),
                                         ("amount", "NaN"), ("amount", "Infinity")])
def test_safe_form_refuses_dates_and_numbers_no_view_can_compute_with(app, field, value):
    from werkzeug.datastructures import MultiDict

    with app.test_request_context(method="POST"):
        form = _Bounded(MultiDict({field: value}))
        assert not form.validate()
        assert getattr(form, field).data is None and form.errors[field]


def test_safe_form_drops_a_blank_choice_that_optional_would_let_through(app):
    from werkzeug.datastructures import MultiDict

    with app.test_request_context(method="POST"):
        form = _Bounded(MultiDict([("picks", "\t")]))
        assert form.validate() and form.picks.data == []


def test_clamping_helpers():
    assert bounds.clamp_int("99999999999999999999", 1, 1, 10) == 1  # not a number we take: the default
    assert bounds.clamp_int("999", 1, 1, 10) == 10
    assert bounds.clamp_int("-5", 1, 1, 10) == 1
    assert bounds.clamp_int("３", 1, 1, 10) == 1  # full-width digits are not a page number
    assert bounds.clamp_int(None, 4, 1, 10) == 4
    assert bounds.bounded_date("9999-12-31") is None and bounds.bounded_date("2026-02-30") is None
    assert bounds.bounded_date("2026-05-01T10:00") == date(2026, 5, 1)
    assert bounds.bounded_period("2026-05-01", "2026-04-01") == (date(2026, 5, 1), None)


@pytest.fixture
def admin_client(app, factory):
    client = app.test_client()
    assert sign_in(client, factory.person(Role.ADMIN)).status_code == 302
    return client


@pytest.mark.parametrize("query", ["page=99999999999999999999", "page=-3", "page=１", "end=9999-12-31",
                                   "start=0001-01-01&end=9999-12-31&page=10001"])
def test_the_audit_log_takes_absurd_pages_and_dates(admin_client, query):
    resp = admin_client.get("/admin/audit?" + query)
    assert resp.status_code == 200
    if "end=" in query:  # the filter says it ignored the date
        assert "解釈できない絞り込み条件" in resp.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/accounts", "/registry/associations", "/registry/groups",
                                  "/registry/corrections", "/registry/companies", "/dialogues/", "/briefings/", "/minutes", "/feedback"])
def test_list_pages_clamp_the_page_number(app, factory, path):
    client = app.test_client()
    assert sign_in(client, factory.person(Role.ADMIN if path.startswith("/admin") else Role.OFFICER)).status_code == 302
    resp = client.get(path + "?page=99999999999999999999")
    assert resp.status_code in (200, 302, 404), resp.status_code
    assert resp.status_code != 500


def test_an_abort_after_a_write_does_not_lock_sqlite_for_the_session_save(app, factory):
    """Removing a company that is not a member writes (a DELETE of no rows) and then aborts 404. The error page
    used to leave that write open while the session's last-seen time was saved on another connection: on
    SQLite 10 s of waiting for its own lock, then a 500."""
    from clearance.db import db, new_id
    from dialogue.registry.models import Association

    with app.app_context():
        a = Association(id=new_id(), name_ja="試験工業会", name_en="Test Association", sector="semiconductors")
        db.session.add(a)
        db.session.commit()
        association_id = a.id
    client = app.test_client()
    assert sign_in(client, factory.person(Role.OFFICER)).status_code == 302
    token = csrf(client, "/account/")
    with app.app_context():  # the session is due for its once-a-minute last-seen write at the end of the request
        from datetime import timedelta

        from clearance.auth.models import WebSession
        from clearance.db import utcnow

        db.session.execute(db.update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    started = time.monotonic()
    resp = client.post(f"/registry/associations/{association_id}/members/{new_id()}/remove", data={"csrf_token": token})
    assert resp.status_code == 404
    assert time.monotonic() - started < 5
