"""Every GET page without path arguments answers below 500, for every role and before sign-in.

A simple walk of app.url_map: it found `GET /admin/accounts/new` answering 500 for
administrators (issue 12, finding 2) after the tests had read a CSRF token off that
error page for months.
"""

from __future__ import annotations

import pytest

from clearance.permissions import Role
from tests.factories import sign_in


def _plain_get_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or rule.endpoint == "static":
            continue
        paths.append(rule.rule)
    return sorted(set(paths))


@pytest.mark.parametrize("role", [None, *Role])
def test_every_plain_get_page_answers_below_500(app, factory, role):
    client = app.test_client()
    if role is not None:
        company = factory.company()
        person = factory.person(role, company_id=company if role.value.startswith("company") else None)
        assert sign_in(client, person).status_code == 302
    paths = _plain_get_paths(app)
    assert len(paths) > 30  # the walk really walks
    failures = {}
    for path in paths:
        if path in {"/logout"}:
            continue
        resp = client.get(path)
        if resp.status_code >= 500:
            failures[path] = resp.status_code
    assert failures == {}
