"""Whatever a visitor types or sends, the desk answers with a page, never a 500."""

from __future__ import annotations

import io

import pytest

from tests.consult.conftest import CSRF, Visitor

NASTY = ["", " ", "\u202e\u0000", "A" * 30000, "<script>alert(1)</script>", "%s%s%n", "../../etc/passwd",
         "１２３４５", "😀" * 500, "\r\n\r\nSet-Cookie: x=1", "' OR 1=1 --", "\udcff"]


@pytest.mark.parametrize("value", NASTY)
def test_nasty_values_in_every_desk_form_never_cause_a_500(desk_app, value):
    v = Visitor(desk_app.test_client())
    v.new_case()
    token = v.csrf("/consult/case")
    fields = {"csrf_token": token, "category": value, "sector": value, "tier": value, "size_class": value,
              "text": value, "receipt": value, "last_group": value, "written_down": value, "locale": value,
              "next": value, "action": value, "form_token": value, "website": value, "keep_names": value}
    for path in ("/consult", "/consult/new", "/consult/new/confirm", "/consult/open", "/consult/case"):
        try:
            resp = v.post(path, fields)
        except UnicodeEncodeError:
            continue  # the test client cannot even send a lone surrogate
        assert resp.status_code < 500, (path, value[:20], resp.status_code)
    for path in ("/consult?lang=" + value[:50], "/consult/case/files/" + (value[:40] or "x"), "/consult/open?x=1"):
        try:
            assert v.get(path).status_code < 500
        except UnicodeEncodeError:
            continue


@pytest.mark.parametrize("name", ["", "....", "a" * 400 + ".pdf", "noext", "photo.JPG", "évil\u0000.txt", "x.exe"])
def test_odd_file_names_are_answered_politely(visitor, name):
    resp = visitor.submit(files=[(io.BytesIO(b"\xff\xd8\xff\xe0junk"), name)])
    assert resp.status_code in (200, 400)


def test_stale_confirmation_after_leaving_is_harmless(desk_app):
    v = Visitor(desk_app.test_client())
    resp = v.submit()
    code = v.receipt_from(resp)
    html = resp.get_data(as_text=True)
    token = CSRF.search(html).group(1)
    v.client.delete_cookie("taiwa_desk", path="/consult")
    again = v.post("/consult/new/confirm", {"csrf_token": token, "receipt": code, "last_group": code[-5:],
                                             "written_down": "y"})
    assert again.status_code == 303 and again.headers["Location"].endswith("/consult")


@pytest.mark.parametrize("part", ["\u0000", "x" * 36, "%00", "' or 1=1 --", "..%2F..%2Fetc"])
def test_odd_ids_in_officer_urls_are_404(desk_app, desk_officer, part):
    from tests.factories import sign_in

    client = desk_app.test_client()
    sign_in(client, desk_officer)
    for path in (f"/officer/consult/{part}", f"/officer/consult/{part}/files/{part}", f"/officer/consult/{part}/feedback"):
        assert client.get(path).status_code == 404, path
