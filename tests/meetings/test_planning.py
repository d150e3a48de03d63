"""Planning: validation, series by RRULE, the double-booking warning, status changes, time zones."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from clearance.auth.models import UserAccount
from clearance.db import db
from dialogue.meetings import series, service, times
from dialogue.meetings.models import Dialogue, DialogueSeries
from tests.factories import audit_summaries
from tests.meetings.conftest import soon
from tests.meetings.helpers import notifier, plan


def _input(world, start, **kw):
    return service.DialogueInput(format="supply_chain", counterpart_id=world.chain, title="連続対話",
                                 start_local=start, end_local=start + timedelta(hours=2),
                                 host_ids=[world.officer.id], **kw)


def test_planned_dialogue_is_stored_in_utc_with_its_zone_and_audited(app, world):
    start = soon()
    did = plan(app, world.officer.id, counterpart=world.chain, start=start, agenda=["現状共有", "意見交換"])
    with app.app_context():
        d = db.session.get(Dialogue, did)
        assert d.starts_at == start - timedelta(hours=9)  # Tokyo is UTC+9 all year
        assert d.time_zone == "Asia/Tokyo" and d.status == "planned" and d.level == 0
        assert [a.title for a in d.agenda] == ["現状共有", "意見交換"]
    assert "Dialogue planned" in audit_summaries(app)


def test_counterpart_must_match_the_format(app, world):
    with app.app_context(), pytest.raises(service.Refused) as exc:
        actor = db.session.get(UserAccount, world.officer.id)
        service.create_dialogues(db.session, actor, service.DialogueInput(
            format="technology", counterpart_id=world.chain, title="x", start_local=soon(),
            end_local=soon() + timedelta(hours=1), host_ids=[world.officer.id]))
    assert exc.value.code == "counterpart"


def test_company_user_cannot_be_a_host(app, world):
    with app.app_context(), pytest.raises(service.Refused) as exc:
        data = _input(world, soon())
        data.host_ids = [world.a_member.id]
        service.plan(db.session, data)
    assert exc.value.code == "host"


def test_every_third_wednesday_makes_a_linked_series(app, world):
    start = datetime(2031, 1, 1, 14, 0)
    with app.test_request_context():
        actor = db.session.get(UserAccount, world.officer.id)
        made = service.create_dialogues(db.session, actor, _input(world, start), "FREQ=MONTHLY;BYDAY=3WE;COUNT=4")
        db.session.commit()
        starts = [times.to_local(d.starts_at, d.time_zone) for d in made]
        assert [s.date().isoformat() for s in starts] == ["2031-01-15", "2031-02-19", "2031-03-19", "2031-04-16"]
        assert all(s.weekday() == 2 and s.hour == 14 for s in starts)
        assert len({d.series_id for d in made}) == 1
        assert db.session.get(DialogueSeries, made[0].series_id).rule == "FREQ=MONTHLY;BYDAY=3WE;COUNT=4"


def test_series_keeps_wall_clock_time_across_daylight_saving(app, world):
    with app.test_request_context():
        actor = db.session.get(UserAccount, world.officer.id)
        data = _input(world, datetime(2031, 3, 17, 10, 0), time_zone="Europe/Berlin")
        made = service.create_dialogues(db.session, actor, data, "FREQ=WEEKLY;COUNT=3")
        utc_hours = [d.starts_at.hour for d in made]
        local_hours = [times.to_local(d.starts_at, "Europe/Berlin").hour for d in made]
    assert local_hours == [10, 10, 10]
    assert utc_hours == [9, 9, 8]  # CET until 30 March 2031, then CEST


@pytest.mark.parametrize("rule, code", [
    ("FREQ=SOMETIMES", "syntax"),
    ("every third wednesday", "syntax"),
    ("DTSTART:20300101T000000\nRRULE:FREQ=DAILY", "syntax"),
    ("FREQ=HOURLY;COUNT=3", "too_often"),
    ("FREQ=WEEKLY", "too_many"),
    ("FREQ=DAILY;COUNT=100", "too_many"),
    ("FREQ=WEEKLY;UNTIL=20300101T000000Z", "until_utc"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "empty"),
])
def test_bad_repeat_rules_get_a_friendly_refusal(rule, code):
    with pytest.raises(series.SeriesError) as exc:
        series.expand(rule, datetime(2030, 6, 4, 14, 0))
    assert exc.value.code == code


def test_monthly_preset_repeats_the_weekday_of_the_month():
    assert series.preset_rule("monthly_nth", datetime(2030, 6, 19, 14), 6) == "FREQ=MONTHLY;BYDAY=3WE;COUNT=6"
    assert series.preset_rule("monthly_nth", datetime(2030, 1, 29, 14), 2) == "FREQ=MONTHLY;BYDAY=-1TU;COUNT=2"


def test_double_booking_a_host_is_reported_before_saving(app, world):
    start = soon(days=20)
    plan(app, world.officer.id, counterpart=world.chain, start=start, title="先約")
    with app.app_context():
        overlapping = service.plan(db.session, _input(world, start + timedelta(hours=1)))
        next_day = service.plan(db.session, _input(world, start + timedelta(days=1)))
        other_host = service.plan(db.session, service.DialogueInput(
            format="supply_chain", counterpart_id=world.chain, title="x", start_local=start,
            end_local=start + timedelta(hours=1), host_ids=[world.officer2.id]))
    assert [c.title for c in overlapping.conflicts] == ["先約"]
    assert next_day.conflicts == [] and other_host.conflicts == []


def test_cancelled_dialogue_does_not_block_its_host(app, world):
    start = soon(days=21)
    did = plan(app, world.officer.id, counterpart=world.chain, start=start)
    with app.test_request_context():
        d = db.session.get(Dialogue, did)
        service.change_status(db.session, db.session.get(UserAccount, world.officer.id), d, "cancelled", "台風",
                              notifier(app))
        db.session.commit()
        assert service.plan(db.session, _input(world, start)).conflicts == []


@pytest.mark.parametrize("start, end, code", [
    (datetime(2031, 5, 1, 10), datetime(2031, 5, 1, 9), "end_before_start"),
    (datetime(2031, 5, 1, 10), datetime(2031, 5, 3, 10), "too_long"),
])
def test_impossible_times_are_refused(app, world, start, end, code):
    with app.app_context(), pytest.raises(service.Refused) as exc:
        service.plan(db.session, service.DialogueInput(format="supply_chain", counterpart_id=world.chain, title="x",
                                                       start_local=start, end_local=end, host_ids=[world.officer.id]))
    assert exc.value.code == code


def test_a_time_skipped_by_daylight_saving_is_refused(app, world):
    start = datetime(2031, 3, 9, 2, 30)  # New York springs forward from 02:00 to 03:00
    with app.app_context(), pytest.raises(service.Refused) as exc:
        service.plan(db.session, _input(world, start, time_zone="America/New_York"))
    assert exc.value.code == "nonexistent_time"


def test_status_needs_a_reason_to_cancel_and_cannot_be_held_before_it_starts(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon())
    with app.test_request_context():
        actor = db.session.get(UserAccount, world.officer.id)
        d = db.session.get(Dialogue, did)
        for new, reason, code in (("cancelled", "  ", "reason_required"), ("held", "", "not_started"),
                                  ("closed", "", "transition")):
            with pytest.raises(service.Refused) as exc:
                service.change_status(db.session, actor, d, new, reason, notifier(app))
            assert exc.value.code == code


def test_midnight_in_tokyo_is_the_previous_day_in_utc_and_abroad():
    stored = times.to_utc(datetime(2031, 3, 1, 0, 30), "Asia/Tokyo")
    assert stored == datetime(2031, 2, 28, 15, 30)
    shown = times.show(stored, "Asia/Tokyo", "America/New_York", "en")
    assert "1 Mar 2031, 00:30" in shown.local and "UTC+09:00" in shown.zone
    assert "28 Feb 2031, 10:30" in shown.viewer and shown.viewer_zone == "America/New_York"
    assert times.show(stored, "Asia/Tokyo", "Asia/Tokyo", "ja").viewer is None


def test_viewer_in_europe_sees_the_tokyo_morning_as_the_night_before():
    stored = times.to_utc(datetime(2031, 7, 10, 8, 0), "Asia/Tokyo")  # 23:00 UTC on 9 July
    shown = times.show(stored, "Asia/Tokyo", "Europe/London", "ja")
    assert "2031年7月10日" in shown.local and "8:00" in shown.local
    assert "2031年7月10日" in shown.viewer and "0:00" in shown.viewer  # BST, UTC+1: just past midnight
    assert times.show(stored, "Asia/Tokyo", "America/Los_Angeles", "en").viewer.startswith("Wed 9 Jul 2031, 16:00")
