"""In the browser: an officer takes back one invitation from a dialogue's invitation list (disclosure,
reason, confirm), then changes "this and all following" dialogues of a series from the edit form.
No script is needed for either, and no page breaks the Content-Security-Policy."""

from __future__ import annotations

import re
from datetime import timedelta

from clearance.auth.models import UserAccount
from clearance.db import db
from dialogue.meetings import service
from dialogue.meetings.models import Dialogue, Invitation
from tests.browser.steps import sign_in, submit_password
from tests.meetings.conftest import soon, world  # noqa: F401  (the fixture)
from tests.meetings.helpers import invite


def _series(app, world, n: int = 4) -> list[str]:  # noqa: F811
    start = soon(days=10)
    with app.test_request_context():
        data = service.DialogueInput(format="supply_chain", counterpart_id=world.chain, title="半導体 月例対話",
                                     start_local=start, end_local=start + timedelta(hours=2),
                                     host_ids=[world.officer.id], venue="経済産業省 本館17階", seat_limit=2,
                                     agenda=["リスク認識の共有", "価格転嫁"])
        made = service.create_dialogues(db.session, db.session.get(UserAccount, world.officer.id), data,
                                        f"FREQ=WEEKLY;COUNT={n}")
        db.session.commit()
        return [d.id for d in made]


def test_officer_withdraws_an_invitation_and_edits_the_rest_of_the_series(page, live_server, world, shoot):  # noqa: F811
    app = live_server.app
    ids = _series(app, world)
    invite(app, world.officer.id, ids[0], service.InviteFilter(group_id=world.chain))
    with app.app_context():
        db.session.get(Dialogue, ids[3]).status = "held"  # as if it had taken place: the series edit skips it
        db.session.commit()
        b_inv = db.session.execute(db.select(Invitation.id).where(Invitation.dialogue_id == ids[0],
                                                                  Invitation.user_id == world.b_member.id)).scalar_one()

    sign_in(page, world.officer)
    page.goto(f"/dialogues/{ids[0]}")
    row = page.locator("tr", has=page.locator(f"form[action$='/invitations/{b_inv}/revoke']"))
    row.locator("summary").click()
    row.locator("textarea[name=reason]").fill("サプライチェーンの対象外の企業に誤って送付しました。")
    page.locator("#invitations").scroll_into_view_if_needed()
    shoot(page, "meetings-revoke-open", publish=False)
    row.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/dialogues/{ids[0]}#invitations$"))
    assert "招待を取り消しました" in page.inner_text("main")
    assert "経済産業省が取り消し" in page.inner_text("#invitations")
    assert page.locator(f"form[action$='/invitations/{b_inv}/revoke']").count() == 0
    shoot(page, "meetings-invitations-after-revoke", publish=False)
    page.guard.assert_clean()

    page.goto(f"/dialogues/{ids[0]}/edit")
    assert page.is_checked("input[name=scope][value=one]")
    page.check("input[name=scope][value=following]")
    page.fill("#title", "半導体 月例対話（改）")
    start = soon(days=10)
    page.fill("#start", start.replace(hour=15).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#end", start.replace(hour=16, minute=30).strftime("%Y-%m-%dT%H:%M"))
    shoot(page, "meetings-series-edit", publish=False)
    page.click("form.dlg-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/dialogues/{ids[0]}$"))
    text = page.inner_text("main")
    assert "以降の対話2件を変更しました" in text and "1件は" in text
    page.guard.assert_clean()
    with app.app_context():
        titles = [db.session.get(Dialogue, i).title for i in ids]
    assert titles == ["半導体 月例対話（改）"] * 3 + ["半導体 月例対話"]

    # The company sees it withdrawn, read-only: no answer buttons, no place, no calendar file.
    page.context.clear_cookies()
    submit_password(page, world.b_member)
    page.wait_for_url(re.compile(r"/portal$"))
    page.goto(f"/portal/dialogues/{b_inv}")
    main = page.inner_text("main")
    assert "経済産業省により取り消されました" in main and "誤って送付しました" in main
    assert "本館17階" not in main and page.locator("button[name=answer]").count() == 0
    assert page.locator("a[href$='/dialogue.ics']").count() == 0
    shoot(page, "meetings-portal-revoked", publish=False)
    page.guard.assert_clean()
