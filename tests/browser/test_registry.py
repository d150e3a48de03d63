"""The register in a real browser: an officer searches the company list, filters it, downloads it,
and opens a supply chain's diagram (screen and print). Screenshots stay in the test's tmp dir."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from clearance.db import db
from clearance.permissions import Role
from dialogue.demo.seed import seed
from tests.browser.steps import sign_in


@pytest.fixture
def demo(live_server, tmp_path):
    with live_server.app.app_context():
        seed(db.session, live_server.app.config, tmp_path / "accounts.json", if_empty=False)
    return live_server


def test_officer_searches_companies_and_opens_a_supply_chain_diagram(page, demo, factory, shoot):
    officer = factory.person(Role.OFFICER)
    sign_in(page, officer)

    page.click("nav.main-nav a[href='/registry/companies']")
    expect(page).to_have_url(re.compile(r"/registry/companies$"))
    page.fill("#q", "半導体")
    page.select_option("#region", "kyushu")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"q=%E5%8D%8A%E5%B0%8E%E4%BD%93.*region=kyushu|region=kyushu.*q="))
    rows = page.locator("table.table tbody tr")
    expect(rows.first).to_be_visible()
    texts = rows.all_inner_texts()
    assert texts and all("九州" in t or "Kyushu" in t for t in texts), texts
    assert any("筑紫パワーデバイス" in t for t in texts), texts
    expect(page.locator("#q")).to_have_value("半導体")  # the search stays in the form
    shoot(page, "registry-companies-search", publish=False)

    # The download link carries the same filters.
    href = page.locator(".downloads a").first.get_attribute("href")
    assert "region=kyushu" in href and href.startswith("/registry/companies.csv")

    # English, case-insensitive: "POWER" finds the power-semiconductor makers.
    page.fill("#q", "POWER")
    page.select_option("#region", "")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.table tbody")).to_contain_text("Chikushi Power Devices")

    page.click(".subnav a[href='/registry/groups']")
    page.fill("#q", "パワー半導体")
    page.click("form.filters button[type=submit]")
    page.click("table.table tbody tr a")
    expect(page.locator("main h1")).to_have_text(re.compile("パワー半導体サプライチェーン"))
    diagram = page.locator("svg.diagram")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g.dg-boxes > a")).to_have_count(8)
    expect(diagram.locator("g.dg-links > path")).to_have_count(9)
    for tier in ("一次材料", "二次材料", "部品", "完成品"):
        expect(diagram).to_contain_text(tier)
    box = diagram.bounding_box()
    assert box and box["width"] > 900, "the diagram uses the page width"
    shoot(page, "registry-supply-chain", publish=False)

    # Printed, the navigation goes and the diagram stays whole.
    page.emulate_media(media="print")
    expect(page.locator("nav.main-nav")).to_be_hidden()
    expect(diagram).to_be_visible()
    shoot(page, "registry-supply-chain-print", publish=False)
    page.emulate_media(media="screen")

    # A box leads to the company.
    diagram.locator("g.dg-boxes > a").first.click()
    expect(page).to_have_url(re.compile(r"/registry/companies/[0-9a-f-]{36}$"))
    page.guard.assert_clean()


def test_company_member_sees_own_profile_and_requests_a_correction(page, demo, factory, shoot):
    with demo.app.app_context():
        from sqlalchemy import select

        from dialogue.registry.models import Company

        company_id = db.session.execute(select(Company.id).where(Company.name_ja == "有明セラミック基板株式会社")).scalar()
    member = factory.person(Role.COMPANY_ADMIN, company_id=company_id, totp=True)
    sign_in(page, member)
    page.click("a[href='/portal/profile']")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("main")).to_contain_text("有明セラミック基板株式会社")
    page.click("a[href='/portal/profile/corrections/new']")
    page.fill("#key_products", "窒化ケイ素絶縁基板、銅接合基板、厚銅回路基板")
    page.fill("#note", "厚銅回路基板の量産を始めました。")
    page.click("form.form-card button[type=submit]")
    expect(page.locator(".badge-pending")).to_be_visible()
    expect(page.locator("table.compare")).to_contain_text("厚銅回路基板")
    shoot(page, "portal-correction", publish=False)
    page.guard.assert_clean()
