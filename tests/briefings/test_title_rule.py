"""Briefing titles stay in clear (the list searches and sorts them in SQL), so a title is unclassified by
rule: the form tells the author so under the title field, in Japanese and in English (docs/SECURITY.md §2)."""

from __future__ import annotations

import html

import pytest

from clearance.permissions import Role
from tests.clearance.helpers import briefing, grant
from tests.factories import sign_in

RULE = {
    "en": "The title is stored unencrypted so that lists can search and sort it. Treat it as unclassified, whatever "
          "the briefing's level: say nothing classified in it.",
    "ja": "件名は一覧で検索・並べ替えができるよう、暗号化せずに保存されます。ブリーフィングの区分にかかわらず件名は公開の内容とし、"
          "取扱注意・重要経済安保情報に当たることは書かないでください。",
}


@pytest.mark.parametrize("locale", sorted(RULE))
def test_the_form_says_the_title_is_unclassified_in_the_authors_language(app, factory, locale):
    officer = factory.person(Role.OFFICER, locale=locale)
    grant(app, officer.id, 2)
    bid = briefing(app, title="Port congestion outlook", level=1)
    client = app.test_client()
    sign_in(client, officer)
    for path in ("/briefings/new", f"/briefings/{bid}/edit"):
        page = client.get(path).get_data(as_text=True)
        assert RULE[locale] in html.unescape(page), (locale, path)
        assert 'id="title-hint"' in page and 'aria-describedby="title-hint"' in page  # read out with the field
