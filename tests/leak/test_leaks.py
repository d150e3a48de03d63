"""The leak suite: no output carries a canary its reader may not read.

See tests/leak/world.py (what is planted, and who may read it) and
tests/leak/probe.py (how every route is requested and read). Known leaks that
other branches fix are strict xfails in KNOWN: when the fix lands they XPASS,
the run fails, and the entry is removed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.conftest import base_overrides
from tests.leak import probe


def _collection_app():
    """An app only to read its url_map at collection time (no database is opened)."""
    from app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="taiwa-leak-collect-"))
    return create_app({**base_overrides(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'none.db'}"})


ROUTES = probe.routes(_collection_app())

#: endpoint → why it leaks today (strict: the lead sees it flip when the fix is merged)
KNOWN: dict[str, str] = {
}


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


# ---------------------------------------------------------------------------
# POST routes that answer with data
# ---------------------------------------------------------------------------


def test_the_409_body_of_a_stale_minutes_save_shows_no_more_than_the_reader_may_read(world):
    """Every officer who may save (any officer) sends a stale base: the answer carries the stored document."""
    from tests.factories import csrf

    found = []
    mid = world.draft_minutes
    for kind, reader in world.readers.items():
        if reader.person is None:
            continue
        resp = reader.client.get(f"/api/minutes/{mid}")
        if resp.status_code != 200:
            continue
        token = csrf(reader.client, f"/minutes/{mid}")
        doc = resp.get_json()["document"]
        stale = client_post = reader.client.post(f"/api/minutes/{mid}/revisions",
                                                 json={"base_revision": 1, "document": doc},
                                                 headers={"X-CSRFToken": token})
        assert stale.status_code == 409, (kind, stale.status_code)
        text, _ = probe.text_of(client_post)
        found += probe.leaks(world, reader.user_id, f"{kind} POST /api/minutes/<id>/revisions [409]", text)
    assert not found, "\n".join(found[:40])


# ---------------------------------------------------------------------------
# Mail and notifications
# ---------------------------------------------------------------------------


def test_mail_and_notifications_carry_nothing_above_their_recipient(world):
    assert world.messages, "the planting sent no mail and no notification: this test would prove nothing"
    found = []
    for user_id, where, text in world.messages:
        found += probe.leaks(world, user_id, where, text)
    assert not found, "\n".join(found[:40])


# ---------------------------------------------------------------------------
# At rest: the database and the instance and files folders
# ---------------------------------------------------------------------------

#: kinds of canary whose plain text is in the database today (sealed by wt-titles)
AT_REST_KNOWN: dict[str, str] = {}


def _at_rest_hits(world) -> dict[str, list[str]]:
    if not hasattr(world, "at_rest"):
        from clearance.db import db
        from tests.crypto import population

        blobs: list[tuple[str, bytes]] = []
        with world.app.app_context():
            blobs += population.raw_database(db.engine)
        roots = [Path(world.app.instance_path), world.files_dir]
        for root in roots:
            if root and root.exists():
                for p in root.rglob("*"):
                    if p.is_file() and p.stat().st_size < 64 << 20:
                        blobs.append((str(p), p.read_bytes()))
        hits: dict[str, list[str]] = {}
        for tok, c in world.canaries.items():
            needles = population.needles(tok)
            for where, data in blobs:
                if any(n in data for n in needles):
                    hits.setdefault(c.kind, []).append(f"{tok} ({c.label}) in {where}")
        world.at_rest = hits
    return world.at_rest


def _kinds() -> list[str]:
    from tests.leak import world as w

    return sorted(set(w.EXPLICIT_KINDS) | set(AT_REST_KNOWN))


@pytest.mark.parametrize("kind", [
    pytest.param(k, marks=[pytest.mark.xfail(strict=True, reason=AT_REST_KNOWN[k])] if k in AT_REST_KNOWN else [])
    for k in _kinds()])
def test_no_canary_in_clear_at_rest(world, kind):
    planted = [c for c in world.canaries.values() if c.kind == kind]
    assert planted, f"nothing of kind {kind} was planted"
    assert not _at_rest_hits(world).get(kind), _at_rest_hits(world)[kind][:10]


def test_no_generically_planted_canary_in_clear_at_rest(world):
    """Every crypto.REGISTRY field the explicit planting did not reach, and any kind not listed above."""
    listed = set(_kinds())
    other = {k: v for k, v in _at_rest_hits(world).items() if k not in listed}
    assert not other, other


# ---------------------------------------------------------------------------
# The suite itself
# ---------------------------------------------------------------------------


def test_the_world_is_visible_to_those_who_may_read_it(world):
    """Not vacuous: the fully entitled readers do receive canaries of every level through the pages."""
    officer = world.readers["officer_l2"]
    seen: set[str] = set()
    for url in ["/briefings", *[f"/briefings/{b}" for b in world.ids["briefing_id"]],
                *[f"/minutes/{m}" for m in world.ids["minutes_id"]], *[f"/feedback/{i}" for i in world.ids["item_id"]],
                *[f"/officer/consult/{c}" for c in world.ids["case_id"]]]:
        seen |= probe.tokens_in(probe.text_of(officer.client.get(url))[0])
    levels = {world.canaries[t].label.split(":")[0] for t in seen if t in world.canaries}
    assert {"0", "1", "2"} <= levels, levels
    kinds = {world.canaries[t].kind for t in seen}
    assert {"briefing.title", "briefing.body", "minutes.section.body", "feedback.text"} <= kinds, kinds
    desk = world.readers["desk"]
    seen_desk = probe.tokens_in(probe.text_of(desk.client.get(f"/officer/consult/{world.ids['case_id'][0]}"))[0])
    assert any(world.canaries[t].kind == "desk.case_text" for t in seen_desk)
    staff = world.readers["staff_cert"]
    portal = set()
    for m in world.ids["minutes_id"]:
        portal |= probe.tokens_in(probe.text_of(staff.client.get(f"/portal/minutes/{m}"))[0])
    assert any(world.canaries[t].kind == "minutes.section.body" for t in portal), "the portal minutes show nothing"


def test_the_suite_reports_an_output_that_skips_the_gate(world, monkeypatch):
    """A route that returns a level-2 canary to everyone is reported for every reader not entitled to it."""
    secret = next(t for t, c in world.canaries.items() if c.kind == "briefing.body" and c.label.startswith("2:"))
    case = next(c for c in ROUTES if c.endpoint == "health.healthz")
    monkeypatch.setitem(world.app.view_functions, "health.healthz", lambda: f"ok {secret}")
    found, _seen = probe.run_route(world.app, world, case)
    flagged = {line.split()[0] for line in found}
    entitled = {k for k, r in world.readers.items() if world.may_hold(r.user_id, secret)}
    # the author, and the certified, cleared, listed company reader it is released to; no one else
    assert entitled == {"officer_l2", "staff_cert"}, entitled
    assert flagged == set(world.readers) - entitled, flagged


def test_the_suite_reports_a_list_whose_filter_is_bypassed(world, monkeypatch):
    """The policy's SQL filter replaced by "everything": the briefing list leaks, and the suite says so."""
    from sqlalchemy import true

    from clearance import policy

    monkeypatch.setattr(policy, "readable_clause", lambda spec, subject, now: true())
    case = next(c for c in ROUTES if c.endpoint == "briefings.index")
    found, _seen = probe.run_route(world.app, world, case, readers=["officer_none", "officer_l1"])
    assert any(line.startswith("officer_none") and "briefing.title" in line for line in found), found[:5]
    assert any(line.startswith("officer_l1") and "label 2:" in line for line in found), found[:5]
