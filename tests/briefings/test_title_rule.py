"""Briefing titles are sealed at the briefing's level (issue 11 overruled stop 9's "unclassified by rule"):
the form says so under the title field, in Japanese and in English, and no longer tells authors to keep
the title unclassified (docs/SECURITY.md §2)."""

from __future__ import annotations

import html

import pytest

from clearance.permissions import Role
from tests.clearance.helpers import briefing, grant
from tests.factories import sign_in

SAYS = {
    "en": "Encrypted at the briefing's level, like the summary and body: lists show it only to those who may read "
          "the briefing.",
    "ja": "概要・本文と同じく、ブリーフィングの区分で暗号化されます。一覧では、このブリーフィングを閲覧できる人にだけ表示されます。",
}
#: the old rule's words (stop 9), in both languages: gone
OLD = ("stored unencrypted", "Treat it as unclassified", "暗号化せずに保存", "件名は公開の内容")


@pytest.mark.parametrize("locale", sorted(SAYS))
def test_the_form_says_the_title_is_sealed_at_the_briefings_level(app, factory, locale):
    officer = factory.person(Role.OFFICER, locale=locale)
    grant(app, officer.id, 2)
    bid = briefing(app, title="Port congestion outlook", level=1)
    client = app.test_client()
    sign_in(client, officer)
    for path in ("/briefings/new", f"/briefings/{bid}/edit"):
        page = html.unescape(client.get(path).get_data(as_text=True))
        assert SAYS[locale] in page, (locale, path)
        assert not [w for w in OLD if w in page], (locale, path)
        assert 'id="title-hint"' in page and 'aria-describedby="title-hint"' in page  # read out with the field
