"""CSV and XLSX downloads: the filtered rows, nothing a spreadsheet would run as a formula, audited."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from clearance.permissions import Role
from dialogue.registry.export import csv_bytes, xlsx_bytes
from tests.factories import audit_summaries

PAYLOADS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
            "=cmd|' /C calc'!A0"]


@pytest.fixture
def hostile(add_company):
    for n, payload in enumerate(PAYLOADS):
        add_company(f"攻撃{n}株式会社", name_en=payload, key_products=payload, sectors=("steel",))
    add_company("無害株式会社", name_en="Harmless Co., Ltd.", sectors=("chemicals",))


def read_csv(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_neutralises_formulas(officer_client, hostile):
    rows = read_csv(officer_client.get("/registry/companies.csv", query_string={"sector": "steel"}))
    body = rows[1:]
    assert len(body) == len(PAYLOADS)
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert {row[2] for row in body} == {"'" + p.strip() for p in PAYLOADS}  # names are stored trimmed


def test_xlsx_opens_has_the_filtered_rows_and_no_formulas(officer_client, hostile):
    resp = officer_client.get("/registry/companies.xlsx", query_string={"sector": "steel"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb.active
    rows = list(ws.iter_rows())
    assert len(rows) == 1 + len(PAYLOADS)
    names = {r[1].value for r in rows[1:]}
    assert names == {f"攻撃{n}株式会社" for n in range(len(PAYLOADS))}
    assert "無害株式会社" not in names  # the filter applies to the download
    for row in rows:
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    english = {r[2].value for r in rows[1:]}
    assert english == {"'" + p.strip() for p in PAYLOADS}  # text, with the apostrophe every export adds


def test_xlsx_of_a_search_matches_the_page(officer_client, add_company):
    add_company("パワー半導体輸出株式会社", sectors=("semiconductors",))
    add_company("化学輸出株式会社", sectors=("chemicals",))
    wb = load_workbook(io.BytesIO(officer_client.get("/registry/companies.xlsx", query_string={"q": "半導体"}).data))
    assert [c.value for c in wb.active["B"]][1:] == ["パワー半導体輸出株式会社"]


def test_export_columns_import_again(officer_client, add_company, app):
    """The company download has the import columns, so an edited export can be imported elsewhere."""
    from dialogue.registry.columns import BY_KEY, header_words
    from dialogue.registry.search import fold

    add_company("往復株式会社", sectors=("chemicals", "steel"), materials=("critical_minerals",), prefecture="27")
    rows = read_csv(officer_client.get("/registry/companies.csv", query_string={"q": "往復"}))
    with app.test_request_context():
        keys = [header_words()[fold(h)] for h in rows[0]]
    assert set(keys) == set(BY_KEY)
    assert len(rows) == 2


def test_association_and_group_downloads(officer_client, add_association, add_group):
    add_association("=危険な協会", "=Dangerous")
    add_group("+危険な企業群")
    rows = read_csv(officer_client.get("/registry/associations.csv"))
    assert ["'=危険な協会", "'=Dangerous"] == rows[1][:2]
    wb = load_workbook(io.BytesIO(officer_client.get("/registry/groups.xlsx").data))
    assert wb.active["A2"].value == "'+危険な企業群" and wb.active["A2"].data_type == "s"


def test_downloads_are_audited(officer_client, app, hostile):
    officer_client.get("/registry/companies.csv", query_string={"sector": "steel"})
    assert "Register exported" in audit_summaries(app)


def test_company_staff_cannot_download(signed_in):
    client, _ = signed_in(Role.COMPANY_MEMBER)
    assert client.get("/registry/companies.csv").status_code == 403
    assert client.get("/registry/companies.xlsx").status_code == 403


def test_writers_handle_control_characters_and_numbers():
    data = xlsx_bytes("a/b:c*?[]" * 5, ["h"], [["bad\x01\x0bchars"], [42], [None]])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A2"].value == "badchars" and ws["A3"].value == 42
    assert csv_bytes(["h"], [["=x"]]).decode("utf-8").splitlines()[1] == "'=x"
    assert csv_bytes(["h"], [["\t=x"]]).decode("utf-8").splitlines()[1] == "'\t=x"
