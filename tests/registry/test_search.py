"""Search and filters: Japanese substrings, English in any case, wildcards typed as text, on both databases."""

from __future__ import annotations

import re

import pytest

from clearance.permissions import Role


def names(resp) -> list[str]:
    """Japanese names in the result table (each row links to the company and shows both names)."""
    assert resp.status_code == 200
    return re.findall(r'<span class="name-sub" lang="ja">([^<]+)</span>', resp.get_data(as_text=True)) or \
        re.findall(r'<span lang="ja">([^<]+)</span>', resp.get_data(as_text=True))


@pytest.fixture
def register(add_company):
    add_company("パワー半導体工業株式会社", name_en="Power Semiconductor Works Co., Ltd.", sectors=("semiconductors",),
                prefecture="40", size_class="large", key_products="SiC MOSFET")
    add_company("北海化学株式会社", name_en="Hokkai Chemicals Co., Ltd.", sectors=("chemicals",), prefecture="01",
                key_products="半導体用高純度薬品", materials=("critical_minerals",))
    add_company("100%リサイクル株式会社", name_en="Hundred_Percent Recycling K.K.", sectors=("chemicals",),
                prefecture="27", size_class="mid")
    add_company("ＡＢＣ精機株式会社", name_en="ABC Seiki Co., Ltd.", sectors=("machine_tools",), prefecture="23",
                tech_field="computing")
    return None


def get(client, **params):
    return client.get("/registry/companies", query_string=params)


def test_japanese_substring_finds_the_longer_word(officer_client, register):
    found = names(get(officer_client, q="半導体"))
    assert "パワー半導体工業株式会社" in found
    assert "北海化学株式会社" in found  # 半導体 in its key products
    assert "100%リサイクル株式会社" not in found


def test_english_is_case_insensitive(officer_client, register):
    for query in ("power", "POWER", "Power Semi", "pOwEr sEmIcOnDuCtOr"):
        assert names(get(officer_client, q=query)) == ["パワー半導体工業株式会社"], query


def test_full_width_and_half_width_match_each_other(officer_client, register):
    assert names(get(officer_client, q="abc精機")) == ["ＡＢＣ精機株式会社"]  # stored full-width, typed half-width
    assert names(get(officer_client, q="ﾊﾟﾜｰ")) == ["パワー半導体工業株式会社"]  # half-width katakana typed


def test_percent_and_underscore_are_literal(officer_client, register):
    assert names(get(officer_client, q="%")) == ["100%リサイクル株式会社"]
    assert names(get(officer_client, q="_")) == ["100%リサイクル株式会社"]
    assert names(get(officer_client, q="Hundred_Percent")) == ["100%リサイクル株式会社"]
    assert names(get(officer_client, q="Hundred%Percent")) == []  # % is not "anything"
    assert names(get(officer_client, q="\\")) == []  # the escape character itself is just a character


def test_corporate_number_is_searchable(officer_client, add_company):
    from tests.registry.conftest import new_number

    number = new_number()
    add_company("番号検索株式会社", number=number)
    assert names(get(officer_client, q=number[3:10])) == ["番号検索株式会社"]


def test_filters_combine(officer_client, register, add_association):
    assert names(get(officer_client, sector="chemicals", region="hokkaido")) == ["北海化学株式会社"]
    assert names(get(officer_client, size="large")) == ["パワー半導体工業株式会社"]
    assert names(get(officer_client, tech_field="computing")) == ["ＡＢＣ精機株式会社"]
    assert names(get(officer_client, material="critical_minerals")) == ["北海化学株式会社"]
    assert names(get(officer_client, q="株式会社", region="kyushu")) == ["パワー半導体工業株式会社"]


def test_association_and_group_filters(officer_client, add_company, add_association, add_group):
    assoc = add_association("試験工業会")
    inside = add_company("会員株式会社", association_ids=(assoc,))
    add_company("非会員株式会社")
    group = add_group("試験チェーン", members={inside: 1})
    assert names(get(officer_client, association=assoc)) == ["会員株式会社"]
    assert names(get(officer_client, group=group)) == ["会員株式会社"]


@pytest.mark.parametrize("params", [
    {"sector": "no-such-sector"}, {"region": "'; DROP TABLE company; --"}, {"q": "x" * 5000},
    {"page": "-1"}, {"page": "abc"}, {"page": "99999"}, {"association": "../../etc"}, {"q": "\u202e\ufeff"},
])
def test_odd_input_never_errors(officer_client, register, params):
    resp = get(officer_client, **params)
    assert resp.status_code == 200


def test_pagination_keeps_the_filters(officer_client, add_company):
    for n in range(55):
        add_company(f"頁送り{n:02d}株式会社", sectors=("steel",))
    first = get(officer_client, sector="steel")
    html = first.get_data(as_text=True)
    assert len(names(first)) == 50
    assert "sector=steel" in re.search(r'<a href="([^"]+)" rel="next"', html).group(1)
    second = get(officer_client, sector="steel", page=2)
    assert len(names(second)) == 5


def test_associations_and_groups_lists_search_too(officer_client, add_association, add_group):
    add_association("日本パワー半導体協会", "Japan Power Semiconductor Association")
    add_group("パワー半導体サプライチェーン")
    html = officer_client.get("/registry/associations", query_string={"q": "半導体"}).get_data(as_text=True)
    assert "日本パワー半導体協会" in html
    html = officer_client.get("/registry/associations", query_string={"q": "POWER semi"}).get_data(as_text=True)
    assert "日本パワー半導体協会" in html
    html = officer_client.get("/registry/groups", query_string={"q": "半導体"}).get_data(as_text=True)
    assert "パワー半導体サプライチェーン" in html
    html = officer_client.get("/registry/groups", query_string={"q": "%"}).get_data(as_text=True)
    assert "パワー半導体サプライチェーン" not in html


def test_security_officer_and_admin_can_search_but_company_staff_cannot(signed_in, register):
    for role in (Role.SECURITY_OFFICER, Role.ADMIN):
        client, _ = signed_in(role)
        assert "パワー半導体工業株式会社" in names(get(client, q="半導体"))
    for role in (Role.COMPANY_MEMBER, Role.COMPANY_ADMIN):
        client, _ = signed_in(role)
        assert get(client, q="半導体").status_code == 403
