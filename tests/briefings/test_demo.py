"""The demo accounts in instance/demo-accounts.json behave as their descriptions say."""

from __future__ import annotations

import json

from sqlalchemy import select

from clearance.db import db
from dialogue.briefings.models import Briefing
from dialogue.demo.seed import seed
from tests.factories import Person, sign_in

L2_SEMI = "SiCパワー半導体関連企業への買収打診の動向"
L2_AERO = "宇宙用半導体の輸出管理逸脱事案"
L1_SEMI = "半導体製造装置部材の供給途絶シナリオ"
L1_OPEN = "蓄電池材料の輸出規制の動向"
PUBLIC = "取引先の多角化による経済的威圧への備え"


def _titles(client) -> str:
    return client.get("/briefings").get_data(as_text=True)


def test_demo_company_accounts_see_what_their_standing_allows(app, tmp_path):
    path = tmp_path / "demo-accounts.json"
    with app.app_context():
        seed(db.session, app.config, path, if_empty=False)
        ids = {b.title: b.id for b in db.session.execute(select(Briefing)).scalars()}  # titles are sealed
    rows = {r["email"]: r for r in json.loads(path.read_text(encoding="utf-8"))}

    def client_for(email):
        r = rows[email]
        c = app.test_client()
        assert sign_in(c, Person("", email, "", r["role"], None, r["password"], r["totp_secret"])).status_code == 302
        return c

    cleared = client_for("k.matsuda@chikushi-power.example.co.jp")
    listing = _titles(cleared)
    assert all(t in listing for t in (L2_SEMI, L2_AERO, L1_SEMI, L1_OPEN, PUBLIC))
    page = cleared.get(f"/briefings/{ids[L2_SEMI]}").get_data(as_text=True)
    assert "重要経済安保情報 // SEMI" in page and "(公開)" in page  # banner and portion marks

    for email in ("a.okada@chikushi-power.example.co.jp", "h.fujita@sanuki-api.example.co.jp",
                  "s.ogawa@chikushi-power.example.co.jp", "d.saito@chikushi-power.example.co.jp",
                  "r.ishii@chikushi-power.example.co.jp", "y.kondo@shunan-cathode.example.co.jp"):
        listing = _titles(client_for(email))
        assert PUBLIC in listing, email
        assert L1_OPEN not in listing and L2_SEMI not in listing and L1_SEMI not in listing, email
        assert "public" in rows[email]["description"].lower(), email

    level1 = _titles(client_for("m.endo@tohoku-ceramics.example.co.jp"))
    assert L1_SEMI in level1 and L1_OPEN in level1 and L2_SEMI not in level1

    officer = client_for("officer@meti.example.go.jp")
    assert "量子コンピュータ部材" in _titles(officer)  # the draft, for the officers
    security = client_for("security@meti.example.go.jp")
    assert security.get("/clearance").status_code == 200
    assert "東北精密セラミックス" in security.get("/clearance").get_data(as_text=True)  # expiring within 90 days
