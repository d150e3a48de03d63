"""Report periods are bounded (issue 12, finding 7): 9999-12-31 is the form's error, and a job stored with
it (queued before the bounds existed) still runs instead of dying in the background."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from clearance.db import db
from dialogue.reports import jobs
from dialogue.reports.models import ReportJob
from tests.factories import csrf, sign_in
from tests.feedback.world import user


@pytest.fixture
def inline_app(app_factory):
    return app_factory(TAIWA_REPORTS_WORKER="external")


def test_a_period_ending_in_9999_is_the_forms_error_and_queues_nothing(inline_app, world):
    client = inline_app.test_client()
    sign_in(client, world.officer)
    resp = client.post("/reports", data={"csrf_token": csrf(client, "/reports"), "activity-kind": "activity",
                                         "activity-fmt": "csv", "activity-date_to": "9999-12-31"})
    assert resp.status_code == 400
    assert "2000-01-01" in resp.get_data(as_text=True)  # the field's error names the range
    with inline_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 0


def test_a_stored_job_with_an_unbounded_period_runs(inline_app, world):
    with inline_app.test_request_context():
        job = jobs.enqueue(db.session, kind="activity", fmt="csv", params={"from": "0001-01-01", "to": "9999-12-31"},
                           user=user(world.officer.id), locale="ja")
        db.session.commit()
        job_id = job.id
    jobs.run_pending(inline_app)
    with inline_app.app_context():
        done = db.session.get(ReportJob, job_id)
        assert done.status == "done", done.error
