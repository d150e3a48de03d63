"""Titles are material too (issue 11): a classified dialogue's title, venue, online link and agenda titles,
and a classified briefing's title, are sealed at the object's level. Nothing of them is in the raw database
(SQLite file and WAL, or a pg_dump); the lists show them to readers who may read the object, and of an
object they may not read show nothing at all: no title, no placeholder, no link, no search hit."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, quote, urlparse

from clearance.db import db
from clearance.permissions import Role
from dialogue.briefings.models import Briefing
from dialogue.meetings.models import Dialogue
from tests.clearance.helpers import briefing, grant
from tests.crypto import population
from tests.factories import csrf, sign_in
from tests.meetings.conftest import soon


def _client(app, person):
    c = app.test_client()
    assert sign_in(c, person).status_code == 302
    return c


def _shown(client, path: str) -> str:
    """The page, less what the reader typed (the search field and the pager echo the query)."""
    resp = client.get(path)
    assert resp.status_code == 200, path
    typed = parse_qs(urlparse(path).query).get("q", [""])[0]
    return resp.get_data(as_text=True).replace(typed, "") if typed else resp.get_data(as_text=True)


def _plan_level_1(app, world, officer, marker: str) -> str:
    """Through the planning page, as an officer would: title, venue, link and agenda carry the canary."""
    page = "/dialogues/new"
    start = soon(days=9)
    resp = officer.post(page, data={
        "csrf_token": csrf(officer, page), "format": "supply_chain", "group_id": world.chain,
        "title": f"{marker} 技術流出対策(限定)", "purpose": "限定の目的", "venue": f"{marker} 本館17階 第1会議室",
        "online_url": f"https://meet.example.go.jp/{marker}", "region": "kanto",
        "start": start.strftime("%Y-%m-%dT%H:%M"), "end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "time_zone": "Asia/Tokyo", "hosts": world.officer.id, "level": "1", "agenda": f"{marker} 議題その一",
        "confirm_overlap": "y"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return resp.headers["Location"].rsplit("/", 1)[-1]


def test_classified_titles_venues_links_are_nowhere_in_the_raw_database(app, world):
    marker, bmarker = population.canary("DLG"), population.canary("BRF")
    grant(app, world.officer.id, 2)
    officer = _client(app, world.officer)
    did = _plan_level_1(app, world, officer, marker)
    bid = briefing(app, title=f"{bmarker} 重要経済安保 briefing", level=2, handlers=[world.officer.id],
                   designator_id=world.officer.id)
    # the pages still show them to the cleared officer (so the canary went in, and comes out where it may)
    page = officer.get(f"/dialogues/{did}").get_data(as_text=True)
    assert f"{marker} 技術流出対策(限定)" in page and f"{marker} 本館17階" in page and f"{marker} 議題その一" in page
    assert f"https://meet.example.go.jp/{marker}" in page
    assert f"{bmarker} 重要経済安保 briefing" in officer.get(f"/briefings/{bid}").get_data(as_text=True)
    with app.app_context():
        d = db.session.get(Dialogue, did)
        assert (d.title, d.venue, d.online_url) == (f"{marker} 技術流出対策(限定)", f"{marker} 本館17階 第1会議室",
                                                    f"https://meet.example.go.jp/{marker}")
        assert [a.title for a in d.agenda] == [f"{marker} 議題その一"]
        assert db.session.get(Briefing, bid).title == f"{bmarker} 重要経済安保 briefing"
        # the raw database: SQLite file and WAL (checkpointed first), or a plain pg_dump; the audit log is in it
        assert population.hits(db.engine, [marker, bmarker]) == []
        db.session.remove()
        db.engine.dispose()


def test_the_database_grep_finds_a_title_written_in_clear(app, world):
    """The grep can fail: the same canary written into a plaintext column is found."""
    marker = population.canary("DLG")
    with app.app_context():
        db.session.execute(db.text("UPDATE user_account SET display_name = :n WHERE id = :i"),
                           {"n": marker, "i": world.officer.id})
        db.session.commit()
        assert population.hits(db.engine, [marker]) != []
        db.session.remove()
        db.engine.dispose()


def test_lists_show_a_classified_title_only_to_readers_who_may_read_it(app, world, factory):
    marker, bmarker = population.canary("DLG"), population.canary("BRF")
    grant(app, world.officer.id, 2)
    did = _plan_level_1(app, world, _client(app, world.officer), marker)
    l2_reader = factory.person(Role.OFFICER)
    grant(app, l2_reader.id, 2)
    bid = briefing(app, title=f"{bmarker} 重要経済安保 briefing", level=2, handlers=[l2_reader.id])
    uncleared = _client(app, world.officer2)  # an officer with no clearance at all
    l1 = factory.person(Role.OFFICER)
    grant(app, l1.id, 1)
    l1_client = _client(app, l1)

    dialogue_lists = ["/dialogues", "/dialogues?period=all", f"/dialogues?period=all&q={quote(marker)}",
                      "/dialogues?period=all&q=" + quote("技術流出"), "/dialogues/upcoming"]
    briefing_lists = ["/briefings", f"/briefings?q={quote(bmarker)}", "/briefings?q=briefing"]
    for path in dialogue_lists + briefing_lists:
        body = _shown(uncleared, path)
        assert marker not in body and bmarker not in body, path
        # nothing of the object: no link, no placeholder
        assert did not in body and bid not in body, path
        assert "Classified dialogue" not in body and "秘密区分のある対話" not in body, path

    # an L1 reader sees the level-1 dialogue's title (and finds it by a word of it), not the level-2 briefing
    for path in dialogue_lists:
        body = l1_client.get(path).get_data(as_text=True)
        assert f"{marker} 技術流出対策(限定)" in body and f"/dialogues/{did}" in body, path
    assert f"{marker} 本館17階" in l1_client.get("/dialogues/upcoming").get_data(as_text=True)
    for path in briefing_lists:
        assert bmarker not in _shown(l1_client, path), path
    # the level-2 briefing's handler sees its title in the list and finds it by search
    l2 = _client(app, l2_reader)
    for path in briefing_lists:
        assert f"{bmarker} 重要経済安保 briefing" in l2.get(path).get_data(as_text=True), path
    # and a search for words not in the title finds nothing (the search decrypts, it does not guess)
    assert did not in l1_client.get("/dialogues?period=all&q=" + quote("存在しない語")).get_data(as_text=True)
    assert bid not in l2.get("/briefings?q=" + quote("存在しない語")).get_data(as_text=True)


def test_a_level_change_reseals_title_venue_link_and_agenda(app, world):
    """Raising the level re-seals every sealed field of the dialogue and of its agenda items."""
    from dataclasses import replace

    import pytest

    from clearance.auth.models import UserAccount
    from clearance.crypto import DecryptionError
    from dialogue.meetings import service
    from dialogue.meetings.models import AgendaItem
    from tests.meetings.helpers import notifier, plan

    grant(app, world.officer.id, 2)
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=8), title="公開の対話",
               venue="本館2階", online_url="https://meet.example.go.jp/x", agenda=["第一議題", "第二議題"])
    with app.test_request_context():
        d = db.session.get(Dialogue, did)
        data = replace(service.input_of(db.session, d), level=2)
        service.edit_dialogue(db.session, db.session.get(UserAccount, world.officer.id), d, data, notifier(app))
        db.session.commit()
    with app.app_context():
        d = db.session.get(Dialogue, did)
        assert (d.level, d.title, d.venue, d.online_url) == (2, "公開の対話", "本館2階", "https://meet.example.go.jp/x")
        assert [a.title for a in d.agenda] == ["第一議題", "第二議題"]
        for a in d.agenda:
            assert AgendaItem.title.open_column(a.title_ct, a.id, 2) == a.title
            with pytest.raises(DecryptionError):
                AgendaItem.title.open_column(a.title_ct, a.id, 0)  # no longer at the old level
        with pytest.raises(DecryptionError):
            Dialogue.title.open_column(d.title_ct, did, 0)
