"""PDF and spreadsheet reports: banners and watermark on every page, empty and huge reports, the job queue."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from clearance.crypto import seal_text
from clearance.crypto.envelope import Context
from clearance.db import db, new_id, utcnow
from clearance.permissions import Role
from dialogue.feedback import service as feedback_service
from dialogue.feedback.models import FeedbackCounter, FeedbackItem, feedback_sector
from dialogue.reports import exports, jobs
from dialogue.reports.builders import Table
from dialogue.reports.models import ReportJob
from tests.clearance.helpers import grant
from tests.factories import audit_summaries, csrf, sign_in
from tests.minutes.helpers import current_doc, save, start


def _pages(data: bytes) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    pages = text.decode().split("\f")
    return [p for p in pages if p.strip()]


def _bulk_items(app, n: int, *, level: int = 0, text: str = "価格転嫁のガイドラインを作成してほしい。") -> None:
    """n items written in bulk (sealed like the app seals them), spread over categories, sectors, regions."""
    from dialogue.feedback.taxonomy import SUBTOPICS
    from dialogue.registry.taxonomy import REGIONS, SECTORS

    subs, sectors, regions = list(SUBTOPICS.values()), list(SECTORS), list(REGIONS)
    now = utcnow()
    rows, sector_rows = [], []
    for i in range(n):
        item_id = new_id()
        sub = subs[i % len(subs)]
        rows.append({"id": item_id, "ref": f"FB-2099-{i:05d}", "source": "dialogue", "kind": "request",
                     "text_ct": seal_text(f"{text} ({i})", Context("feedback_item", "text", item_id, level)),
                     "category": sub.category, "subtopic": sub.code, "instrument": sub.instrument, "tier": None,
                     "region": regions[i % len(regions)], "size_class": ("large", "mid", "small")[i % 3],
                     "level": level, "status": "received", "received_at": now - timedelta(days=i % 700),
                     "status_changed_at": now})
        sector_rows.append({"item_id": item_id, "sector": sectors[i % len(sectors)]})
    with app.app_context():
        for start_at in range(0, n, 2000):
            db.session.execute(insert(FeedbackItem.__table__), rows[start_at:start_at + 2000])
            db.session.execute(insert(feedback_sector), sector_rows[start_at:start_at + 2000])
        db.session.merge(FeedbackCounter(year=2099, last=n))
        db.session.commit()


def _run_report(app, client, kind: str, data: dict) -> ReportJob:
    token = csrf(client, "/reports")
    resp = client.post("/reports", data={"csrf_token": token, f"{kind}-kind": kind, **data})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    job_id = resp.headers["Location"].rsplit("/", 1)[1]
    jobs.run_pending(app)
    with app.app_context():
        return db.session.get(ReportJob, job_id)


@pytest.fixture
def inline_app(app_factory):
    return app_factory(TAIWA_REPORTS_WORKER="external")


def test_labelled_minutes_pdf_has_banners_top_and_bottom_and_the_watermark_on_every_page(app, world):
    grant(app, world.officer.id, level=2)
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    long_text = "\n\n".join(f"第{i}段落。サプライチェーンの強靱化について議論した。" * 3 for i in range(120))
    doc.sections[0].body, doc.sections[0].level = long_text, 1
    save(app, minutes_id, doc, base, world.officer.id)
    client = app.test_client()
    sign_in(client, world.officer)
    resp = client.get(f"/minutes/{minutes_id}/pdf")
    assert resp.status_code == 200
    pages = _pages(resp.data)
    assert len(pages) >= 3
    for n, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.strip().splitlines() if line.strip()]
        assert "取扱注意" in lines[0] and "OFFICIAL-SENSITIVE" in lines[0], (n, lines[0])
        assert any("取扱注意" in line for line in lines[-3:]), (n, lines[-3:])
        assert world.officer.id in page and "議事 一郎" in page, n  # the reader's watermark and footer stamp
        assert re.search(rf"(?<!\d){n}\s*/\s*{len(pages)}(?!\d)", page), (n, page[-400:])
    assert "Read allowed" in audit_summaries(app)


def test_public_minutes_pdf_has_no_watermark(app, world):
    minutes_id = start(app, world)
    client = app.test_client()
    sign_in(client, world.officer)
    text = "\n".join(_pages(client.get(f"/minutes/{minutes_id}/pdf").data))
    assert "公開" in text
    assert text.count(world.officer.id) <= 1  # the "prepared for" line only: no watermark on public output


def test_reactions_report_of_zero_items_renders(inline_app, world):
    app = inline_app
    client = app.test_client()
    sign_in(client, world.officer)
    job = _run_report(app, client, "reactions", {"reactions-fmt": "pdf"})
    assert job.status == "done", job.error
    with app.app_context():
        pdf = db.session.get(ReportJob, job.id).result
    text = "\n".join(_pages(pdf))
    assert "No feedback matches" in text or "該当する" in text or "ありません" in text


def test_reactions_report_of_ten_thousand_items(inline_app, world):
    app = inline_app
    _bulk_items(app, 10_000)
    client = app.test_client()
    sign_in(client, world.officer)
    job = _run_report(app, client, "reactions", {"reactions-fmt": "pdf"})
    assert job.status == "done", job.error
    assert job.pages and job.pages < 60  # no 10,000-row appendix: the XLSX carries the items
    xlsx = _run_report(app, client, "reactions", {"reactions-fmt": "xlsx"})
    assert xlsx.status == "done"
    from openpyxl import load_workbook

    with app.app_context():
        wb = load_workbook(io.BytesIO(db.session.get(ReportJob, xlsx.id).result), read_only=True)
    assert "Sub-topics" in wb.sheetnames or "サブトピック" in wb.sheetnames or len(wb.sheetnames) >= 4
    resp = client.get("/reports/feedback.csv")
    assert resp.status_code == 200 and resp.get_data(as_text=True).count("\n") >= 10_001


def test_reactions_report_quotes_anonymised_and_labels_follow_the_quotes(inline_app, world):
    app = inline_app
    with app.test_request_context():
        from tests.feedback.world import user

        feedback_service.submit_from_portal(db.session, user(world.a_member.id),
                                            text="甲材料株式会社としては info@ko.example.jp まで連絡を。価格転嫁の指針がほしい。",
                                            kind="request", category="partnership", subtopic="price_pass_through",
                                            instrument="dialogue")
        db.session.commit()
    _bulk_items(app, 5, level=1, text="取扱注意の具体的事例")
    client = app.test_client()
    sign_in(client, world.officer)
    job = _run_report(app, client, "reactions", {"reactions-fmt": "pdf"})
    with app.app_context():
        pdf = db.session.get(ReportJob, job.id).result
    text = "\n".join(_pages(pdf))
    assert "価格転嫁の指針がほしい" in text
    assert "甲材料" not in text and "info@ko.example.jp" not in text
    assert "取扱注意の具体的事例" not in text  # labelled items are counted, not quoted, unless asked for
    assert job.level == 0


def test_activity_and_statement_reports_render(inline_app, world):
    app = inline_app
    with app.test_request_context():
        from tests.feedback.world import user

        item = feedback_service.submit_from_portal(db.session, user(world.a_member.id), text="税制支援を", kind="request",
                                                   category="promotion", subtopic="investment_payback",
                                                   instrument="budget_tax")
        feedback_service.answer(db.session, item, "生産比例税制を創設しました。", actor=user(world.officer.id))
        db.session.commit()
    client = app.test_client()
    sign_in(client, world.officer)
    activity = _run_report(app, client, "activity", {"activity-fmt": "pdf"})
    assert activity.status == "done", activity.error
    with app.app_context():
        text = "\n".join(_pages(db.session.get(ReportJob, activity.id).result))
    assert "半導体サプライチェーン対話" in text
    statement = _run_report(app, client, "statement", {"statement-company_id": world.a, "statement-fmt": "pdf"})
    assert statement.status == "done", statement.error
    with app.app_context():
        text = "\n".join(_pages(db.session.get(ReportJob, statement.id).result))
    assert "税制支援を" in text and "生産比例税制を創設しました。" in text
    bad = client.post("/reports", data={"csrf_token": csrf(client, "/reports"), "statement-kind": "statement",
                                        "statement-company_id": world.a, "statement-association_id": "x",
                                        "statement-fmt": "pdf"})
    assert bad.status_code == 400


def test_the_company_downloads_its_own_statement_only(app, world):
    with app.test_request_context():
        from tests.feedback.world import user

        feedback_service.submit_from_portal(db.session, user(world.b_member.id), text="乙社の要望", kind="request",
                                            category="promotion", subtopic="investment_payback",
                                            instrument="budget_tax")
        db.session.commit()
    client = app.test_client()
    sign_in(client, world.a_member)
    resp = client.get("/portal/feedback/statement.pdf")
    assert resp.status_code == 200
    assert "乙社の要望" not in "\n".join(_pages(resp.data))


def test_only_the_requester_can_see_or_download_a_job(inline_app, world, factory):
    app = inline_app
    client = app.test_client()
    sign_in(client, world.officer)
    job = _run_report(app, client, "activity", {"activity-fmt": "csv"})
    assert client.get(f"/reports/jobs/{job.id}/download").status_code == 200
    other = app.test_client()
    sign_in(other, world.officer2)
    assert other.get(f"/reports/jobs/{job.id}").status_code == 404
    assert other.get(f"/reports/jobs/{job.id}/download").status_code == 404


def test_status_page_refreshes_itself_while_the_job_waits(inline_app, world):
    app = inline_app
    client = app.test_client()
    sign_in(client, world.officer)
    token = csrf(client, "/reports")
    resp = client.post("/reports", data={"csrf_token": token, "activity-kind": "activity", "activity-fmt": "pdf"})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page and "<progress" in page
    jobs.run_pending(app)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "/download" in page


def test_a_job_is_claimed_by_one_worker_only_and_a_stalled_claim_is_taken_over(inline_app, world):
    app = inline_app
    with app.test_request_context():
        from tests.feedback.world import user

        job_id = jobs.enqueue(db.session, kind="activity", fmt="csv", params={}, user=user(world.officer.id),
                              locale="ja").id
        db.session.commit()
        engine = db.engine
    assert jobs.claim_next(engine) == job_id
    assert jobs.claim_next(engine) is None  # the second worker finds nothing
    with app.app_context():
        db.session.execute(update(ReportJob).values(heartbeat_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    assert jobs.claim_next(engine) == job_id  # the first worker died: taken over
    jobs.run_job(app, job_id)
    with app.app_context():
        done = db.session.get(ReportJob, job_id)
        assert done.status == "done" and done.attempts == 2


def test_spreadsheet_cells_that_look_like_formulas_are_defused():
    table = Table("t", ["a"], [["=HYPERLINK(\"http://evil\")"], ["+1"], ["-2"], ["@x"], ["普通の文"]])
    data = exports.csv_bytes(table).decode("utf-8-sig")
    assert "'=HYPERLINK" in data and "'+1" in data and "'-2" in data and "'@x" in data
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(exports.xlsx([table])))
    values = [c.value for c in next(iter(wb.worksheets)).iter_rows(min_row=2, max_col=1, values_only=False) for c in c]
    assert values[0].startswith("'=")


def test_company_staff_cannot_request_reports(app, world):
    client = app.test_client()
    sign_in(client, world.a_member)
    assert client.get("/reports").status_code == 403
    assert client.post("/reports", data={"activity-kind": "activity"}).status_code in (400, 403)


def test_reports_worker_command_renders_waiting_jobs(inline_app, world):
    app = inline_app
    with app.test_request_context():
        from tests.feedback.world import user

        jobs.enqueue(db.session, kind="activity", fmt="csv", params={}, user=user(world.officer.id), locale="en")
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["reports-worker", "--once"])
    assert "rendered 1 report" in result.output
    with app.app_context():
        assert db.session.execute(select(ReportJob.status)).scalar_one() == "done"


def test_officer_without_clearance_gets_a_public_report(inline_app, world, factory):
    app = inline_app
    _bulk_items(app, 3, level=2, text="最高機密の事例")
    plain = factory.person(Role.OFFICER)
    client = app.test_client()
    sign_in(client, plain)
    job = _run_report(app, client, "reactions", {"reactions-fmt": "pdf", "reactions-include_classified": "y"})
    assert job.status == "done" and job.level == 0
    with app.app_context():
        assert "最高機密の事例" not in "\n".join(_pages(db.session.get(ReportJob, job.id).result))
