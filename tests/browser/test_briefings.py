"""Briefings in a real browser: a cleared company member reads a level-2 briefing with its banners;
an uncleared colleague at the same company sees nothing of it. Plus screenshots of the main pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clearance.permissions import Role
from tests.browser.steps import sign_in, sign_out
from tests.clearance.helpers import DEPT, briefing, certify, compartment, grant

TITLE = "SiCウェハ関連企業への出資打診の動向"
BODY = ("# 出資打診の動向\n## 一般的な傾向 [公開]\n投資ファンドを通じた出資打診が増えている。\n\n"
        "## 確認された事案\n国内コンサルティング会社を介した打診が2件確認された。")


def _world(app, factory, *, also_handlers=()):
    company = factory.company(name_ja="筑紫試験デバイス株式会社")
    certify(app, company, 2, [DEPT])
    compartment(app, "SEMI", "半導体", "Semiconductors")
    cleared = factory.person(Role.COMPANY_MEMBER, company_id=company, department=DEPT, totp=True,
                             display_name="松田 健")
    colleague = factory.person(Role.COMPANY_MEMBER, company_id=company, department=DEPT, totp=True,
                               display_name="岡田 彩")
    grant(app, cleared.id, 2, ["SEMI"])
    bid = briefing(app, title=TITLE, summary="実質的支配者が懸念国にあるファンドからの接触", body=BODY, level=2,
                   compartments=["SEMI"], handlers=[cleared.id, *also_handlers], release=[("company", company)],
                   tags=[("risk", "technology_acquisition"), ("sector", "semiconductors")])
    briefing(app, title="海外子会社を通じた技術流出の典型例", summary="手口と最低限の対策", release=[("all", "")])
    return bid, cleared, colleague


def test_cleared_member_reads_a_level_two_briefing_and_an_uncleared_colleague_sees_nothing(page, factory,
                                                                                           live_server, shoot):
    bid, cleared, colleague = _world(live_server.app, factory)

    sign_in(page, cleared)
    page.click("nav.main-nav a[href='/briefings']")
    expect(page).to_have_url(re.compile(r"/briefings$"))
    expect(page.locator(".briefing-list")).to_contain_text(TITLE)
    shoot(page, "briefings-list", publish=False)

    page.click(f"text={TITLE}")
    expect(page).to_have_url(re.compile(rf"/briefings/{bid}$"))
    banners = page.locator(".classification")
    expect(banners).to_have_count(2)
    expect(banners.first).to_contain_text("重要経済安保情報 // SEMI")
    expect(banners.last).to_contain_text("CRITICAL ECONOMIC SECURITY INFORMATION // SEMI")
    # first banner above the title, last one below the text
    top = banners.first.bounding_box()["y"]
    bottom = banners.last.bounding_box()["y"]
    title = page.locator("main h1").bounding_box()["y"]
    assert top < title < page.locator(".briefing-body").bounding_box()["y"] < bottom
    expect(page.locator(".designation")).to_contain_text("経安-2025-001")
    expect(page.locator(".portion-mark").first).to_have_text("(重要)")
    expect(page.locator(".portion-0 .portion-mark").first).to_have_text("(公開)")
    shoot(page, "briefing-level2")
    page.guard.assert_clean()
    sign_out(page)

    sign_in(page, colleague)
    page.goto("/briefings")
    expect(page.locator("main h1")).to_be_visible()
    assert TITLE not in page.content()
    expect(page.locator(".briefing-list")).to_contain_text("海外子会社を通じた技術流出の典型例")
    page.guard.allow_console_error(r"status of 404")
    response = page.goto(f"/briefings/{bid}")
    assert response is not None and response.status == 404
    assert TITLE not in page.content() and "出資打診" not in page.content()
    response = page.goto(f"/briefings/{bid}/pdf")
    assert response is not None and response.status == 404
    page.guard.assert_clean()


def test_officer_and_security_officer_pages(page, factory, live_server, shoot):
    app = live_server.app
    officer = factory.person(Role.OFFICER, display_name="佐藤 美咲")
    grant(app, officer.id, 2, ["SEMI"])
    bid, cleared, _colleague = _world(app, factory, also_handlers=[officer.id])  # level 2: officers need the list too
    security = factory.person(Role.SECURITY_OFFICER, display_name="伊藤 直樹")
    grant(app, security.id, 2, ["SEMI"])

    sign_in(page, officer)
    page.goto("/briefings/new")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("select#level option[value='3']")).to_be_disabled()
    shoot(page, "briefing-new", publish=False)
    page.goto(f"/briefings/{bid}")
    expect(page.locator("#manage-h")).to_be_visible()
    shoot(page, "briefing-officer", publish=False)
    page.guard.assert_clean()
    sign_out(page)

    sign_in(page, security)
    page.click("nav.main-nav a[href='/clearance']")
    expect(page).to_have_url(re.compile(r"/clearance$"))
    shoot(page, "clearance-overview", publish=False)
    page.goto(f"/clearance/people/{cleared.id}")
    expect(page.locator("main h1")).to_have_text("松田 健")
    shoot(page, "clearance-person", publish=False)
    page.guard.assert_clean()
