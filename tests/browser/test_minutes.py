"""In the browser: an officer writes minutes and downloads the PDF; a company member sends feedback and
reads the ministry's answer. No CSP violation on any page (charts and the editor included)."""

from __future__ import annotations

import re
import subprocess

from tests.browser.steps import sign_in, submit_password
from tests.feedback.world import world  # noqa: F401  (the fixture)


def _pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_officer_writes_minutes_and_downloads_the_pdf(page, live_server, world, shoot):  # noqa: F811
    sign_in(page, world.officer)
    page.click("nav.main-nav a[href='/minutes']")
    page.wait_for_url("**/minutes")
    shoot(page, "minutes-index", publish=False)
    row = page.locator("tr", has_text="半導体サプライチェーン対話")
    row.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/minutes/[0-9a-f-]{36}/edit$"))
    assert page.is_checked("#attendee-1-attended")  # the accepted invitee, taken from the replies
    page.fill("#section-0-body", "経済産業省から**脅威・リスク分析**を説明した。\n\n- 質疑：調達先の多元化")
    page.check("#section-0-public")
    page.fill("#section-1-body", "各社からサプライチェーンの現状について説明があった。")
    page.fill("#action-0-description", "価格転嫁の実態を調査する")
    page.fill("#action-0-owner", "経済安全保障政策課")
    page.fill("#feedback-0-text", "部素材メーカーも参加できる横断的な対話の場を増やしてほしい。")
    page.select_option("#feedback-0-subtopic", "more_dialogue")
    page.select_option("#feedback-0-instrument", "dialogue")
    shoot(page, "minutes-edit", publish=False)
    page.click("form.minutes-editor .sticky-actions button.button-primary")
    page.wait_for_url(re.compile(r"/minutes/[0-9a-f-]{36}$"))
    main = page.inner_text("main")
    assert "脅威・リスク分析" in main and "価格転嫁の実態を調査する" in main
    shoot(page, "minutes-view", publish=False)
    page.guard.assert_clean()

    with page.expect_download() as download:
        page.click("a[href$='/pdf']")
    data = open(download.value.path(), "rb").read()
    text = _pdf_text(data)
    assert data.startswith(b"%PDF") and "脅威・リスク分析" in text and "公開" in text

    page.click("a[href$='/revisions']")
    page.click("form.compare-pick button[type=submit]")
    page.wait_for_url(re.compile(r"/compare\?"))
    shoot(page, "minutes-compare", publish=False)
    page.guard.assert_clean()

    page.goto("/feedback/analysis")
    page.wait_for_load_state("networkidle")
    for img in page.query_selector_all("img.chart-img"):
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    shoot(page, "feedback-analysis", publish=False)
    page.guard.assert_clean()

    # a long report renders in the background (the web process's worker thread); the page follows it
    page.click("a[href^='/reports/new']")
    page.wait_for_url(re.compile(r"/reports\?"))
    shoot(page, "reports-index", publish=False)
    page.click("#reactions button[type=submit]")
    page.wait_for_url(re.compile(r"/reports/jobs/[0-9a-f-]{36}$"))
    page.wait_for_selector("a[href$='/download']", timeout=60_000)  # via <meta refresh>, no script
    shoot(page, "reports-job", publish=False)
    with page.expect_download() as download:
        page.click("a[href$='/download']")
    assert open(download.value.path(), "rb").read().startswith(b"%PDF")
    page.guard.assert_clean()


def test_company_member_sends_feedback_and_sees_the_answer(page, live_server, world, shoot):  # noqa: F811
    submit_password(page, world.a_member)
    page.wait_for_url(re.compile(r"/portal$"))
    page.click("nav.main-nav a[href='/portal/feedback']")
    page.click("a[href='/portal/feedback/new']")
    page.check("input[name=kind][value=opinion]")
    page.select_option("#subtopic", "price_pass_through")
    page.fill("#text", "サプライチェーン全体での価格転嫁を後押しするガイドラインを作ってほしい。")
    shoot(page, "feedback-portal-new", publish=False)
    page.click("form.form-card button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/feedback/[0-9a-f-]{36}$"))
    item_url = page.url
    assert "価格転嫁を後押し" in page.inner_text("main")
    page.guard.assert_clean()

    page.context.clear_cookies()
    sign_in(page, world.officer)
    page.goto("/feedback")
    page.click("a:text-matches('FB-')")
    page.wait_for_url(re.compile(r"/feedback/[0-9a-f-]{36}$"))
    page.fill("#answer", "価格転嫁の指針を年度内に公表します。")
    page.click("form[action$='/answer'] button[type=submit]")
    page.wait_for_url(re.compile(r"/feedback/[0-9a-f-]{36}$"))
    shoot(page, "feedback-officer-item", publish=False)
    page.guard.assert_clean()

    page.context.clear_cookies()
    submit_password(page, world.a_member)
    page.wait_for_url(re.compile(r"/portal$"))
    page.goto(item_url)
    main = page.inner_text("main")
    assert "価格転嫁の指針を年度内に公表します。" in main
    shoot(page, "feedback-portal-answer", publish=False)
    page.guard.assert_clean()
