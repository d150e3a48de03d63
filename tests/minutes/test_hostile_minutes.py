"""Revision and page numbers from the query string are clamped (issue 12, finding 7): never a 500."""

from __future__ import annotations

import pytest

from tests.factories import sign_in
from tests.minutes.helpers import start


@pytest.mark.parametrize("query", ["a=99999999999999999999", "a=-1&b=99999999999999999999", "a=１&b=x", "a=&b="])
def test_compare_clamps_revision_numbers(app, world, query):
    minutes_id = start(app, world)
    client = app.test_client()
    sign_in(client, world.officer)
    resp = client.get(f"/minutes/{minutes_id}/compare?{query}")
    assert resp.status_code == 200


def test_the_minutes_list_clamps_the_page_number(app, world):
    client = app.test_client()
    sign_in(client, world.officer)
    assert client.get("/minutes?page=99999999999999999999").status_code == 200
