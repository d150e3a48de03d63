"""Minutes text is Markdown rendered to sanitised HTML: no script, no handlers, no javascript: links, no huge input."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from dialogue.minutes.document import MAX_SECTION_CHARS, DocumentInvalid
from dialogue.minutes.render import TooLarge, to_html
from tests.factories import csrf, sign_in
from tests.minutes.helpers import current_doc, save, start

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](https://evil.example/track.png)",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<svg onload=alert(1)>",
    "[x](&#106;avascript:alert(1))",
]


class _Active(HTMLParser):
    """Collects what a browser would act on: tags, event-handler attributes, link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.handlers.append(name)
            if name in ("href", "src", "action", "formaction"):
                self.urls.append((value or "").strip().lower())


@pytest.mark.parametrize("source", ATTACKS)
def test_nothing_active_survives_rendering(source):
    parser = _Active()
    parser.feed(str(to_html(source)))
    assert parser.tags <= {"p", "a", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "br"}, parser.tags
    assert parser.handlers == []
    assert all(u.startswith(("http://", "https://", "mailto:")) for u in parser.urls), parser.urls
    assert "https://evil.example/track.png" not in parser.urls  # no images, so nothing is fetched


def test_ordinary_markdown_renders():
    html = str(to_html("**重要**\n\n- 一\n- 二\n\n[資料](https://www.meti.go.jp/)"))
    assert "<strong>重要</strong>" in html and "<li>一</li>" in html
    assert 'href="https://www.meti.go.jp/"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_huge_input_is_refused_not_truncated():
    with pytest.raises(TooLarge):
        to_html("あ" * (MAX_SECTION_CHARS + 1))


def test_deeply_nested_input_costs_nothing():
    html = str(to_html(">" * 5000 + " x"))
    assert html.count("<blockquote>") <= 25


def test_a_huge_section_is_refused_on_save_and_in_the_api(app, world):
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[0].body = "a" * (MAX_SECTION_CHARS + 1)
    with pytest.raises(DocumentInvalid):
        save(app, minutes_id, doc, base, world.officer.id)
    client = app.test_client()
    sign_in(client, world.officer)
    token = csrf(client, f"/minutes/{minutes_id}")
    resp = client.post(f"/api/minutes/{minutes_id}/revisions", json={"base_revision": base, "document": doc.to_dict()},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 400
    many = {"base_revision": base, "document": {"sections": [{"key": f"s{i}", "title": "t"} for i in range(300)]}}
    assert client.post(f"/api/minutes/{minutes_id}/revisions", json=many, headers={"X-CSRFToken": token}).status_code == 400
    body = b'{"base_revision": 1, "document": {"x": "' + b"a" * 1_100_000 + b'"}}'
    assert client.post(f"/api/minutes/{minutes_id}/revisions", data=body, content_type="application/json",
                       headers={"X-CSRFToken": token}).status_code == 413


def test_script_in_minutes_never_reaches_a_page_or_pdf(app, world):
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[0].body = "\n\n".join(ATTACKS)
    doc.sections[0].title = "<script>alert('title')</script>"
    save(app, minutes_id, doc, base, world.officer.id)
    client = app.test_client()
    sign_in(client, world.officer)
    for path in (f"/minutes/{minutes_id}", f"/minutes/{minutes_id}/edit", f"/minutes/{minutes_id}/compare?a=1&b=2"):
        parser = _Active()
        parser.feed(client.get(path).get_data(as_text=True))
        assert not parser.tags & {"script", "iframe", "img", "svg", "style"}, (path, parser.tags)
        assert parser.handlers == [], path
        assert not any(u.startswith(("javascript:", "vbscript:", "data:")) for u in parser.urls), path
    assert client.get(f"/minutes/{minutes_id}/pdf").status_code == 200
