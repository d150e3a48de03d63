#!/usr/bin/env python3
"""Apply translations from JSON files ([{"msgid": …, "ja": …}, …]) to the Japanese catalog.

Used to translate in bulk outside the .po file (several people at once) and merge once:
    scripts/i18n-update.sh && .venv/bin/python scripts/i18n-apply.py done-*.json && scripts/i18n-update.sh
Untranslated entries can be exported for translators with --export FILE.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parent.parent / "translations/ja/LC_MESSAGES/messages.po"


def main(argv: list[str]) -> int:
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="ja")
    if argv[:1] == ["--export"]:
        todo = [{"msgid": m.id if isinstance(m.id, str) else m.id[0],
                 "plural": m.id[1] if isinstance(m.id, tuple) else None,
                 "where": sorted({loc[0] for loc in m.locations})[:3], "ja": ""}
                for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
        Path(argv[1]).write_text(json.dumps(todo, ensure_ascii=False, indent=1))
        print(f"{len(todo)} untranslated entries written to {argv[1]}")
        return 0
    applied = 0
    for name in argv:
        for entry in json.loads(Path(name).read_text()):
            if not entry.get("ja"):
                continue
            key = (entry["msgid"], entry["plural"]) if entry.get("plural") else entry["msgid"]
            msg = catalog.get(key)
            if msg is None:
                continue
            msg.string = (entry["ja"],) if isinstance(msg.id, tuple) else entry["ja"]
            msg.flags.discard("fuzzy")
            applied += 1
    with CATALOG.open("wb") as fh:
        write_po(fh, catalog, width=120, omit_header=False)
    missing = sum(1 for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string)))
    print(f"applied {applied}; still untranslated: {missing}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
