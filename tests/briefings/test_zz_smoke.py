from clearance.permissions import Role
from tests.factories import sign_in
from tests.clearance.helpers import grant, certify, briefing, DEPT

def test_smoke(app, factory):
    company = factory.company()
    member = factory.person(Role.COMPANY_MEMBER, company_id=company, department=DEPT)
    officer = factory.person(Role.OFFICER)
    so = factory.person(Role.SECURITY_OFFICER)
    grant(app, member.id, 2, ["SEMI"])
    grant(app, officer.id, 2, ["SEMI"])
    certify(app, company, 2)
    b2 = briefing(app, title="Secret thing", level=2, compartments=["SEMI"], handlers=[member.id, officer.id], designator_id=officer.id,
                  body="# H\n## 概要 [公開]\npublic para\n## 詳細 [重要]\nsecret para")
    b0 = briefing(app, title="Public thing")
    c = app.test_client()
    sign_in(c, member)
    r = c.get("/briefings")
    assert r.status_code == 200, r.data
    html = r.get_data(as_text=True)
    assert "Secret thing" in html and "Public thing" in html
    r = c.get(f"/briefings/{b2}")
    assert r.status_code == 200
    assert "重要経済安保情報" in r.get_data(as_text=True)
    r = c.get(f"/briefings/{b2}/pdf")
    assert r.status_code == 200 and r.data[:4] == b"%PDF"
    open("/tmp/b2.pdf","wb").write(r.data)
    c2 = app.test_client(); sign_in(c2, officer)
    for path in ["/briefings", f"/briefings/{b2}", f"/briefings/{b2}/edit", f"/briefings/{b2}/label", f"/briefings/{b2}/readers", "/briefings/new"]:
        r = c2.get(path); assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:3000])
    c3 = app.test_client(); sign_in(c3, so)
    for path in ["/clearance", "/clearance/people", f"/clearance/people/{member.id}", "/clearance/companies", f"/clearance/companies/{company}", "/clearance/compartments"]:
        r = c3.get(path); assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:3000])
