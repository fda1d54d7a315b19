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
# Translations delivered as JSON (msgid -> msgstr) in mall/translations/pending/ fill the
# messages still untranslated; merged files are removed.
if compgen -G "mall/translations/pending/*.json" >/dev/null; then
  $PY/python - <<'PYEOF'
import json
from pathlib import Path

from babel.messages.pofile import read_po, write_po

po_path = Path("mall/translations/zh_Hans_CN/LC_MESSAGES/messages.po")
with po_path.open("rb") as handle:
    catalog = read_po(handle, locale="zh_Hans_CN")
filled = 0
for pending in sorted(Path("mall/translations/pending").glob("*.json")):
    for msgid, msgstr in json.loads(pending.read_text(encoding="utf-8")).items():
        message = catalog.get(msgid)
        if message is not None and not message.string:
            message.string = msgstr
            filled += 1
    pending.unlink()
with po_path.open("wb") as handle:
    write_po(handle, catalog, width=100)
print(f"filled {filled} translations from pending files")
PYEOF
fi
$PY/pybabel compile -d mall/translations --statistics
