"""Every Chinese message formats as its English original does: a page renders a message with
its parameters (Jinja formats even a message without any), so a stray "%" or a parameter
missing from a translation would turn the page into a server error."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).parents[2] / "mall/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
PARAMETER = re.compile(r"%\((\w+)\)([sd])")


def _formats(text: str, values: dict[str, object]) -> str | None:
    try:
        return text % values
    except (ValueError, TypeError, KeyError) as exc:
        return f"error: {exc}"


def test_every_translation_formats_like_its_message():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="zh_Hans_CN")
    broken = []
    for message in catalogue:
        if not message.id or not message.string or isinstance(message.id, tuple):
            continue
        values = {name: 1 if kind == "d" else "x" for name, kind in PARAMETER.findall(message.id)}
        original = _formats(message.id, values)
        translated = _formats(str(message.string), values)
        if (original or "").startswith("error") != (translated or "").startswith("error"):
            broken.append((message.id, message.string, translated))
        if set(PARAMETER.findall(str(message.string))) - set(PARAMETER.findall(message.id)):
            broken.append((message.id, message.string, "a parameter the message does not have"))
    assert broken == []
