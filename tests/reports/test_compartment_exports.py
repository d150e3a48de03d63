"""A level-0 item in a compartment is not public: its words never leave in a spreadsheet (leak suite finding)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from clearance.db import db
from clearance.permissions import Role
from dialogue.feedback import service as feedback_service
from tests.clearance.helpers import compartment
from tests.factories import sign_in


def _item(app, text: str, compartments=()) -> None:
    with app.test_request_context():
        feedback_service.create_item(db.session, feedback_service.FeedbackInput(
            text=text, category="partnership", subtopic="price_pass_through", instrument="dialogue",
            source="anonymous", level=0, compartments=list(compartments)))
        db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_feedback_export_withholds_the_words_of_a_level_0_item_in_a_compartment(app, factory, fmt):
    compartment(app, "BATT")
    _item(app, "公開の要望テキスト")
    _item(app, "区画内の要望テキスト", ["BATT"])
    officer = factory.person(Role.OFFICER)  # no clearance: may read public material only
    client = app.test_client()
    sign_in(client, officer)
    resp = client.get(f"/reports/feedback.{fmt}")
    assert resp.status_code == 200
    if fmt == "csv":
        text = resp.get_data(as_text=True)
    else:
        wb = load_workbook(io.BytesIO(resp.data), read_only=True)
        text = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    assert "公開の要望テキスト" in text
    assert "区画内の要望テキスト" not in text

