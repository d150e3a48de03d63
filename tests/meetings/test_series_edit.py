"""Editing "this and all following" dialogues of a series: wall-clock time of day in each dialogue's
own zone across daylight saving, skipped statuses, only changed fields, double-booking, invitees."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.outbox import MailMessage
from dialogue.meetings import service, times
from dialogue.meetings.models import Dialogue, Invitation
from dialogue.portal.models import Notification
from tests.factories import audit_summaries, csrf, sign_in
from tests.meetings.conftest import soon
from tests.meetings.helpers import invite, notifier, plan


def _series(app, world, first: datetime, rule: str, *, tz: str = "Asia/Tokyo", hours: float = 2, **kw) -> list[str]:
    with app.test_request_context():
        data = service.DialogueInput(format="supply_chain", counterpart_id=world.chain, title="月例対話",
                                     start_local=first, end_local=first + timedelta(hours=hours), time_zone=tz,
                                     host_ids=[world.officer.id], **kw)
        made = service.create_dialogues(db.session, db.session.get(UserAccount, world.officer.id), data, rule)
        db.session.commit()
        return [d.id for d in made]


def _edit(app, world, did, following=True, **changes) -> service.SeriesResult | None:
    """Change a dialogue through the service as the edit form would: its current values plus changes."""
    with app.test_request_context():
        d = db.session.get(Dialogue, did)
        data = replace(service.input_of(db.session, d), **changes)
        actor = db.session.get(UserAccount, world.officer.id)
        try:
            if following:
                result = service.update_series(db.session, actor, d, data, notifier(app))
            else:
                service.edit_dialogue(db.session, actor, d, data, notifier(app))
                result = None
            db.session.commit()
            return result
        except service.Refused:
            db.session.rollback()
            raise


def _local(app, ids):
    """[(local start, local end, UTC start)] of each dialogue, in its own zone."""
    with app.app_context():
        out = []
        for i in ids:
            d = db.session.get(Dialogue, i)
            out.append((times.local_input(d.starts_at, d.time_zone), times.local_input(d.ends_at, d.time_zone),
                        d.starts_at))
        return out


def _at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


@pytest.mark.parametrize("tz, utc_hours", [
    ("America/New_York", [16, 15, 15]),  # EST (UTC−5) on 3 March 2031, EDT (UTC−4) from 9 March
    ("Asia/Tokyo", [2, 2, 2]),  # no daylight saving: the same UTC hour every week
])
def test_a_new_time_of_day_is_wall_clock_in_each_dialogue_s_zone(app, world, tz, utc_hours):
    ids = _series(app, world, datetime(2031, 3, 3, 10, 0), "FREQ=WEEKLY;COUNT=3", tz=tz)
    before = _local(app, ids)
    result = _edit(app, world, ids[0], start_local=datetime(2031, 3, 3, 11, 0),
                   end_local=datetime(2031, 3, 3, 12, 30))
    assert result.changed == ids[1:] and result.skipped == 0
    after = _local(app, ids)
    for (old_start, _e, _u), (start, end, _utc) in zip(before, after, strict=True):
        assert start == _at(old_start, 11) and end == _at(old_start, 12, 30)  # same date, new time and length
    assert [utc.hour for _s, _e, utc in after] == utc_hours


def test_on_the_day_the_clocks_change_the_shift_is_not_a_fixed_utc_delta(app, world):
    """00:30 → 03:00 on 9 March 2031 in New York is 07:00 UTC; 2½ hours added in UTC would be 04:00 local."""
    ids = _series(app, world, datetime(2031, 3, 8, 0, 30), "FREQ=DAILY;COUNT=3", tz="America/New_York", hours=1)
    _edit(app, world, ids[0], start_local=datetime(2031, 3, 8, 3, 0), end_local=datetime(2031, 3, 8, 4, 0))
    after = _local(app, ids)
    assert [(s.day, s.hour) for s, _e, _u in after] == [(8, 3), (9, 3), (10, 3)]
    assert after[1][2] == datetime(2031, 3, 9, 7, 0)


def test_a_time_the_clocks_skip_on_a_later_date_is_refused_naming_it_and_nothing_is_saved(app, world):
    ids = _series(app, world, datetime(2031, 3, 8, 0, 30), "FREQ=DAILY;COUNT=3", tz="America/New_York", hours=1)
    before = _local(app, ids)
    with pytest.raises(service.Refused) as exc:
        _edit(app, world, ids[0], title="新しい題", start_local=datetime(2031, 3, 8, 2, 30),
              end_local=datetime(2031, 3, 8, 3, 30))
    assert exc.value.code == "nonexistent_time" and exc.value.values["on"] == date(2031, 3, 9)
    assert _local(app, ids) == before
    with app.app_context():
        assert {db.session.get(Dialogue, i).title for i in ids} == {"月例対話"}


def test_held_closed_cancelled_and_postponed_dialogues_are_skipped_and_counted(app, world):
    ids = _series(app, world, soon(days=7), "FREQ=WEEKLY;COUNT=6")
    with app.test_request_context():
        actor = db.session.get(UserAccount, world.officer.id)
        for i, status in ((ids[2], "held"), (ids[3], "closed")):
            db.session.get(Dialogue, i).status = status  # as if they had already taken place
        service.change_status(db.session, actor, db.session.get(Dialogue, ids[4]), "cancelled", "台風", notifier(app))
        service.change_status(db.session, actor, db.session.get(Dialogue, ids[5]), "postponed", "調整中", notifier(app))
        db.session.commit()
    before = _local(app, ids)
    result = _edit(app, world, ids[0], title="改題", start_local=_at(before[0][0], 16),
                   end_local=_at(before[0][0], 17))
    assert result.changed == [ids[1]] and result.skipped == 4
    with app.app_context():
        titles = [db.session.get(Dialogue, i).title for i in ids]
    assert titles == ["改題", "改題", "月例対話", "月例対話", "月例対話", "月例対話"]
    after = _local(app, ids)
    assert [s.hour for s, _e, _u in after[:2]] == [16, 16]
    assert after[2:] == before[2:]  # untouched, time included
    assert "Dialogue series changed" in audit_summaries(app)


def test_only_the_fields_changed_here_reach_the_others(app, world):
    ids = _series(app, world, soon(days=7), "FREQ=WEEKLY;COUNT=3", venue="本館", agenda=["現状", "課題"])
    _edit(app, world, ids[1], following=False, venue="別館 (この回だけ)")
    _edit(app, world, ids[0], purpose="サプライチェーンの強靱化", agenda=["現状", "課題", "次回"])
    with app.app_context():
        second, third = db.session.get(Dialogue, ids[1]), db.session.get(Dialogue, ids[2])
        assert second.venue == "別館 (この回だけ)" and third.venue == "本館"  # the venue was not changed here
        assert second.purpose == third.purpose == "サプライチェーンの強靱化"
        assert [a.title for a in third.agenda] == ["現状", "課題", "次回"]
    _edit(app, world, ids[0], venue="新館")
    with app.app_context():
        assert {db.session.get(Dialogue, i).venue for i in ids} == {"新館"}


def test_this_dialogue_only_leaves_the_rest_of_the_series_alone(app, world):
    ids = _series(app, world, soon(days=7), "FREQ=WEEKLY;COUNT=3")
    before = _local(app, ids)
    _edit(app, world, ids[0], following=False, title="一回限りの題", start_local=_at(before[0][0], 9),
          end_local=_at(before[0][0], 10))
    with app.app_context():
        assert [db.session.get(Dialogue, i).title for i in ids] == ["一回限りの題", "月例対話", "月例対話"]
    assert _local(app, ids)[1:] == before[1:]


def test_editing_a_middle_dialogue_leaves_the_earlier_ones(app, world):
    ids = _series(app, world, soon(days=7), "FREQ=WEEKLY;COUNT=4")
    result = _edit(app, world, ids[1], title="後半")
    assert result.changed == ids[2:]
    with app.app_context():
        assert [db.session.get(Dialogue, i).title for i in ids] == ["月例対話", "後半", "後半", "後半"]


def test_hosts_double_booked_on_a_later_date_are_reported_before_saving(app, world):
    ids = _series(app, world, soon(days=7, hour=10), "FREQ=WEEKLY;COUNT=3")
    later = _local(app, ids)[2][0]
    plan(app, world.officer2.id, counterpart=world.chain, start=_at(later, 15), title="先約の会議",
         host_ids=[world.officer2.id])
    first = _local(app, ids)[0][0]
    with app.test_request_context():
        d = db.session.get(Dialogue, ids[0])
        data = replace(service.input_of(db.session, d), host_ids=[world.officer.id, world.officer2.id],
                       start_local=_at(first, 14), end_local=_at(first, 16))
        edit = service.plan_series_edit(db.session, db.session.get(UserAccount, world.officer.id), d, data)
        assert [c.title for c in edit.conflicts] == ["先約の会議"]
        # The same clash is not reported for "this dialogue only": it is on another date.
        assert service.plan(db.session, data, exclude=[d.id]).conflicts == []


def test_series_form_warns_of_a_clash_then_saves_when_confirmed(app, world):
    ids = _series(app, world, soon(days=7, hour=10), "FREQ=WEEKLY;COUNT=3")
    later = _local(app, ids)[2][0]
    plan(app, world.officer2.id, counterpart=world.chain, start=_at(later, 10), title="先約の会議",
         host_ids=[world.officer2.id])
    c = app.test_client()
    assert sign_in(c, world.officer).status_code == 302
    page = c.get(f"/dialogues/{ids[0]}/edit").get_data(as_text=True)
    assert 'name="scope"' in page and 'value="following"' in page
    first = _local(app, ids)[0]
    form = {"csrf_token": csrf(c, f"/dialogues/{ids[0]}/edit"), "format": "supply_chain", "group_id": world.chain,
            "title": "月例対話", "start": first[0].strftime("%Y-%m-%dT%H:%M"),
            "end": first[1].strftime("%Y-%m-%dT%H:%M"), "time_zone": "Asia/Tokyo",
            "hosts": [world.officer.id, world.officer2.id], "level": "0", "scope": "following"}
    warned = c.post(f"/dialogues/{ids[0]}/edit", data=form)
    assert warned.status_code == 200 and "先約の会議" in warned.get_data(as_text=True)
    with app.app_context():
        assert [h.id for h in service.hosts_of(db.session, ids[2])] == [world.officer.id]  # nothing saved yet
    saved = c.post(f"/dialogues/{ids[0]}/edit", data={**form, "confirm_overlap": "y"})
    assert saved.status_code == 302
    assert "2" in c.get(saved.headers["Location"]).get_data(as_text=True)  # "…and 2 following dialogue(s)…"
    with app.app_context():
        assert all({h.id for h in service.hosts_of(db.session, i)} == {world.officer.id, world.officer2.id}
                   for i in ids)


def test_invitees_of_dialogues_whose_time_changed_get_an_updated_calendar_entry(app, world):
    ids = _series(app, world, soon(days=7), "FREQ=WEEKLY;COUNT=3")
    invite(app, world.officer.id, ids[2], service.InviteFilter(company_id=world.b))
    with app.app_context():
        sequence = db.session.get(Dialogue, ids[2]).sequence
    first = _local(app, ids)[0][0]
    with app.test_request_context():
        d = db.session.get(Dialogue, ids[0])
        data = replace(service.input_of(db.session, d), start_local=_at(first, 15), end_local=_at(first, 17))
        service.update_series(db.session, db.session.get(UserAccount, world.officer.id), d, data, notifier(app))
        db.session.flush()  # read the queued mail before commit: delivery blanks the bodies
        mails = db.session.execute(select(MailMessage).where(MailMessage.to_addr == world.b_member.email,
                                                             MailMessage.sent_at.is_(None))).scalars().all()
        assert len(mails) == 1 and mails[0].attachment_type == "text/calendar; method=REQUEST"
        assert "15:00" in mails[0].body
        assert db.session.get(Dialogue, ids[2]).sequence == sequence + 1
        db.session.commit()
        assert db.session.execute(select(Notification.kind).where(Notification.user_id == world.b_member.id)
                                  ).scalars().all() == ["invitation", "update"]


def test_raising_the_level_treats_invitations_as_a_single_edit_does(app, world):
    """A single edit raises the level and leaves existing invitations as they are (the portal then hides
    the dialogue from anyone not cleared for it); "this and following" must do exactly the same."""
    single = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=3))
    ids = _series(app, world, soon(days=7), "FREQ=WEEKLY;COUNT=3")
    for did in (single, ids[1]):
        invite(app, world.officer.id, did, service.InviteFilter(company_id=world.b))
    _edit(app, world, single, following=False, level=1)
    _edit(app, world, ids[0], level=1)
    with app.app_context():
        assert {db.session.get(Dialogue, i).level for i in [single, *ids]} == {1}
        rows = db.session.execute(select(Invitation.dialogue_id, Invitation.status)
                                  .where(Invitation.dialogue_id.in_([single, ids[1]]))).all()
        assert sorted(status for _d, status in rows) == ["pending", "pending"]
    b = app.test_client()
    sign_in(b, world.b_member)
    with app.app_context():
        inv = db.session.execute(select(Invitation.id).where(Invitation.dialogue_id == ids[1])).scalar_one()
    assert b.get(f"/portal/dialogues/{inv}").status_code == 404  # not cleared for level 1


def test_changing_the_time_zone_for_the_following_is_refused(app, world):
    ids = _series(app, world, soon(days=7), "FREQ=WEEKLY;COUNT=2")
    with pytest.raises(service.Refused) as exc:
        _edit(app, world, ids[0], time_zone="Europe/Berlin")
    assert exc.value.code == "series_zone"


def test_a_new_time_that_would_move_a_later_dialogue_to_another_day_is_refused(app, world):
    ids = _series(app, world, soon(days=7, hour=20), "FREQ=WEEKLY;COUNT=3", hours=1)
    _edit(app, world, ids[1], following=False, start_local=_at(_local(app, ids)[1][0], 23),
          end_local=_at(_local(app, ids)[1][0], 23, 30))  # this one was moved late on its own
    first = _local(app, ids)[0][0]
    with pytest.raises(service.Refused) as exc:
        _edit(app, world, ids[0], start_local=_at(first, 22), end_local=_at(first, 23))  # +2h: 23:00 → 01:00
    assert exc.value.code == "series_day_change" and exc.value.values["on"] == _local(app, ids)[1][0].date()


def test_edit_form_of_a_single_dialogue_has_no_series_choice_and_bad_scope_is_a_400(app, world):
    single = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=3))
    ids = _series(app, world, soon(days=7), "FREQ=WEEKLY;COUNT=2")
    c = app.test_client()
    sign_in(c, world.officer)
    assert 'name="scope"' not in c.get(f"/dialogues/{single}/edit").get_data(as_text=True)
    first = _local(app, ids)[0]
    resp = c.post(f"/dialogues/{ids[0]}/edit", data={
        "csrf_token": csrf(c, f"/dialogues/{ids[0]}/edit"), "format": "supply_chain", "group_id": world.chain,
        "title": "変更", "start": first[0].strftime("%Y-%m-%dT%H:%M"), "end": first[1].strftime("%Y-%m-%dT%H:%M"),
        "time_zone": "Asia/Tokyo", "hosts": world.officer.id, "level": "0", "scope": "everything"})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.get(Dialogue, ids[0]).title == "月例対話"


def test_a_refusal_on_a_later_date_shows_on_the_form_with_its_date(app, world):
    ids = _series(app, world, datetime(2031, 3, 8, 0, 30), "FREQ=DAILY;COUNT=3", tz="America/New_York", hours=1)
    c = app.test_client()
    sign_in(c, world.officer)
    resp = c.post(f"/dialogues/{ids[0]}/edit", data={
        "csrf_token": csrf(c, f"/dialogues/{ids[0]}/edit"), "format": "supply_chain", "group_id": world.chain,
        "title": "月例対話", "start": "2031-03-08T02:30", "end": "2031-03-08T03:30", "time_zone": "America/New_York",
        "hosts": world.officer.id, "level": "0", "scope": "following"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "2031/03/09" in html or "2031年3月9日" in html
    with app.app_context():
        assert times.local_input(db.session.get(Dialogue, ids[0]).starts_at, "America/New_York").hour == 0


def test_a_series_edit_never_reaches_a_dialogue_raised_above_the_officers_clearance(app, world):
    """Given a level-1 series whose fourth dialogue a level-2 officer raised to level 2, when an officer
    cleared to level 1 lowers the first to level 0 for "this and all following", then the raised one
    keeps its level, title and purpose, and is not even counted."""
    from tests.clearance.helpers import grant

    grant(app, world.officer.id, level=1)
    grant(app, world.officer2.id, level=2)
    ids = _series(app, world, soon(days=7, hour=10), "FREQ=WEEKLY;COUNT=4", level=1, purpose="共通の目的")
    with app.test_request_context():  # the level-2 officer raises the fourth on its own
        d = db.session.get(Dialogue, ids[3])
        data = replace(service.input_of(db.session, d), level=2, title="格上げされた対話", purpose="秘匿の目的")
        service.edit_dialogue(db.session, db.session.get(UserAccount, world.officer2.id), d, data, notifier(app))
        db.session.commit()
    with app.test_request_context():
        actor = db.session.get(UserAccount, world.officer.id)
        first = db.session.get(Dialogue, ids[0])
        assert service.series_outlook(db.session, actor, first) == (2, 0)
    result = _edit(app, world, ids[0], level=0, title="公開の対話")
    assert len(result.changed) == 2
    with app.app_context():
        raised = db.session.get(Dialogue, ids[3])
        assert (raised.level, raised.title, raised.purpose) == (2, "格上げされた対話", "秘匿の目的")
        assert [db.session.get(Dialogue, i).level for i in ids[:3]] == [0, 0, 0]


def test_a_new_level_reaches_only_the_dialogues_that_shared_the_old_one(app, world):
    from tests.clearance.helpers import grant

    grant(app, world.officer.id, level=2)
    ids = _series(app, world, soon(days=7, hour=10), "FREQ=WEEKLY;COUNT=3", level=0)
    _edit(app, world, ids[2], following=False, level=1)  # raised on its own
    _edit(app, world, ids[0], level=2)
    with app.app_context():
        assert [db.session.get(Dialogue, i).level for i in ids] == [2, 2, 1]
