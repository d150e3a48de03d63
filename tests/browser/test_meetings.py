"""In the browser: an officer plans a dialogue and invites one tier of a supply chain; a company
member accepts and downloads the .ics. No CSP violation on any page, the overview's charts included."""

from __future__ import annotations

import re
from datetime import timedelta

from icalendar import Calendar

from tests.browser.steps import sign_in, submit_password
from tests.meetings.conftest import soon, world  # noqa: F401  (the fixture)


def test_officer_invites_a_tier_and_a_member_accepts_and_downloads_the_ics(page, live_server, world, shoot):  # noqa: F811
    start = soon(days=21)
    sign_in(page, world.officer)
    page.click("nav.main-nav a[href='/dialogues']")
    page.wait_for_url("**/dialogues")
    page.click("a[href='/dialogues/new']")
    page.select_option("#format", "supply_chain")
    page.select_option("#group_id", world.chain)
    page.fill("#title", "パワー半導体 第3回全体対話")
    page.fill("#agenda", "リスク認識の共有\n価格転嫁\n今後の進め方")
    page.fill("#start", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#end", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#region", "kanto")
    page.fill("#venue", "経済産業省 本館17階")
    shoot(page, "meetings-plan", publish=False)
    page.click("form.dlg-form button[type=submit]")
    page.wait_for_url(re.compile(r"/dialogues/[0-9a-f-]{36}$"))
    assert "パワー半導体 第3回全体対話" in page.inner_text("h1")

    page.click("a[href$='/invite']")
    page.wait_for_url("**/invite")
    page.check("input[name=tiers][value='3']")
    page.click("form.dlg-filter button[type=submit]")
    preview = page.inner_text("#preview-title + p")
    assert "1" in preview
    table = page.inner_text("section[aria-labelledby=preview-title] table")
    assert "乙部品株式会社" in table and "甲材料株式会社" not in table
    shoot(page, "meetings-invite-preview")
    page.click("form.actions button[type=submit]")
    page.wait_for_url(re.compile(r"/dialogues/[0-9a-f-]{36}$"))
    assert "乙部品株式会社" in page.inner_text("main")
    page.guard.assert_clean()

    page.goto("/officer")
    page.wait_for_load_state("networkidle")
    for img in page.query_selector_all("img.ov-chart"):
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    shoot(page, "meetings-overview", publish=False)
    page.guard.assert_clean()

    page.context.clear_cookies()
    submit_password(page, world.b_member)
    page.wait_for_url(re.compile(r"/portal$"))
    page.click("nav.main-nav a[href='/portal/dialogues']")
    page.click("text=パワー半導体 第3回全体対話")
    page.wait_for_url(re.compile(r"/portal/dialogues/[0-9a-f-]{36}$"))
    page.click("button[value=accepted]")
    page.wait_for_selector(".dlg-reply-accepted")
    shoot(page, "meetings-portal-invitation")
    with page.expect_download() as dl:
        page.click("a[href$='/dialogue.ics']")
    cal = Calendar.from_ical(open(dl.value.path(), "rb").read())
    ev = cal.walk("VEVENT")[0]
    assert str(ev["summary"]) == "パワー半導体 第3回全体対話"
    assert ev["dtstart"].params["TZID"] == "Asia/Tokyo"
    assert ev.decoded("dtstart").replace(tzinfo=None) == start
    assert ev["attendee"].params["PARTSTAT"] == "ACCEPTED"
    page.guard.assert_clean()
