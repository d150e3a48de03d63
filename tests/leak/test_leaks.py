"""The leak suite: no output carries a canary its reader may not read.

See tests/leak/world.py (what is planted, and who may read it) and
tests/leak/probe.py (how every route is requested and read). Known leaks that
other branches fix are strict xfails in KNOWN: when the fix lands they XPASS,
the run fails, and the entry is removed.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import base_overrides
from tests.leak import probe
from tests.leak.world import FULL


def _collection_app():
    """An app only to read its url_map at collection time (no database is opened)."""
    from app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="taiwa-leak-collect-"))
    return create_app({**base_overrides(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'none.db'}"})


ROUTES = probe.routes(_collection_app())

MINUTES = "fixed by wt-minutes"
TITLES = "fixed by wt-titles"
#: endpoint → why it leaks today (strict: the lead sees it flip when the fix is merged)
KNOWN: dict[str, str] = {}


def _param(case: probe.RouteCase):
    marks = []
    if case.endpoint in KNOWN:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[case.endpoint]))
    return pytest.param(case, id=case.id, marks=marks)


def test_every_get_route_is_filled_or_allow_listed(world):
    """A new route cannot slip past: each GET route is filled from the planted objects or listed, with a reason."""
    unfilled = []
    for case in ROUTES:
        if "GET" not in case.methods or case.endpoint in probe.UNFILLABLE:
            continue
        if probe.fillings(world.app, world, case) is None:
            unfilled.append(case.id)
    assert not unfilled, ("routes whose arguments the leak suite cannot fill; plant the object in "
                          f"tests/leak/world.py or add the endpoint to probe.UNFILLABLE with a reason: {unfilled}")
    assert {c.endpoint for c in ROUTES} == {r.endpoint for r in world.app.url_map.iter_rules()}


@pytest.mark.parametrize("case", [_param(c) for c in ROUTES if c.endpoint not in probe.UNFILLABLE])
def test_no_route_shows_a_reader_more_than_their_right(world, case):
    found, seen = probe.run_route(world.app, world, case)
    assert seen, f"{case.id}: nothing was requested"
    assert not found, "\n".join(found[:40]) + (f"\n… and {len(found) - 40} more" if len(found) > 40 else "")
