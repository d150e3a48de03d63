#!/usr/bin/env bash
# Refresh the translation template and the Japanese catalog, then compile.
# Run from the repository root:  scripts/i18n-update.sh
# New msgids appear in translations/ja/LC_MESSAGES/messages.po with an empty
# msgstr; msgids no longer in the source are dropped (--ignore-obsolete).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin

"$BIN/pybabel" extract -F babel.cfg -k lazy_gettext -k _l \
  --no-location --sort-output \
  -o translations/messages.pot .

"$BIN/pybabel" update -i translations/messages.pot -d translations -l ja \
  --no-fuzzy-matching --ignore-obsolete

"$BIN/pybabel" compile -d translations
