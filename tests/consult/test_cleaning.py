"""Uploaded files lose their hidden details before they are stored, and the submitter is told."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select

from clearance import files
from clearance.db import db
from dialogue.consult import scrub
from tests.consult import samples
from tests.consult.conftest import said


def _stored_plaintexts(app) -> dict[str, bytes]:
    with app.app_context():
        return {f.original_name: b"".join(files.open_download(f))
                for f in db.session.execute(select(files.StoredFile)).scalars()}


@pytest.mark.parametrize(("name", "make", "expected"), [
    ("photo.jpg", samples.jpeg_with_gps, ["gps", "camera", "author"]),
    ("report.pdf", samples.pdf_with_author, ["author", "company", "xmp", "reviewers"]),
    ("draft.docx", samples.docx_with_author, ["author", "company", "custom", "reviewers"]),
    ("scan.png", samples.png_with_text, ["author", "software"]),
])
def test_uploaded_file_is_stored_without_its_metadata(visitor, desk_app, name, make, expected):
    original = make()
    assert any(c.encode() in original for c in samples.CANARIES), "the sample must carry the canaries"
    resp = visitor.submit(files=[(io.BytesIO(original), name)], keep_names="y")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:1500]
    stored = _stored_plaintexts(desk_app)[name]
    assert [c for c in samples.CANARIES if c.encode() in stored] == []
    assert stored[:4] == original[:4], "still the same kind of file"
    with desk_app.app_context():
        from dialogue.consult.models import ConsultAttachment

        removed = db.session.execute(select(ConsultAttachment)).scalar_one().removed
    assert set(expected) <= set(removed)
    page = resp.get_data(as_text=True)
    assert said(page, "Hidden details removed from your files")


def test_jpeg_gps_is_gone_and_the_picture_stays_upright():
    cleaned = scrub.clean(samples.jpeg_with_gps(orientation=6), "jpeg")
    img = Image.open(io.BytesIO(cleaned.data))
    assert img.getexif() == {} or 0x8825 not in img.getexif()
    assert img.size == (20, 40), "orientation 6 was applied to the pixels before the tag was dropped"
    assert "gps" in cleaned.removed and "comment" in cleaned.removed


def test_pdf_keeps_its_pages_and_loses_info_xmp_and_comment_authors():
    from pypdf import PdfReader

    cleaned = scrub.clean(samples.pdf_with_author(), "pdf")
    reader = PdfReader(io.BytesIO(cleaned.data))
    assert len(reader.pages) == 1
    assert not reader.metadata
    assert "/Metadata" not in reader.trailer["/Root"]
    annot = reader.pages[0]["/Annots"][0].get_object()
    assert "/T" not in annot and annot["/Contents"] == "see p.2", "the comment stays, its author goes"


def test_docx_is_rebuilt_with_empty_properties_neutral_reviewers_and_old_dates():
    cleaned = scrub.clean(samples.docx_with_author(), "docx")
    z = zipfile.ZipFile(io.BytesIO(cleaned.data))
    assert "docProps/custom.xml" not in z.namelist()
    assert b"custom.xml" not in z.read("[Content_Types].xml") and b"custom.xml" not in z.read("_rels/.rels")
    assert b"creator" not in z.read("docProps/core.xml") and b"Company" not in z.read("docProps/app.xml")
    doc = z.read("word/document.xml")
    assert b'w:author="-"' in doc and b'w:name="_GoBack"' in doc, "bookmarks keep their names"
    assert b"Our customer asked for the drawings." in doc
    assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_encrypted_pdf_is_refused_not_stored_as_is(visitor, desk_app):
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(100, 100)
    w.add_metadata({"/Author": samples.CANARY_AUTHOR})
    w.encrypt("owner-and-user-secret")
    out = io.BytesIO()
    w.write(out)
    resp = visitor.submit("with a locked pdf", files=[(io.BytesIO(out.getvalue()), "locked.pdf")])
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "password" in html.lower() or "パスワード" in html
    assert "with a locked pdf" in html
    assert _stored_plaintexts(desk_app) == {}


@pytest.mark.parametrize(("name", "data"), [
    ("fake.jpg", b"\xff\xd8\xff\xe0 this is not really a jpeg"),
    ("fake.pdf", b"%PDF-1.4 garbage garbage"),
    ("fake.docx", b"PK\x03\x04 not a zip at all"),
    ("page.html", b"<script>alert(1)</script>"),
    ("empty.txt", b""),
])
def test_broken_or_unaccepted_files_are_refused_without_a_500(visitor, desk_app, name, data):
    resp = visitor.submit("text", files=[(io.BytesIO(data), name)])
    assert resp.status_code == 400
    assert _stored_plaintexts(desk_app) == {}


def test_office_file_with_a_doctype_is_refused():
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("docProps/core.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    with pytest.raises(scrub.CleaningRefused):
        scrub.clean(bad.getvalue(), "docx")


def test_too_many_files_are_refused(visitor):
    resp = visitor.submit(files=[(io.BytesIO(b"x"), f"{n}.txt") for n in range(4)])
    assert resp.status_code == 400


def test_file_over_the_limit_is_refused(app_factory, tmp_path):
    from tests.consult.conftest import Visitor

    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(tmp_path / "f"),
                      TAIWA_CONSULT_MAX_FILE_BYTES=1000)
    resp = Visitor(app.test_client()).submit(files=[(io.BytesIO(b"a" * 1001), "big.txt")])
    assert resp.status_code == 400


def test_desk_files_are_dated_by_day_in_the_database_and_not_on_disk(visitor, desk_app, frozen):
    visitor.submit(files=[(io.BytesIO(b"hello"), "a.txt")])
    with desk_app.app_context():
        stored = db.session.execute(select(files.StoredFile)).scalar_one()
        assert stored.created_at.time().isoformat() == "00:00:00"
        assert not stored.path.exists()  # kept in the database: see test_file_times.py
        assert db.session.get(files.StoredFileBlob, stored.id) is not None


def test_photos_inside_office_files_lose_their_exif_too():
    src = zipfile.ZipFile(io.BytesIO(samples.docx_with_author()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr("word/media/image1.jpeg", samples.jpeg_with_gps())
        out.writestr("word/media/image2.png", samples.png_with_text())
    cleaned = scrub.clean(buf.getvalue(), "docx")
    assert [c for c in samples.CANARIES if c.encode() in cleaned.data] == []
    assert "gps" in cleaned.removed
    z = zipfile.ZipFile(io.BytesIO(cleaned.data))
    Image.open(io.BytesIO(z.read("word/media/image1.jpeg"))).load()
    Image.open(io.BytesIO(z.read("word/media/image2.png"))).load()


def test_photos_inside_pdfs_lose_their_exif_without_being_re_encoded():
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject

    jpeg = samples.jpeg_with_gps()
    w = PdfWriter()
    page = w.add_blank_page(100, 100)
    img = StreamObject()
    img._data = jpeg
    img.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                NameObject("/Filter"): NameObject("/DCTDecode"), NameObject("/Width"): NumberObject(40),
                NameObject("/Height"): NumberObject(20), NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
                NameObject("/BitsPerComponent"): NumberObject(8)})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im1"): w._add_object(img)})})
    out = io.BytesIO()
    w.write(out)
    cleaned = scrub.clean(out.getvalue(), "pdf")
    assert [c for c in samples.CANARIES if c.encode() in cleaned.data] == []
    assert "gps" in cleaned.removed
    image = PdfReader(io.BytesIO(cleaned.data)).pages[0]["/Resources"]["/XObject"]["/Im1"].get_object()
    Image.open(io.BytesIO(image._data)).load()


def test_as_many_files_as_promised_fit_in_one_request(app_factory, tmp_path):
    from tests.consult.conftest import Visitor

    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, MAX_CONTENT_LENGTH=1000, TAIWA_MAX_UPLOAD=1000,
                      TAIWA_CONSULT_MAX_FILE_BYTES=4000, TAIWA_CONSULT_MAX_FILES=3)
    resp = Visitor(app.test_client()).submit(files=[(io.BytesIO(b"x" * 3900), f"{n}.txt") for n in range(3)])
    assert resp.status_code == 200, "3 × 3,900 bytes pass although the app-wide limit is 1,000"
