"""Chinese-aware text analysis shared by the search adapters.

Titles are segmented with rjieba (search mode at index time, so "复印纸" is found by "复印"
too); model numbers and specs are kept whole and also split into their parts, so "CF226A"
is found by "cf226a", "226a" and "226", "i7-12700" by "i7" and "12700", "1.5匹" by "1.5".
Both sides are normalised the same way: full-width to half-width (NFKC) and lower case.
HMM guessing of unknown words is off on both sides, so a word is cut the same way in a
title and in a query. Changing anything here changes the index terms: rebuild the index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import rjieba

# Chinese counting units written straight after a number ("1.5匹", "500张", "15.6英寸").
_UNITS = sorted((
    "匹", "英寸", "寸", "张", "包", "箱", "层", "门", "抽", "格", "位", "座", "人", "升", "毫升",
    "克", "千克", "公斤", "斤", "米", "厘米", "毫米", "瓦", "千瓦", "伏", "核", "盒", "支", "本",
    "卷", "只", "个", "台", "件", "套", "把", "片", "块", "袋", "瓶", "桶", "色", "页", "口", "路",
    "键", "孔", "开", "段", "级", "年", "月", "天", "寸屏", "盘位", "万像素", "流明", "公里", "列",
    "用户", "粒", "具", "提", "联", "面", "分钟",
), key=len, reverse=True)
_NUMBER = r"\d+(?:\.\d+)?"
_TOKEN = re.compile(
    rf"(?P<spec>{_NUMBER}(?:{'|'.join(_UNITS)}))"
    r"|(?P<code>[a-z0-9]+(?:[.\-/_+×*#][a-z0-9]+)*)"
    r"|(?P<cjk>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
)
_CHUNK_SEPARATORS = re.compile(r"[\-/_+×*#]")
_RUNS = re.compile(rf"{_NUMBER}|[a-z]+")
_STORAGE = re.compile(rf"({_NUMBER})(gb?|tb?)$")
_STOP_WORDS = frozenset(["的", "和", "与", "及", "或", "等", "款", "型", "式", "用", "装", "新"])


def normalise(text: str) -> str:
    """Full-width to half-width and lower case, as both the index and the queries see text."""
    return unicodedata.normalize("NFKC", text).lower()


def code_parts(code: str) -> list[str]:
    """A model number or spec whole, then its parts: "cf226a" -> cf226a, cf, 226, 226a."""
    parts = [code]
    chunks = [c for c in _CHUNK_SEPARATORS.split(code) if c]
    if len(chunks) > 1:
        parts.append("".join(chunks))  # typed without separators: "kfr35gw"
        parts.extend(chunks)
    for chunk in chunks:
        size = _STORAGE.match(chunk)
        if size:  # "16g" and "16gb" are the same memory
            number, unit = size.groups()
            parts.append(number + (unit[0] if len(unit) == 2 else unit + "b"))
        runs = list(_RUNS.finditer(chunk))
        if len(runs) < 2:
            continue
        for run in runs:
            if len(run.group()) >= 2:
                parts.append(run.group())
        for run in runs[1:]:
            suffix = chunk[run.start():]
            if len(suffix) >= 3:
                parts.append(suffix)
    return list(dict.fromkeys(p for p in parts if p))


# Chinese units and the Latin ones buyers type for them ("70克" is "70g", "1.5匹" is "1.5p").
_LATIN_UNITS = {"匹": "p", "克": "g", "千克": "kg", "公斤": "kg", "毫米": "mm", "厘米": "cm",
                "米": "m", "升": "l", "毫升": "ml", "瓦": "w", "千瓦": "kw", "伏": "v", "寸": "英寸"}


def _spec_parts(spec: str) -> list[str]:
    match = re.match(_NUMBER, spec)
    assert match is not None  # a spec token starts with its number (_TOKEN)
    number = match.group()
    latin = _LATIN_UNITS.get(spec[len(number):])
    return [spec, number, number + latin] if latin else [spec, number]


@lru_cache(maxsize=65_536)
def _cut_for_index(run: str) -> tuple[str, ...]:
    words = [w for w in rjieba.cut_for_search(run, False) if w.strip()]
    # Chinese compounds end in their head noun: "复印纸" is also found by "A4纸", "文件柜" by "柜".
    heads = [w[-1] for w in words if len(w) >= 3]
    return tuple(dict.fromkeys(w for w in (*words, *heads) if w not in _STOP_WORDS or len(words) == 1))


@lru_cache(maxsize=16_384)
def _cut_for_query(run: str) -> tuple[str, ...]:
    words = [w for w in rjieba.cut(run, False) if w.strip()]
    return tuple(w for w in words if w not in _STOP_WORDS or len(words) == 1)


def index_tokens(text: str) -> list[str]:
    """Every term a document is found by: words, sub-words, and model numbers with their parts."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(normalise(text)):
        kind, value = match.lastgroup, match.group()
        if kind == "cjk":
            tokens.extend(_cut_for_index(value))
        elif kind == "spec":
            tokens.extend(_spec_parts(value))
        else:
            tokens.extend(code_parts(value))
    return tokens


def code_tokens(text: str) -> list[str]:
    """Only the model numbers and specs of a text, whole and by parts (for engines that
    segment words themselves but would not split "CF226A" into "226")."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(normalise(text)):
        if match.lastgroup == "spec":
            tokens.extend(_spec_parts(match.group()))
        elif match.lastgroup == "code":
            tokens.extend(code_parts(match.group()))
    return list(dict.fromkeys(tokens))


def whole_words(text: str) -> list[str]:
    """The words of a text as a buyer would type them, for completion lists."""
    words = [w.text for w in _query_words(text)]
    return list(dict.fromkeys(w for w in words if len(w) > 1 and not w.isdigit()))


def index_text(*texts: str) -> str:
    """The index terms of some texts joined by spaces, for a whitespace-tokenised field."""
    return " ".join(t for text in texts if text for t in index_tokens(text))


@dataclass(frozen=True)
class _Word:
    """One word of a query: its alternatives (each a sequence of terms that must all match)."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]


@lru_cache(maxsize=16_384)
def _word_alternatives(word: str) -> tuple[tuple[str, ...], ...]:
    """A long word whole, or as the shorter words it is made of: the dictionary knows
    "格力空调" but a title says "格力 … 空调"."""
    if len(word) < 4:
        return ((word,),)
    pieces = {w for w in rjieba.cut_for_search(word, False) if w != word and len(w) > 1}
    parts, position = [], 0
    while position < len(word):
        size = next((n for n in range(len(word) - position, 1, -1)
                     if word[position:position + n] in pieces), 1)
        parts.append(word[position:position + size])
        position += size
    return ((word,), tuple(parts)) if len(parts) > 1 else ((word,),)


def _query_words(text: str) -> list[_Word]:
    words: list[_Word] = []
    for match in _TOKEN.finditer(normalise(text)):
        kind, value = match.lastgroup, match.group()
        if kind == "cjk":
            words.extend(_Word(w, _word_alternatives(w)) for w in _cut_for_query(value))
        elif kind == "spec":
            latin = _spec_parts(value)[2:]
            words.append(_Word(value, ((value,), *((v,) for v in latin))))
        else:
            chunks = tuple(c for c in _CHUNK_SEPARATORS.split(value) if c)
            alternatives = ((value,), chunks) if len(chunks) > 1 else ((value,),)
            words.append(_Word(value, alternatives))
    return words


@dataclass(frozen=True)
class QueryTerm:
    """One thing the query asks for: any alternative matches, each alternative being terms
    that must all be present; ``prefix`` (the last word while typing) also matches longer terms."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False


class SynonymTable:
    """Groups of words that mean the same (笔记本 = 便携式计算机), matched on query words."""

    def __init__(self, groups: Iterable[Sequence[str]] = ()):
        self.groups: list[list[str]] = []
        self._by_key: dict[tuple[str, ...], int] = {}
        self._alternatives: list[tuple[tuple[str, ...], ...]] = []
        for group in groups:
            members = list(dict.fromkeys(normalise(w).strip() for w in group if w.strip()))
            if len(members) < 2:
                continue
            index = len(self.groups)
            self.groups.append(members)
            keys = [tuple(w.text for w in _query_words(m)) for m in members]
            self._alternatives.append(tuple(
                alt for m in members for alt in _member_alternatives(m)))
            for key in keys:
                if key:
                    self._by_key.setdefault(key, index)
        self.longest = max((len(k) for k in self._by_key), default=0)

    def match(self, words: Sequence[str]) -> tuple[int, tuple[tuple[str, ...], ...]] | None:
        """The longest synonym starting at the first word: (words used, alternatives)."""
        for size in range(min(self.longest, len(words)), 0, -1):
            index = self._by_key.get(tuple(words[:size]))
            if index is not None:
                return size, self._alternatives[index]
        return None

    def as_mapping(self) -> dict[str, list[str]]:
        """Every member to the other members, as Meilisearch's synonyms setting wants them."""
        return {m: [o for o in group if o != m] for group in self.groups for m in group}


def _member_alternatives(member: str) -> list[tuple[str, ...]]:
    words = _query_words(member)
    if len(words) == 1 and len(words[0].alternatives[0]) > 1:
        return [words[0].alternatives[0]]  # "u盘": ("u", "盘")
    return [tuple(w.alternatives[0][0] for w in words)]


def _without_supersets(alternatives: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """Drop alternatives that ask for more than another one does: whatever matches
    ("笔记本", "电脑") also matches ("笔记本",), so it only costs time."""
    kept = [a for a in alternatives
            if not any(set(b) < set(a) or (set(b) == set(a) and i < alternatives.index(a))
                       for i, b in enumerate(alternatives))]
    return tuple(kept)


def analyse_query(text: str, synonyms: SynonymTable | None = None) -> list[QueryTerm]:
    """The terms of a query; the last word is a prefix unless the text ends with a space."""
    words = _query_words(text)
    texts = [w.text for w in words]
    terms: list[QueryTerm] = []
    position = 0
    while position < len(words):
        found = synonyms.match(texts[position:]) if synonyms else None
        if found:
            size, alternatives = found
            # What was typed comes first: the last word's prefix is taken from it.
            own = words[position].alternatives if size == 1 else (tuple(texts[position:position + size]),)
            merged = tuple(dict.fromkeys((*own, *alternatives)))
            terms.append(QueryTerm("".join(texts[position:position + size]), merged))
            position += size
        else:
            terms.append(QueryTerm(words[position].text, words[position].alternatives))
            position += 1
    terms = [QueryTerm(t.text, _without_supersets(t.alternatives), t.prefix) for t in terms]
    if terms and text and not text[-1].isspace():
        last = terms[-1]
        terms[-1] = QueryTerm(last.text, last.alternatives, prefix=True)
    return terms
