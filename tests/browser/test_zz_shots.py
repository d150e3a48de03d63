import re
from sqlalchemy import select
from clearance.db import db
from tests.browser.steps import submit_password, submit_code
from tests.factories import Person

def test_shots(page, live_server, shoot, tmp_path):
    from dialogue.demo.seed import seed
    app = live_server.app
    with app.app_context():
        seed(db.session, app.config, tmp_path / "acc.json", if_empty=False)
        import json
        rows = json.loads((tmp_path / "acc.json").read_text())
        from dialogue.meetings.models import Dialogue, Invitation
        did = db.session.execute(select(Dialogue.id).where(Dialogue.title.like("%第2回%"))).scalar_one()
    off = next(r for r in rows if r["email"].startswith("officer@"))
    p = Person("x", off["email"], "", "officer", None, off["password"], off["totp_secret"])
    submit_password(page, p); submit_code(page, p); page.wait_for_url(re.compile("/officer$"))
    page.wait_for_load_state("networkidle")
    shoot(page, "z-overview")
    for path, name in (("/dialogues", "z-list"), ("/dialogues/upcoming", "z-upcoming"), (f"/dialogues/{did}", "z-detail"),
                       ("/dialogues/new", "z-new"), ("/calendar", "z-calendar")):
        page.goto(path); shoot(page, name)
    page.context.clear_cookies()
    mem = next(r for r in rows if r["email"].startswith("a.suzuki"))
    p = Person("x", mem["email"], "", "company_admin", None, mem["password"], None)
    submit_password(page, p); page.wait_for_url(re.compile("/portal$"))
    page.goto("/portal/dialogues"); shoot(page, "z-portal")
    page.goto("/portal/notifications"); shoot(page, "z-notes")
    page.guard.assert_clean()
