"""Analysis: counts by category × sector / region / size, over time, drill-down, sub-topics, backlog,
labelled items, and the intake from the anonymous consultation desk."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from clearance.db import db, new_id, utcnow
from clearance.permissions import Role
from dialogue.feedback import analysis, service
from dialogue.feedback.models import FeedbackItem
from tests.clearance.helpers import grant
from tests.factories import audit_summaries, csrf, sign_in
from tests.feedback.world import user


def _item(app, **kw) -> str:
    defaults = {"text": "要望", "category": "protection", "subtopic": "leakage_guidance",
                "instrument": "technology_management", "source": "dialogue"}
    with app.test_request_context():
        item = service.create_item(db.session, service.FeedbackInput(**{**defaults, **kw}))
        db.session.commit()
        return item.id


def test_crosstab_counts_category_by_sector_and_an_item_in_two_sectors_counts_in_both(app, world):
    _item(app, sectors=["semiconductors", "chemicals"], region="kanto", size_class="small")
    _item(app, sectors=["semiconductors"], category="promotion", subtopic="investment_payback",
          instrument="budget_tax", region="kyushu", size_class="large")
    _item(app, region=None)
    with app.app_context():
        tab = analysis.crosstab(db.session, analysis.Filters(), "sector")
        assert tab.get("protection", "semiconductors") == 1 and tab.get("protection", "chemicals") == 1
        assert tab.get("promotion", "semiconductors") == 1
        assert tab.row_totals == {"promotion": 1, "protection": 2, "partnership": 0}
        assert tab.total == 3
        regions = analysis.crosstab(db.session, analysis.Filters(), "region")
        assert regions.get("protection", "unknown") == 1 and "unknown" in regions.columns
        sizes = analysis.crosstab(db.session, analysis.Filters(regions=("kyushu",)), "size")
        assert sizes.total == 1 and sizes.get("promotion", "large") == 1


def test_over_time_fills_empty_months_with_zero(app, world):
    now = utcnow()
    _item(app, received_at=datetime(now.year - 1, 1, 15))
    _item(app, received_at=datetime(now.year - 1, 4, 2), category="partnership", subtopic="more_dialogue",
          instrument="dialogue")
    with app.app_context():
        s = analysis.over_time(db.session, analysis.Filters())
    assert s.months == [f"{now.year - 1}-0{m}" for m in (1, 2, 3, 4)]
    assert s.by_category["protection"] == [1, 0, 0, 0] and s.by_category["partnership"] == [0, 0, 0, 1]


def test_backlog_buckets_unanswered_items_by_age(app, world):
    now = utcnow()
    _item(app, received_at=now - timedelta(days=5))
    _item(app, received_at=now - timedelta(days=100))
    answered = _item(app, received_at=now - timedelta(days=400))
    with app.test_request_context():
        service.answer(db.session, db.session.get(FeedbackItem, answered), "済", actor=user(world.officer.id))
        db.session.commit()
        b = analysis.backlog(db.session, analysis.Filters(), now=now)
    assert b.open_items == 2
    assert dict(b.buckets) == {(0, 30): 1, (30, 90): 0, (90, 180): 1, (180, 365): 0, (365, None): 0}
    assert [i.received_at.date() for i in b.oldest] == [(now - timedelta(days=100)).date(), (now - timedelta(days=5)).date()]


def test_top_subtopics_are_ordered_by_count(app, world):
    for _ in range(3):
        _item(app, category="partnership", subtopic="price_pass_through", instrument="dialogue")
    _item(app)
    with app.app_context():
        top = analysis.top_subtopics(db.session, analysis.Filters(), limit=5)
    assert [(t.code, t.count, t.open) for t in top] == [("price_pass_through", 3, 3), ("leakage_guidance", 1, 1)]


def test_drill_down_lists_exactly_the_items_of_a_cell(app, world):
    _item(app, sectors=["robots"], text="ロボットの件")
    _item(app, sectors=["steel"], text="鉄鋼の件")
    client = app.test_client()
    sign_in(client, world.officer)
    page = client.get("/feedback/analysis").get_data(as_text=True)
    assert "sector=robots" in page
    listed = client.get("/feedback?category=protection&sector=robots").get_data(as_text=True)
    assert "ロボットの件" in listed and "鉄鋼の件" not in listed


def test_garbage_filters_are_dropped_not_an_error(app, world):
    client = app.test_client()
    sign_in(client, world.officer)
    for query in ("?from=2025-13-45&to=x&category=evil&sector=%3Cscript%3E&page=-3&open=2",
                  "?from=9999-01-01", "?sector=" + "a" * 5000):
        for path in ("/feedback", "/feedback/analysis", "/feedback/charts/timeline.svg",
                     "/reports/feedback.csv"):
            resp = client.get(path + query)
            assert resp.status_code == 200, (path, query)
    assert client.get("/feedback/charts/nope.svg").status_code == 404
    f = analysis.parse_filters(MultiDict([("from", "2025-02-30"), ("region", "kanto"), ("region", "mars")]))
    assert f.date_from is None and f.regions == ("kanto",)


def test_charts_are_svg_images_with_their_own_policy(app, world):
    _item(app)
    client = app.test_client()
    sign_in(client, world.officer)
    for name in ("categories", "timeline", "subtopics"):
        resp = client.get(f"/feedback/charts/{name}.svg")
        assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
        assert b"<script" not in resp.data
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]


def test_labelled_item_text_is_hidden_from_an_officer_without_clearance_but_counted(app, world, factory):
    secret = "懸念国企業からの買収打診の具体的内容"
    item_id = _item(app, text=secret, level=1)
    uncleared = factory.person(Role.OFFICER)
    client = app.test_client()
    sign_in(client, uncleared)
    for path in ("/feedback", f"/feedback/{item_id}", "/reports/feedback.csv"):
        assert secret not in client.get(path).get_data(as_text=True)
    assert ">1<" in client.get("/feedback/analysis").get_data(as_text=True).replace(" ", "")
    resp = client.post(f"/feedback/{item_id}/answer", data={"csrf_token": csrf(client, "/feedback"), "answer": "x"})
    assert resp.status_code == 404
    grant(app, world.officer.id, level=1)
    cleared = app.test_client()
    sign_in(cleared, world.officer)
    assert secret in cleared.get(f"/feedback/{item_id}").get_data(as_text=True)


def test_anonymous_consultation_passages_become_items_without_a_way_back(app, world):
    from dialogue.consult.models import FeedbackCandidate

    with app.app_context():
        c = FeedbackCandidate(id=new_id(), theme="relocation_or_jv", sector="chemicals", tier="2", size_class="small",
                              month=date(2025, 5, 1), created_by_id=world.officer.id)
        c.text = "取引先から懸念国への工場移転を求められている。"
        db.session.add(c)
        db.session.commit()
        candidate_id = c.id
    client = app.test_client()
    sign_in(client, world.officer)
    assert "1" in client.get("/feedback").get_data(as_text=True)
    resp = client.post("/feedback/intake", data={"csrf_token": csrf(client, "/feedback")})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(FeedbackCandidate, candidate_id) is None
        item = db.session.execute(select(FeedbackItem)).scalar_one()
        assert item.source == "anonymous" and item.company_id is None and item.submitted_by_id is None
        assert item.subtopic == "coercive_requests" and item.tier == 2 and item.sectors == ["chemicals"]
        assert item.received_at == datetime(2025, 5, 1)
        assert item.text == "取引先から懸念国への工場移転を求められている。"
        assert candidate_id not in repr(item.__dict__)
    assert "Anonymous feedback taken in" in audit_summaries(app)


def test_an_anonymous_item_cannot_name_a_company(app, world):
    with app.test_request_context():
        try:
            service.create_item(db.session, service.FeedbackInput(
                text="t", category="promotion", subtopic="important_bases", instrument="budget_tax",
                source="anonymous", company_id=world.a))
        except service.FeedbackInvalid as exc:
            assert "source" in exc.errors
        else:
            raise AssertionError("stored an anonymous item with a company")


def test_policy_measures_are_linked_and_shown_to_the_company(app, world):
    item_id = _item(app, source="company", company_id=world.a, text="税制での支援を")
    officer = app.test_client()
    sign_in(officer, world.officer)
    token = csrf(officer, "/feedback/measures")
    assert officer.post("/feedback/measures", data={
        "csrf_token": token, "title_ja": "生産比例税制", "title_en": "Production-linked tax credit",
        "category": "promotion", "instrument": "budget_tax", "description": "戦略分野の国内生産を支援"}).status_code == 302
    assert officer.post("/feedback/measures", data={
        "csrf_token": token, "title_ja": "", "title_en": "x" * 300, "category": "nope",
        "instrument": "nope"}).status_code == 400
    with app.app_context():
        from dialogue.feedback.models import PolicyMeasure

        measure = db.session.execute(select(PolicyMeasure)).scalar_one()
    token = csrf(officer, f"/feedback/{item_id}")
    assert officer.post(f"/feedback/{item_id}/measures",
                        data={"csrf_token": token, "measures": [measure.id]}).status_code == 302
    assert officer.post(f"/feedback/{item_id}/measures",
                        data={"csrf_token": token, "measures": ["not-a-measure"]}).status_code == 400
    member = app.test_client()
    sign_in(member, world.a_member)
    assert "生産比例税制" in member.get(f"/portal/feedback/{item_id}").get_data(as_text=True)
