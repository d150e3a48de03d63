"""Desk fixtures: an app with the desk's abuse checks tuned for tests, a frozen clock,
a visitor driving the real pages, and desk officers."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clearance.consult_access import DeskMember
from clearance.db import db
from clearance.permissions import Role
from dialogue.consult import clock

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" type="hidden" value="([^"]+)"')
RECEIPT = re.compile(r'class="receipt-group">(\d{5})<')
ROOT = Path(__file__).resolve().parents[2]


def said(page: str, msgid: str) -> bool:
    """The page says `msgid`, in English or in its Japanese translation (the desk is Japanese first)."""
    from babel.support import Translations

    text = html.unescape(page)
    return msgid in text or Translations.load(str(ROOT / "translations"), ["ja"]).gettext(msgid) in text


@pytest.fixture
def frozen(monkeypatch):
    """A settable clock for the desk: frozen.set(2026, 11, 26, 10, 30)."""

    class Frozen:
        now = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)  # 10:30 in Japan

        def set(self, *args: int) -> None:
            self.now = datetime(*args, tzinfo=UTC)

        def advance(self, **delta) -> None:
            from datetime import timedelta

            self.now = self.now + timedelta(**delta)

    f = Frozen()
    monkeypatch.setattr(clock, "_now", lambda: f.now)
    return f


@pytest.fixture
def desk_app(app_factory, tmp_path):
    return app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(tmp_path / "files"))


@dataclass
class Visitor:
    """A browser without JavaScript, on the desk's real pages."""

    client: object
    headers: dict = field(default_factory=dict)
    last: object = None

    def get(self, path: str, **kw):
        self.last = self.client.get(path, headers=self.headers, **kw)
        return self.last

    def post(self, path: str, data: dict, **kw):
        self.last = self.client.post(path, data=data, headers=self.headers, **kw)
        return self.last

    def csrf(self, path: str = "/consult", *, status: int = 200) -> str:
        resp = self.get(path)
        assert resp.status_code == status, f"GET {path}: {resp.status_code}, expected {status}"
        html = resp.get_data(as_text=True)
        m = CSRF.search(html)
        assert m, f"no desk CSRF token on {path}"
        return m.group(1)

    def submit(self, text: str = "A customer abroad asks for our process drawings.", *, files=(), **fields):
        page = self.get("/consult/new")
        assert page.status_code == 200, f"GET /consult/new: {page.status_code}"
        html = page.get_data(as_text=True)
        data = {
            "csrf_token": CSRF.search(html).group(1), "form_token": FORM_TOKEN.search(html).group(1),
            "category": "technology_transfer", "sector": "", "tier": "", "size_class": "", "text": text,
            **fields,
        }
        if files:
            data["files"] = list(files)
        return self.post("/consult/new", data, content_type="multipart/form-data")

    def receipt_from(self, resp=None) -> str:
        groups = RECEIPT.findall((resp or self.last).get_data(as_text=True))
        assert len(groups) == 5, "no receipt on the page"
        return "".join(groups)

    def confirm(self, receipt: str, last_group: str | None = None, written: bool = True):
        html = self.last.get_data(as_text=True)
        data = {"csrf_token": CSRF.search(html).group(1), "receipt": receipt,
                "last_group": receipt[-5:] if last_group is None else last_group}
        if written:
            data["written_down"] = "y"
        return self.post("/consult/new/confirm", data)

    def new_case(self, text: str = "A customer abroad asks for our process drawings.", **kw) -> str:
        """Submit, confirm, land on the case page; returns the receipt."""
        resp = self.submit(text, **kw)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
        receipt = self.receipt_from(resp)
        assert self.confirm(receipt).status_code == 303
        return receipt

    def open(self, receipt: str):
        token = self.csrf("/consult/open")
        return self.post("/consult/open", {"csrf_token": token, "receipt": receipt})

    def reply(self, text: str, files=()):
        token = self.csrf("/consult/case")
        data = {"csrf_token": token, "action": "reply", "text": text, "keep_names": "y"}
        if files:
            data["files"] = list(files)
        return self.post("/consult/case", data, content_type="multipart/form-data")


@pytest.fixture
def visitor(desk_app):
    return Visitor(desk_app.test_client())


def put_on_roster(app, *user_ids: str) -> None:
    with app.app_context():
        for uid in user_ids:
            db.session.add(DeskMember(user_id=uid, added_on=clock.today()))
        db.session.commit()


@pytest.fixture
def desk_officer(desk_app, factory):
    person = factory.person(Role.OFFICER)
    put_on_roster(desk_app, person.id)
    return person
