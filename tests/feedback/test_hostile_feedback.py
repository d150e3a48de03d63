"""Hostile input on the feedback pages (issue 12, finding 7): a 400 with the form's error, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import csrf, sign_in
from tests.feedback.test_analysis import _item


@pytest.mark.parametrize("value", ["\t", " ", "   \n"])
def test_a_whitespace_only_measure_is_no_measure_not_a_500(app, world, value):
    item_id = _item(app)
    officer = app.test_client()
    sign_in(officer, world.officer)
    resp = officer.post(f"/feedback/{item_id}/measures", data={"csrf_token": csrf(officer, f"/feedback/{item_id}"),
                                                              "measures": [value]})
    assert resp.status_code == 302  # blank is "no measure": saved as none


def test_an_unknown_measure_behind_an_empty_one_is_the_forms_error(app, world):
    """Optional() looks at the first value only: ["", "bogus"] passed the form and the service refused it."""
    item_id = _item(app)
    officer = app.test_client()
    sign_in(officer, world.officer)
    resp = officer.post(f"/feedback/{item_id}/measures", data={"csrf_token": csrf(officer, f"/feedback/{item_id}"),
                                                              "measures": ["", "bogus"]})
    assert resp.status_code == 400  # was a 500: the except branch returned a tuple inside a tuple


@pytest.mark.parametrize("query", ["page=99999999999999999999", "from=9999-12-31&to=9999-12-31", "page=-1"])
def test_the_feedback_list_takes_absurd_pages_and_dates(app, world, query):
    officer = app.test_client()
    sign_in(officer, world.officer)
    assert officer.get("/feedback?" + query).status_code == 200
