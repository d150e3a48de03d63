"""The demo consultations: every status, replies and files, the demo officers, working receipts."""

from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import select

from clearance import audit
from clearance.consult_access import DeskMember
from clearance.db import db
from dialogue.consult.models import ConsultAttachment, ConsultCase, ConsultMessage
from dialogue.consult.taxonomy import STATUSES
from dialogue.demo.seed import seed
from tests.consult.conftest import Visitor


@pytest.fixture
def seeded(app, tmp_path):
    path = tmp_path / "instance" / "demo-accounts.json"
    with app.app_context():
        seed(db.session, app.config, path, if_empty=False)
    app.receipts_path = path.with_name("demo-receipts.json")
    return app


def test_demo_has_cases_in_every_status_with_replies_and_files(seeded):
    with seeded.app_context():
        cases = db.session.execute(select(ConsultCase)).scalars().all()
        assert {c.status for c in cases} == set(STATUSES)
        authors = {m.author for m in db.session.execute(select(ConsultMessage)).scalars()}
        assert authors == {"submitter", "ministry"}
        attachments = db.session.execute(select(ConsultAttachment)).scalars().all()
        assert len(attachments) >= 3 and any("gps" in a.removed for a in attachments)
        roster = set(db.session.execute(select(DeskMember.user_id)).scalars())
        assert {c.assignee_id for c in cases if c.assignee_id} <= roster and len(roster) == 2
        assert any(c.status == "new" and c.ack_due_on < c.created_on.__class__.today() for c in cases), "one overdue"
        assert audit.verify(db.session) is None


def test_demo_receipts_are_private_and_open_their_cases(seeded):
    assert stat.S_IMODE(seeded.receipts_path.stat().st_mode) == 0o600
    rows = json.loads(seeded.receipts_path.read_text(encoding="utf-8"))["cases"]
    assert len(rows) >= 5
    v = Visitor(seeded.test_client())
    for row in rows[:2]:
        v.open(row["receipt"])
        assert v.get("/consult/case").status_code == 200, row["ref"]
