"""CSV import: nothing is written before a clean preview is confirmed; every problem has a row and column."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from clearance.audit import AuditEntry
from clearance.db import db
from clearance.permissions import Role
from dialogue.registry.columns import BY_KEY
from dialogue.registry.models import Company, ImportBatch, company_sector
from tests.factories import csrf
from tests.registry.conftest import in_japanese, new_number

HEADER_JA = "法人番号,名称,英語名称,規模,都道府県,業種,技術分野,特定重要物資,主要製品,業界団体"
HEADER_EN = "corporate_number,name_ja,name_en,size_class,prefecture,sectors,tech_field,materials,key_products"


def upload(client, content: bytes, filename: str = "companies.csv"):
    token = csrf(client, "/registry/companies/import")
    return client.post("/registry/companies/import", data={"csrf_token": token,
                                                           "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def count(app, model=Company) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def problems(resp) -> list[tuple[str, str]]:
    """(row, column label) of each reported problem."""
    html = resp.get_data(as_text=True)
    body = html[html.index('class="table table-dense problems"'):]
    rows = re.findall(r'<tr>\s*<td class="num">([^<]*)</td>\s*<td>(.*?)</td>', body, re.S)
    return [(r.strip(), re.sub(r"<[^>]+>|\s+", " ", c).strip()) for r, c in rows]


def confirm(client, resp):
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    preview = client.get(resp.headers["Location"])
    assert preview.status_code == 200
    action = re.search(r'action="([^"]+/confirm)"', preview.get_data(as_text=True)).group(1)
    return client.post(action, data={"csrf_token": csrf(client, resp.headers["Location"])})


def sample_rows(n: int = 3) -> list[str]:
    return [f"{new_number()},試験{i}株式会社,Test {i} Co.,中小企業,東京都,半導体;化学,コンピューティング,半導体,パワー半導体{i},"
            for i in range(n)]


def test_shift_jis_file_imports_after_confirmation(officer_client, app):
    content = ("\r\n".join([HEADER_JA, *sample_rows(3)]) + "\r\n").encode("cp932")
    before = count(app)
    resp = upload(officer_client, content)
    assert count(app) == before, "nothing may be written before the officer confirms"
    preview = officer_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "試験0株式会社" in preview and "3" in preview
    done = confirm(officer_client, resp)
    assert done.status_code == 302
    assert count(app) == before + 3
    with app.app_context():
        c = db.session.execute(select(Company).where(Company.name_ja == "試験1株式会社")).scalar_one()
        assert (c.size_class, c.prefecture, c.region, c.tech_field) == ("small", "13", "kanto", "computing")
        sectors = set(db.session.scalars(select(company_sector.c.sector).where(company_sector.c.company_id == c.id)))
        assert sectors == {"semiconductors", "chemicals"}
        assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0  # the staged copy is gone
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.summary == "Companies imported")).scalar_one()
        assert entry.realm == "register" and '"rows":3' in entry.data


def test_utf8_with_bom_and_english_header_imports(officer_client, app):
    rows = [f"{new_number()},ボム{i}株式会社,Bom {i},large,13,semiconductors,,,SiC" for i in range(2)]
    content = "\ufeff".encode() + ("\n".join([HEADER_EN, *rows]) + "\n").encode("utf-8")
    before = count(app)
    assert confirm(officer_client, upload(officer_client, content)).status_code == 302
    assert count(app) == before + 2
    with app.app_context():
        assert db.session.execute(select(Company).where(Company.name_ja == "ボム0株式会社")).scalar_one()


def test_plain_utf8_and_full_width_numbers_import(officer_client, app):
    number = new_number()
    full = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    content = f"{HEADER_EN}\n{full},全角株式会社,Zenkaku,small,Tokyo,Chemicals,,,\n".encode()
    assert confirm(officer_client, upload(officer_client, content)).status_code == 302
    with app.app_context():
        assert db.session.execute(select(Company.corporate_number).where(Company.name_ja == "全角株式会社")).scalar() == number


def test_undecodable_bytes_are_reported_not_crashed(officer_client, app):
    resp = upload(officer_client, b"\x81\xff\xfe\x00garbage" * 10)
    assert resp.status_code == 400
    resp = upload(officer_client, b"\xff\xfe" + "法人番号".encode("utf-16-le"))
    assert resp.status_code == 400
    assert count(app, ImportBatch) == 0


def test_wrong_columns_are_named(officer_client, app):
    content = "法人番号,名称,電話番号,規模\n1234,x,y,z\n".encode()
    resp = upload(officer_client, content)
    assert resp.status_code == 400
    found = problems(resp)
    assert all(row == "1" for row, _col in found)
    html = resp.get_data(as_text=True)
    assert "電話番号" in html  # the unknown column is named
    reported = {col for _r, col in found}
    for missing in ("name_en", "prefecture", "sectors"):
        assert in_japanese(app, BY_KEY[missing].label) in reported, missing
    assert in_japanese(app, BY_KEY["name_ja"].label) not in reported
    assert len(found) == 4  # the unknown column and the three missing required ones
    assert count(app, ImportBatch) == 0


def test_every_bad_cell_is_reported_with_row_and_column(officer_client, app, add_company):
    taken = new_number()
    add_company("既存株式会社", number=taken)
    good = new_number()
    bad_check = str(int(good[0]) % 9 + 1) + good[1:]
    lines = [
        HEADER_JA,
        f"{new_number()},正常株式会社,Fine,中小,東京都,化学,,,,",              # row 2: fine
        f"{bad_check},検査数字株式会社,Check,中小,東京都,化学,,,,",            # row 3: check digit
        f"{good},重複元株式会社,Dup A,中小,東京都,化学,,,,",                   # row 4: fine
        f"{good},重複株式会社,Dup B,中小,東京都,化学,,,,",                     # row 5: duplicate of row 4
        f"{taken},既存重複株式会社,Taken,中小,東京都,化学,,,,",               # row 6: already registered
        f"{new_number()},,No Japanese name,巨大,火星,化学;宇宙,,,,",           # row 7: name, size, prefecture, sector
        f"{new_number()},団体不明株式会社,Assoc,中小,東京都,化学,,,,存在しない協会",  # row 8: association
    ]
    resp = upload(officer_client, ("\n".join(lines) + "\n").encode("utf-8"))
    assert resp.status_code == 400
    found = problems(resp)
    rows = [int(r) for r, _c in found]
    assert 2 not in rows and 4 not in rows
    assert {3, 5, 6, 7, 8} <= set(rows)
    assert rows.count(7) == 4  # name_ja, size_class, prefecture, sectors: all four reported at once
    html = resp.get_data(as_text=True)
    from flask_babel import lazy_gettext as _l

    assert in_japanese(app, _l("Same corporate number as row %(row)d of this file.", row=4)) in html
    assert count(app, ImportBatch) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company).where(Company.name_ja == "正常株式会社")) == 0


def test_ten_thousand_rows_import_within_the_request_limit(officer_client, app):
    lines = [HEADER_JA]
    for i in range(10_000):
        lines.append(f"{new_number()},大量試験{i:05d}株式会社,Bulk Test {i:05d} Manufacturing Co.,中小企業,大阪府,"
                     f"電子部品;化学,コンピューティング,先端電子部品,積層セラミックコンデンサ用誘電体材料{i},")
    content = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    assert len(content) > 2 * 1024 * 1024, "the point is a file above the site-wide 2 MB limit"
    before = count(app)
    resp = upload(officer_client, content)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    preview = officer_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "10000" in preview.replace(",", "")
    assert confirm(officer_client, resp).status_code == 302
    assert count(app) == before + 10_000
    assert officer_client.get("/registry/companies", query_string={"q": "大量試験09999"}).get_data(
        as_text=True).count("大量試験09999株式会社") == 1


def test_other_uploads_keep_the_two_megabyte_limit(officer_client):
    token = csrf(officer_client, "/account/")
    resp = officer_client.post("/account/preferences", data={"csrf_token": token, "display_name": "x" * (3 * 1024 * 1024)})
    assert resp.status_code == 413


def test_file_larger_than_the_import_limit_is_refused(officer_client, app):
    resp = upload(officer_client, b"a" * (9 * 1024 * 1024))
    assert resp.status_code == 413
    assert count(app, ImportBatch) == 0


def test_a_staged_import_belongs_to_its_uploader(officer_client, signed_in, app):
    content = (HEADER_EN + "\n" + f"{new_number()},横取り株式会社,Steal,small,13,chemicals,,,\n").encode()
    resp = upload(officer_client, content)
    preview_url = resp.headers["Location"]
    batch_id = preview_url.rsplit("/", 1)[1]
    other, _ = signed_in(Role.OFFICER)
    assert other.get(preview_url).status_code == 404
    token = csrf(other, "/account/")
    assert other.post(f"{preview_url}/confirm", data={"csrf_token": token}).status_code == 404
    assert other.post(f"{preview_url}/discard", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id) is not None
    # The uploader can still confirm; a second confirmation finds nothing.
    assert confirm(officer_client, resp).status_code == 302
    token = csrf(officer_client, "/account/")
    assert officer_client.post(f"{preview_url}/confirm", data={"csrf_token": token}).status_code == 404


def test_staged_rows_are_sealed_not_in_the_cookie_or_plain_in_the_database(officer_client, app):
    content = (HEADER_EN + "\n" + f"{new_number()},封印確認株式会社,Sealed,small,13,chemicals,,,\n").encode()
    resp = upload(officer_client, content)
    assert "封印".encode() not in str(resp.headers).encode()
    with app.app_context():
        batch = db.session.execute(select(ImportBatch)).scalar_one()
        assert "封印".encode() not in batch.payload_ct and b"Sealed" not in batch.payload_ct


def test_duplicate_added_after_the_preview_stops_the_whole_import(officer_client, app, add_company):
    number = new_number()
    content = (HEADER_EN + "\n" + f"{new_number()},先行株式会社,First,small,13,chemicals,,,\n"
               f"{number},競合株式会社,Race,small,13,chemicals,,,\n").encode()
    resp = upload(officer_client, content)
    add_company("別経路株式会社", number=number)  # another officer was quicker
    before = count(app)
    done = confirm(officer_client, resp)
    assert done.status_code == 409
    assert count(app) == before
    assert number in done.get_data(as_text=True)


def test_discard_leaves_nothing(officer_client, app):
    content = (HEADER_EN + "\n" + f"{new_number()},破棄株式会社,Discard,small,13,chemicals,,,\n").encode()
    resp = upload(officer_client, content)
    token = csrf(officer_client, resp.headers["Location"])
    assert officer_client.post(resp.headers["Location"] + "/discard", data={"csrf_token": token}).status_code == 302
    assert count(app, ImportBatch) == 0


@pytest.mark.parametrize("role", [Role.SECURITY_OFFICER, Role.ADMIN, Role.COMPANY_ADMIN])
def test_only_officers_import(signed_in, role):
    client, _ = signed_in(role)
    assert client.get("/registry/companies/import").status_code == 403


def test_an_excel_file_is_refused_with_a_hint_to_save_as_csv(officer_client, app):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["法人番号", "名称"])
    buf = io.BytesIO()
    wb.save(buf)
    resp = upload(officer_client, buf.getvalue(), "companies.xlsx")
    assert resp.status_code == 400
    assert count(app, ImportBatch) == 0
    from dialogue.registry import importer

    with app.test_request_context():
        expected = in_japanese(app, importer.parse(db.session, buf.getvalue()).problems[0].message)
    assert expected in resp.get_data(as_text=True)
