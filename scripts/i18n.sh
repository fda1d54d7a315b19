#!/usr/bin/env bash
# Re-extract messages, merge them into the Chinese catalogue and compile it.
# Edit mall/translations/zh_Hans_CN/LC_MESSAGES/messages.po, then run this again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin}
$PY/pybabel extract -F babel.cfg -k _l -k N_ --ignore-dirs=".venv var tests" -o mall/translations/messages.pot . >/dev/null
if [ -f mall/translations/zh_Hans_CN/LC_MESSAGES/messages.po ]; then
  $PY/pybabel update -i mall/translations/messages.pot -d mall/translations -l zh_Hans_CN --no-fuzzy-matching
else
  $PY/pybabel init -i mall/translations/messages.pot -d mall/translations -l zh_Hans_CN
fi
$PY/pybabel compile -d mall/translations --statistics
