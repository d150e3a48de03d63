"""Anything a user can type or send to the briefing and clearance pages gets an answer, never a 500."""

from __future__ import annotations

import pytest

from clearance.permissions import Role
from tests.clearance.helpers import briefing, grant
from tests.factories import csrf, sign_in

ODD = ["", " ", "abc", "-1", "3", "99999999999999999999", "２", "<script>", "' OR 1=1 --", "x" * 5000, "🙂"]


@pytest.mark.parametrize("value", ODD)
def test_briefing_forms_survive_odd_values(app, factory, value):
    officer = factory.person(Role.OFFICER)
    grant(app, officer.id, 2, ["SEMI"])
    bid = briefing(app, title="Target", level=1, designator_id=officer.id)
    client = app.test_client()
    sign_in(client, officer)
    token = csrf(client, "/briefings/new")
    fields = {"title": value, "summary": value, "body": value, "level": value, "compartments": value,
              "technology_domain": value, "risk_types": value, "sectors": value, "release_companies": value,
              "release_groups": value, "release_people": value, "handlers": value, "expires_on": value,
              "designated_on": value, "designating_agency": value, "reason": value}
    for path in ("/briefings/new", f"/briefings/{bid}/edit", f"/briefings/{bid}/label", f"/briefings/{bid}/withdraw",
                 f"/briefings/{bid}/release"):
        resp = client.post(path, data={"csrf_token": token, **fields})
        assert resp.status_code < 500, (path, resp.status_code)
    for path in (f"/briefings?q={value}&level={value}&risk={value}&sector={value}&status={value}&page={value}",
                 f"/briefings/{value}", f"/briefings/{bid}/files/{value}"):
        assert client.get(path).status_code < 500, path


@pytest.mark.parametrize("value", ODD)
def test_clearance_forms_survive_odd_values(app, factory, value):
    so = factory.person(Role.SECURITY_OFFICER)
    target = factory.person(Role.COMPANY_MEMBER)
    client = app.test_client()
    sign_in(client, so)
    token = csrf(client, "/clearance/compartments")
    fields = {"level": value, "agency": value, "notified_on": value, "expires_on": value, "certified_on": value,
              "contract_ref": value, "departments": value, "other_departments": value, "compartments": value,
              "reason": value, "code": value, "name_ja": value, "name_en": value}
    with app.app_context():
        from clearance.auth.models import UserAccount
        from clearance.db import db

        company = db.session.get(UserAccount, target.id).company_id
    for path in (f"/clearance/people/{target.id}", f"/clearance/companies/{company}", "/clearance/compartments",
                 f"/clearance/clearances/{value or 'x'}/approve", f"/clearance/certifications/{value or 'x'}/revoked"):
        resp = client.post(path, data={"csrf_token": token, **fields})
        assert resp.status_code < 500, (path, resp.status_code)
    for path in (f"/clearance/people?q={value}&standing={value}&page={value}", f"/clearance/companies?q={value}",
                 f"/clearance/people/{value}"):
        assert client.get(path).status_code < 500, path
