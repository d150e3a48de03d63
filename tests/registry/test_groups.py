"""Company groups: tiers, supplier links that run downstream, and the supply-chain diagram."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # our own response, parsed to check it is well-formed

import pytest
from sqlalchemy import select

from clearance.db import db
from clearance.permissions import Role
from dialogue.registry.models import GroupLink, GroupMember
from tests.factories import audit_summaries
from tests.registry.conftest import post

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def chain(add_company, add_group):
    ids = {
        "ore": add_company("鉱石精錬株式会社", number=None, prefecture="01"),
        "powder": add_company("粉末材料株式会社"),
        "part": add_company("精密部品株式会社"),
        "part2": add_company("第二部品株式会社"),
        "product": add_company("完成品工業株式会社", name_en="Finished Goods & <Sons> Ltd."),
    }
    gid = add_group("試験サプライチェーン", members={ids["ore"]: 1, ids["powder"]: 2, ids["part"]: 3, ids["part2"]: 3,
                                              ids["product"]: 4},
                    links=[(ids["ore"], ids["powder"]), (ids["powder"], ids["part"]), (ids["powder"], ids["part2"]),
                           (ids["part"], ids["product"]), (ids["ore"], ids["product"])])
    return gid, ids


def test_diagram_is_valid_svg_with_a_box_per_member_and_an_arrow_per_link(officer_client, chain):
    gid, ids = chain
    resp = officer_client.get(f"/registry/groups/{gid}/diagram.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    root = ET.fromstring(resp.data)  # noqa: S314 - well-formed XML: names with & and < are escaped
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    boxes = root.findall(f".//{SVG}g[@class='dg-boxes']/{SVG}a")
    assert len(boxes) == 5
    arrows = root.findall(f".//{SVG}g[@class='dg-links']/{SVG}path")
    assert len(arrows) == 5
    assert sum(1 for a in arrows if a.get("stroke-dasharray")) == 1  # ore → product skips two tiers
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for label in ("一次材料", "二次材料", "部品", "完成品"):
        assert label in texts
    assert root.find(f"{SVG}title").text == "試験サプライチェーン"
    assert "style=" not in resp.get_data(as_text=True) and "<style" not in resp.get_data(as_text=True)
    assert "<script" not in resp.get_data(as_text=True)


def test_boxes_sit_in_their_tier_column_and_arrows_run_left_to_right(officer_client, chain):
    gid, ids = chain
    root = ET.fromstring(officer_client.get(f"/registry/groups/{gid}/diagram.svg").data)  # noqa: S314
    x_of = {}
    for a in root.findall(f".//{SVG}g[@class='dg-boxes']/{SVG}a"):
        cid = a.get("href").rsplit("/", 1)[1]
        x_of[cid] = float(a.find(f"{SVG}rect").get("x"))
    assert x_of[ids["ore"]] < x_of[ids["powder"]] < x_of[ids["part"]] == x_of[ids["part2"]] < x_of[ids["product"]]
    for path in root.findall(f".//{SVG}g[@class='dg-links']/{SVG}path"):
        xs = [float(n) for n in re.findall(r"[-\d.]+(?=,)", path.get("d"))]
        assert xs[0] < xs[-1]


def test_diagram_is_inline_on_the_page_with_the_links_as_a_table(officer_client, chain):
    gid, _ = chain
    html = officer_client.get(f"/registry/groups/{gid}").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="diagram"' in html
    assert html.count('class="link-button">') >= 5  # remove buttons for members and links
    assert "完成品工業株式会社" in html


def test_english_page_draws_english_names(signed_in, chain, app):
    gid, _ = chain
    client, person = signed_in(Role.OFFICER, locale="en")
    svg = client.get(f"/registry/groups/{gid}/diagram.svg").get_data(as_text=True)
    assert "Finished Goods &amp; &lt;Sons&gt;" in svg


def test_technology_groups_have_no_diagram_or_links(officer_client, add_company, add_group, app):
    a, b = add_company("技術甲株式会社"), add_company("技術乙株式会社")
    gid = add_group("試験技術グループ", kind="technology", members={a: None, b: None})
    assert officer_client.get(f"/registry/groups/{gid}/diagram.svg").status_code == 404
    assert post(officer_client, f"/registry/groups/{gid}/links", {"supplier": a, "customer": b}).status_code == 302
    with app.app_context():
        assert db.session.execute(select(GroupLink).where(GroupLink.group_id == gid)).first() is None
        assert {m.tier for m in db.session.scalars(select(GroupMember).where(GroupMember.group_id == gid))} == {None}


def test_links_must_run_downstream_between_members(officer_client, chain, add_company, app):
    gid, ids = chain
    outsider = add_company("部外者株式会社")
    for supplier, customer in ((ids["product"], ids["ore"]), (ids["part"], ids["part2"]),
                               (ids["ore"], outsider), (ids["ore"], ids["ore"]), (ids["ore"], ids["powder"])):
        post(officer_client, f"/registry/groups/{gid}/links", {"supplier": supplier, "customer": customer})
    with app.app_context():
        assert len(db.session.scalars(select(GroupLink).where(GroupLink.group_id == gid)).all()) == 5  # unchanged
    assert post(officer_client, f"/registry/groups/{gid}/links",
                {"supplier": ids["ore"], "customer": ids["part2"]}).status_code == 302
    with app.app_context():
        assert len(db.session.scalars(select(GroupLink).where(GroupLink.group_id == gid)).all()) == 6
    assert "Supplier link added" in audit_summaries(app)


def test_members_are_added_by_corporate_number_and_moving_a_tier_drops_backward_links(officer_client, chain, app):
    gid, ids = chain
    with app.app_context():
        from dialogue.registry.models import Company

        powder_number = db.session.get(Company, ids["powder"]).corporate_number
    # Move the powder maker to tier 4: its links to tier-3 parts would now run upstream.
    assert post(officer_client, f"/registry/groups/{gid}/members",
                {"corporate_number": powder_number, "tier": "4"}).status_code == 302
    with app.app_context():
        links = {(lk.supplier_id, lk.customer_id) for lk in
                 db.session.scalars(select(GroupLink).where(GroupLink.group_id == gid))}
        assert (ids["powder"], ids["part"]) not in links and (ids["ore"], ids["powder"]) in links
    resp = post(officer_client, f"/registry/groups/{gid}/members", {"corporate_number": "1234567890123", "tier": "1"})
    assert resp.status_code == 302
    assert post(officer_client, f"/registry/groups/{gid}/members", {"corporate_number": powder_number, "tier": "9"}
                ).status_code == 302  # refused with a message, not a 500
    with app.app_context():
        assert db.session.execute(select(GroupMember.tier).where(GroupMember.company_id == ids["powder"])).scalar() == 4


def test_removing_a_member_removes_its_links(officer_client, chain, app):
    gid, ids = chain
    with app.app_context():
        member = db.session.execute(select(GroupMember).where(GroupMember.group_id == gid,
                                                              GroupMember.company_id == ids["powder"])).scalar_one()
    assert post(officer_client, f"/registry/groups/{gid}/members/{member.id}/remove").status_code == 302
    with app.app_context():
        left = db.session.scalars(select(GroupLink).where(GroupLink.group_id == gid)).all()
        assert all(ids["powder"] not in (lk.supplier_id, lk.customer_id) for lk in left) and len(left) == 2


def test_group_crud_and_kind_is_fixed(officer_client, app):
    resp = post(officer_client, "/registry/groups/new", {"kind": "supply_chain", "name_ja": "新規チェーン",
                                                          "name_en": "New chain", "sector": "steel"})
    gid = resp.headers["Location"].rsplit("/", 1)[1]
    post(officer_client, f"/registry/groups/{gid}/edit", {"kind": "technology", "name_ja": "改名チェーン",
                                                          "name_en": "Renamed", "sector": "steel"})
    page = officer_client.get(f"/registry/groups/{gid}").get_data(as_text=True)
    assert "改名チェーン" in page
    from dialogue.registry.models import CompanyGroup

    with app.app_context():
        assert db.session.get(CompanyGroup, gid).kind == "supply_chain"
    dup = post(officer_client, "/registry/groups/new", {"kind": "technology", "name_ja": "改名チェーン",
                                                         "name_en": "x", "sector": "steel"})
    assert dup.status_code == 400
    assert post(officer_client, f"/registry/groups/{gid}/delete").status_code == 302
    assert officer_client.get(f"/registry/groups/{gid}").status_code == 404
    assert {"Company group created", "Company group updated", "Company group deleted"} <= set(audit_summaries(app))


def test_unknown_ids_are_404(officer_client, chain):
    gid, _ = chain
    for path in ("/registry/groups/nope", "/registry/groups/nope/diagram.svg", f"/registry/groups/{'x' * 500}"):
        assert officer_client.get(path).status_code == 404
    assert post(officer_client, f"/registry/groups/{gid}/links/nope/remove").status_code == 404
    assert post(officer_client, f"/registry/groups/{gid}/members/nope/remove").status_code == 404
