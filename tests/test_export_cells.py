"""Every CSV/XLSX export neutralises formulas through one helper (issue 11, "also found").

Three layers: the helper itself; a scan of the source so that no module builds a
spreadsheet of its own (csv.writer, openpyxl, xlsxwriter) and every route that
serves one is exercised here; and the real downloads, with hostile company names
and feedback texts planted in the database and the files read back.
"""

from __future__ import annotations

import csv
import inspect
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, update

from clearance.crypto import seal_text
from clearance.crypto.envelope import Context
from clearance.db import db, new_id, utcnow
from clearance.export_cells import FORMULA_START, csv_writer, safe_cell, xlsx_cell, xlsx_workbook
from clearance.permissions import Role
from dialogue.feedback.models import FeedbackItem
from dialogue.feedback.taxonomy import SUBTOPICS
from dialogue.registry.models import Company
from dialogue.reports import jobs
from dialogue.reports.models import ReportJob
from tests.factories import csrf, sign_in

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\tX", "\rX"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: every route that answers with a spreadsheet, and how this file exercises it
EXPORT_ROUTES = {
    "admin.audit_csv",
    "registry.companies_export",
    "registry.associations_export",
    "registry.groups_export",
    "reports.feedback_export",
    "reports.download",
}


# --------------------------------------------------------------------------- the helper


@pytest.mark.parametrize("payload", PAYLOADS + ["＝SUM(A1)", "\x00=1"])
def test_safe_cell_prefixes_text_that_starts_like_a_formula(payload):
    out = safe_cell(payload)
    assert out.startswith("'") and out.lstrip("'").replace("\x00", "") == payload.replace("\x00", "")


@pytest.mark.parametrize("value", ["普通の文", "a=b", "1-2", "", None, 42, -5, 3.5])
def test_safe_cell_leaves_ordinary_values_alone(value):
    assert safe_cell(value) == value


def test_helpers_write_strings_never_formulas():
    buf = io.StringIO()
    csv_writer(buf).writerow(PAYLOADS)
    assert next(csv.reader(io.StringIO(buf.getvalue(), newline=""))) == ["'" + p for p in PAYLOADS]
    wb = xlsx_workbook()
    ws = wb.create_sheet("t")
    ws.append([xlsx_cell(ws, p) for p in PAYLOADS])
    out = io.BytesIO()
    wb.save(out)
    cells = next(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows())
    for cell, payload in zip(cells, PAYLOADS, strict=True):
        assert cell.data_type != "f" and cell.value[0] == "'", (cell.value, cell.data_type)
        assert cell.value[2:] == payload[1:]  # (XML turns a stored "\r" into "\n"; still prefixed)


# --------------------------------------------------------------------------- nothing skips the helper

_SPREADSHEET_WRITERS = re.compile(r"\bcsv\.(writer|DictWriter)\b|\bWorkbook\b|WriteOnlyCell|xlsxwriter|\bxlwt\b|"
                                  r"from openpyxl import (?!load_workbook\b)|openpyxl\.(?!load_workbook\b|reader)")


def _app_sources():
    yield ROOT / "app.py"
    for top in ("clearance", "dialogue"):
        yield from sorted((ROOT / top).rglob("*.py"))


def test_no_module_writes_a_spreadsheet_without_the_helper():
    offenders = [str(p.relative_to(ROOT)) for p in _app_sources()
                 if p.name != "export_cells.py" and _SPREADSHEET_WRITERS.search(p.read_text(encoding="utf-8"))]
    assert offenders == [], f"write CSV/XLSX through clearance.export_cells: {offenders}"


def test_every_spreadsheet_route_is_exercised_here(app):
    """A new route that serves CSV or XLSX fails here until it is added to EXPORT_ROUTES and read back below."""
    found = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        view = app.view_functions[rule.endpoint]
        try:
            source = inspect.getsource(inspect.unwrap(view))
        except (OSError, TypeError):
            source = ""
        if re.search(r"\b(csv|xlsx)\b", rule.rule) or re.search(r"text/csv|spreadsheetml|CONTENT_TYPES\[(?!\"pdf\")|\bexport\.|"
                                                               r"\bexports\.", source):
            found.add(rule.endpoint)
    assert found == EXPORT_ROUTES


# --------------------------------------------------------------------------- the real downloads


def _cells(resp) -> list[tuple[object, str]]:
    """(value, data type) of every cell of a CSV or XLSX response."""
    assert resp.status_code == 200, resp.status_code
    if resp.mimetype == "text/csv":
        text = resp.get_data(as_text=True).lstrip("\ufeff")
        return [(v, "s") for row in csv.reader(io.StringIO(text, newline="")) for v in row]
    assert resp.mimetype == XLSX, resp.mimetype
    wb = load_workbook(io.BytesIO(resp.data))
    return [(c.value, c.data_type) for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def _assert_defused(cells, *, planted: bool) -> None:
    for value, kind in cells:
        assert kind != "f", value
        if isinstance(value, str):
            assert not value.startswith(FORMULA_START), repr(value)
    if planted:
        texts = {v.replace("\n", "\r") for v, _ in cells if isinstance(v, str)}
        for payload in PAYLOADS:  # a cell may hold more (e.g. "name / name_en"): look for the prefixed payload
            assert any(t.startswith("'" + payload) or ("'" + payload) in t for t in texts), (payload, sorted(texts)[:40])


@pytest.fixture
def hostile(app, factory):
    """Companies and feedback whose words start like formulas, written straight into the database:
    whatever path put them there (a profile correction, an import), the export must hold."""
    sub = next(iter(SUBTOPICS.values()))
    companies = [factory.company() for _ in PAYLOADS]
    now = utcnow()
    with app.app_context():
        for cid, payload in zip(companies, PAYLOADS, strict=True):
            db.session.execute(update(Company).where(Company.id == cid).values(name_ja=payload, name_en=payload))
        for i, (cid, payload) in enumerate(zip(companies, PAYLOADS, strict=True)):
            item_id = new_id()
            db.session.execute(insert(FeedbackItem.__table__), [{
                "id": item_id, "ref": f"FB-2098-{i:05d}", "source": "dialogue", "kind": "request",
                "text_ct": seal_text(payload, Context("feedback_item", "text", item_id, 0)),
                "category": sub.category, "subtopic": sub.code, "instrument": sub.instrument, "tier": None, "region": "kanto", "size_class": "small",
                "level": 0, "status": "received", "received_at": now - timedelta(days=1), "status_changed_at": now,
                "company_id": cid}])
        db.session.commit()
    return companies


def test_register_exports_defuse_hostile_company_names(app, factory, hostile):
    client = app.test_client()
    sign_in(client, factory.person(Role.OFFICER))
    for fmt in ("csv", "xlsx"):
        _assert_defused(_cells(client.get(f"/registry/companies.{fmt}")), planted=True)
        _assert_defused(_cells(client.get(f"/registry/associations.{fmt}")), planted=False)
        _assert_defused(_cells(client.get(f"/registry/groups.{fmt}")), planted=False)


def test_feedback_export_defuses_hostile_feedback_text(app, factory, hostile):
    client = app.test_client()
    sign_in(client, factory.person(Role.OFFICER))
    for fmt in ("csv", "xlsx"):
        _assert_defused(_cells(client.get(f"/reports/feedback.{fmt}")), planted=True)


def test_report_spreadsheets_defuse_hostile_words(app_factory, factory, hostile):
    app = app_factory(TAIWA_REPORTS_WORKER="external")
    client = app.test_client()
    sign_in(client, factory.person(Role.OFFICER))
    requests = [("reactions", {}), ("activity", {}), ("statement", {"statement-company_id": hostile[0]})]
    for kind, extra in requests:
        for fmt in ("xlsx", "csv"):
            token = csrf(client, "/reports")
            resp = client.post("/reports", data={"csrf_token": token, f"{kind}-kind": kind, f"{kind}-fmt": fmt,
                                                 **extra})
            assert resp.status_code == 302, (kind, fmt, resp.get_data(as_text=True)[:500])
            job_id = resp.headers["Location"].rsplit("/", 1)[1]
            jobs.run_pending(app)
            with app.app_context():
                job = db.session.get(ReportJob, job_id)
                assert job.status == "done", (kind, fmt, job.error)
            _assert_defused(_cells(client.get(f"/reports/jobs/{job_id}/download")), planted=False)


def test_audit_csv_defuses_what_people_type(app, factory):
    client = app.test_client()
    client.post("/login", data={"csrf_token": csrf(client), "email": "=HYPERLINK(\"http://x\",\"y\")@example.jp",
                                "password": "+1 wrong password"})
    admin = factory.person(Role.ADMIN)
    sign_in(client, admin)
    _assert_defused(_cells(client.get("/admin/audit.csv")), planted=False)


@pytest.mark.parametrize("text", [" =1+1", "\u3000=HYPERLINK(\"http://x\")", "\n@SUM(A1)", "|cmd", "  |calc"])
def test_formulas_behind_leading_blanks_and_dde_pipes_are_neutralised(text):
    from clearance.export_cells import safe_cell

    assert safe_cell(text) == "'" + text
