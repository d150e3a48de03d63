"""The Japanese catalog is complete, clean and in step with the source.

A developer who adds a string with _() / _l() / lazy_gettext() and does not run
scripts/i18n-update.sh and translate it gets a failing test that names it.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO_PATH = ROOT / "translations" / "ja" / "LC_MESSAGES" / "messages.po"
MAPPING = ROOT / "babel.cfg"
# Same keywords as scripts/i18n-update.sh (-k lazy_gettext -k _l).
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}

# %(name)s, %(n)d, %s, %d ...; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*\d*(?:\.\d+)?(?P<conv>[diouxXeEfFgGcrsa%])")


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _placeholders(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group("conv") != "%")


@pytest.fixture(scope="module")
def catalog():
    with PO_PATH.open("rb") as f:
        return read_po(f, locale="ja")


@pytest.fixture(scope="module")
def messages(catalog):
    return [m for m in catalog if m.id]


@pytest.fixture(scope="module")
def extracted() -> dict[str, str]:
    """Every msgid in the source today, mapped to where it was found."""
    with MAPPING.open() as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(MAPPING))
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        key = _key(message)
        if key:
            found.setdefault(key, f"{filename}:{lineno}")
    return found


def test_header_is_japanese(catalog):
    assert str(catalog.locale) == "ja"
    assert catalog.num_plurals == 1
    assert catalog.plural_expr.strip() == "0"
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"


def test_catalog_is_not_empty(messages):
    assert len(messages) > 100


def test_every_message_is_translated(messages):
    untranslated = []
    for m in messages:
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        if not strings or not all(s and s.strip() for s in strings):
            untranslated.append(_key(m.id))
    assert not untranslated, "untranslated in messages.po:\n  " + "\n  ".join(untranslated)


def test_no_fuzzy_entries(messages):
    fuzzy = [_key(m.id) for m in messages if m.fuzzy]
    assert not fuzzy, "fuzzy entries in messages.po (review them and drop the flag):\n  " + "\n  ".join(fuzzy)


def test_placeholders_match(messages):
    wrong = []
    for m in messages:
        ids = (m.id,) if isinstance(m.id, str) else tuple(m.id)
        strings = (m.string,) if isinstance(m.string, str) else tuple(m.string)
        expected = _placeholders(ids[-1] if len(ids) > 1 else ids[0])
        singular = _placeholders(ids[0])
        for s in strings:
            got = _placeholders(s or "")
            # With nplurals=1 the single form follows the plural msgid; accept either.
            if got != expected and got != singular:
                wrong.append(f"{ids[0]!r}: msgid has {sorted(expected.elements())}, msgstr has {sorted(got.elements())}")
    assert not wrong, "placeholder mismatch:\n  " + "\n  ".join(wrong)


def test_babel_format_checks(catalog):
    problems = [f"{_key(m.id)!r}: {err}" for m, errors in catalog.check() for err in errors]
    assert not problems, "\n".join(problems)


def test_source_strings_are_all_in_catalog(messages, extracted):
    in_catalog = {_key(m.id) for m in messages}
    missing = sorted(set(extracted) - in_catalog)
    assert not missing, (
        "msgids in the source but not in translations/ja/LC_MESSAGES/messages.po "
        "(run scripts/i18n-update.sh, then translate them):\n  "
        + "\n  ".join(f"{mid!r}  ({extracted[mid]})" for mid in missing)
    )


def test_catalog_has_no_stale_strings(messages, extracted):
    stale = sorted({_key(m.id) for m in messages} - set(extracted))
    assert not stale, (
        "msgids in messages.po no longer used in the source (run scripts/i18n-update.sh):\n  " + "\n  ".join(stale)
    )
