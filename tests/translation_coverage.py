"""Which messages of some pages' templates and modules have no Chinese translation: the one
check behind each package's "every message of the pages has a Chinese translation" test."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None,
            "ngettext": (1, 2)}


def messages_of(files: Iterable[Path]) -> set[str]:
    """Every message marked for translation in these templates (.html) and Python modules."""
    found = set()
    for path in files:
        method = "jinja2" if path.suffix == ".html" else "python"
        for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords=KEYWORDS,
                options={"extensions": "jinja2.ext.do"} if method == "jinja2" else None):
            found.add(message if isinstance(message, str) else message[0])
    return found - {""}


def untranslated(files: Iterable[Path]) -> list[str]:
    """The messages of these files with no Chinese in the catalogue or a pending file."""
    with (ROOT / "mall/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    for pending in (ROOT / "mall/translations/pending").glob("*.json"):
        translated |= {k for k, v in json.loads(pending.read_text(encoding="utf-8")).items() if v}
    return sorted(messages_of(files) - translated)
