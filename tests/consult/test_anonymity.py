"""Nothing that identifies a submitter is kept: submit and reply through the real app with a
canary user agent and a canary X-Forwarded-For, then search everything we write."""

from __future__ import annotations

import io
import logging
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import DateTime, inspect, select, text

from clearance import audit
from clearance.audit import AuditEntry
from clearance.auth.models import UserAccount
from clearance.db import db
from dialogue.consult import service
from dialogue.consult.models import ConsultCase
from tests.conftest import BACKEND
from tests.consult import samples
from tests.consult.conftest import Visitor, put_on_roster

CANARY_UA = "Mozilla/5.0 (CanaryOS) zzUAcanary-7f3e91"
CANARY_IP = "203.0.113.197"
CANARY_TEXT = "zzMSGcanary-d41c drawings of the 7nm stage"


def _database_bytes(app, db_url: str) -> bytes:
    """Every byte the database holds: the SQLite file with its WAL and journal, or every row on PostgreSQL."""
    if BACKEND == "postgres":
        with app.app_context():
            out = []
            for table in inspect(db.engine).get_table_names():
                rows = db.session.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t')).scalars()
                out += list(rows)
            return "\n".join(out).encode()
    path = Path(db_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def _folder_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file()) if folder.exists() else b""


def _forms(values: list[str]) -> list[bytes]:
    out = []
    for v in values:
        out += [v.encode(), v.encode("utf-16-le")]
    return out


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


def _datetime_rows(app) -> dict[tuple[str, str], set]:
    """(table, column) -> set of (primary key, value) for every DateTime column in the schema."""
    out: dict[tuple[str, str], set] = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            pk = [c for c in table.primary_key.columns]
            for col in table.columns:
                if isinstance(col.type, DateTime):
                    try:
                        rows = db.session.execute(select(*pk, col)).all()
                    except Exception:  # a table another area has not migrated here
                        db.session.rollback()
                        continue
                    out[(table.name, col.name)] = {(tuple(r[:-1]), r[-1]) for r in rows}
    return out


def test_canary_user_agent_and_address_are_nowhere(app_factory, db_url, tmp_path, factory, caplog, log_file):
    caplog.set_level(logging.DEBUG)
    files_dir = tmp_path / "files"
    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(files_dir), TAIWA_PROXY_COUNT=1)
    officer = factory.person()
    put_on_roster(app, officer.id)
    before = _datetime_rows(app)
    with app.app_context():
        audit_before = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    headers = {"User-Agent": CANARY_UA, "X-Forwarded-For": CANARY_IP}

    # given a submitter who sends, confirms, comes back, answers, adds files and mistypes a receipt
    v = Visitor(app.test_client(), headers=headers)
    resp = v.submit(CANARY_TEXT, files=[(io.BytesIO(samples.jpeg_with_gps()), "photo.jpg")])
    code = v.receipt_from(resp)
    assert v.confirm(code).status_code == 303
    v.post("/consult", {"csrf_token": v.csrf(), "locale": "en", "next": "/consult"})
    with app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        service.ministry_reply(db.session, db.session.get(UserAccount, officer.id), case, "Thank you.", [])
        db.session.commit()
    back = Visitor(app.test_client(), headers=headers)
    back.open("0" * 25)
    back.open(code)
    page = back.get("/consult/case").get_data(as_text=True)
    assert "Thank you." in page
    assert back.reply(CANARY_TEXT + " again", files=[(io.BytesIO(b"notes"), "notes.txt")]).status_code == 303
    link = re.search(r'href="(/consult/case/files/[^"]+)"', back.get("/consult/case").get_data(as_text=True)).group(1)
    assert back.get(link).status_code == 200
    back.get("/consult/does-not-exist")

    # then neither the user agent, nor the address, nor the receipt, nor the text is anywhere
    secrets_ = [CANARY_UA, "zzUAcanary-7f3e91", CANARY_IP, code, " ".join(code[i:i + 5] for i in range(0, 25, 5)),
                CANARY_TEXT, "zzMSGcanary"]
    cookie = back.client.get_cookie("taiwa_desk", path="/consult").value
    secrets_.append(cookie)
    places = {
        "database (file, WAL, journal)": _database_bytes(app, db_url),
        "upload folder": _folder_bytes(files_dir),
        "log file": log_file.read_bytes(),
        "captured log records": caplog.text.encode(),
    }
    with app.app_context():
        places["audit log"] = "\n".join(f"{e.actor} {e.summary} {e.data}" for e in
                                        db.session.execute(select(AuditEntry)).scalars()).encode()
    hits = [(name, s) for name, blob in places.items() for s in secrets_ for form in _forms([s]) if form in blob]
    assert hits == []
    assert places["database (file, WAL, journal)"], "the search must have read something"

    # and no record made during a desk request carries more than the day
    desk_records = [r for r in caplog.records if r.created % 86400 != 0]
    assert all("consult" not in r.getMessage() for r in desk_records)

    # and every new time in the database is a day (midnight), except what officers did
    after = _datetime_rows(app)
    precise = []
    for key, rows in after.items():
        for pk, value in rows - before.get(key, set()):
            if key[0] == "audit_entry":
                continue  # checked below
            if isinstance(value, datetime) and value.time() != datetime.min.time():
                precise.append((key, pk, value))
    assert precise == []
    with app.app_context():
        new_entries = db.session.execute(select(AuditEntry).where(AuditEntry.seq > audit_before)).scalars().all()
        assert all(e.actor_id == officer.id for e in new_entries), [(e.actor, e.summary) for e in new_entries]
        assert audit.verify(db.session) is None


def test_desk_dates_are_days_not_instants(visitor, desk_app):
    visitor.new_case()
    visitor.reply("more")
    with desk_app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name.startswith("consult_"):
                for col in table.columns:
                    assert not isinstance(col.type, DateTime), f"{table.name}.{col.name} would keep an instant"
        case = db.session.execute(select(ConsultCase)).scalar_one()
        assert isinstance(case.created_on, date) and not isinstance(case.created_on, datetime)


def test_log_records_during_desk_requests_carry_the_day_only(visitor, desk_app, caplog):
    caplog.set_level(logging.INFO)

    @desk_app.before_request
    def say_something():
        logging.getLogger("taiwa.test").info("inside a request")

    visitor.get("/consult")
    visitor.get("/login")
    desk, login = [r for r in caplog.records if r.getMessage() == "inside a request"]
    assert desk.created % 86400 == 0 and desk.msecs == 0
    assert login.created % 86400 != 0, "outside the desk, logs keep their precise time"


def test_desk_actions_leave_no_audit_entry_until_the_day_is_over(visitor, desk_app, frozen):
    with desk_app.app_context():
        start = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    code = visitor.new_case()
    Visitor(desk_app.test_client()).open("1" * 25)
    Visitor(desk_app.test_client()).open(code)
    with desk_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == start
    frozen.advance(days=1)
    with desk_app.app_context():
        assert service.close_day_tallies(db.session) == 1
        db.session.commit()
        entry = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
        assert entry.summary == "Consultation desk: public activity of the day"
        import json

        data = json.loads(entry.data)
        assert data["day"] == "2026-11-26" and data["cases_submitted"] == 1
        assert data["receipts_refused"] == 1 and data["receipts_accepted"] == 1
        assert audit.verify(db.session) is None
