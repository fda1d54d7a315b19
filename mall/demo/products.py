"""Deterministic generator of believable demo products across the mall's enabled categories.

The vocabulary tables (mall.demo.vocabulary) are compiled once into flat per-category tables:
model patterns become a format string plus pools of pre-rendered pieces, and spec axes become
a list of pre-joined variants. Generating a product is then a handful of random draws and one
string format, fast enough for a million products in a few seconds.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from mall.demo.spec import CategorySpec
from mall.demo.vocabulary import BRANDS, CATEGORY_SPECS

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_CHARSETS = {"#": "0123456789", "&": "123456789", "@": LETTERS}
_POOL_LIMIT = 30_000  # largest pool of pre-rendered random characters kept per pattern run
_MAX_VARIANTS = 360  # spec combinations kept per category (sampled when there are more)
_SLOTS_PER_WEIGHT = 20  # resolution of the weighted category table
_AXIS_WEIGHTS = {"~": 0.0, "!": 4.0}


@dataclass(frozen=True)
class DemoProduct:
    """A product as a supplier would list it in the mall; prices are integer fen."""

    category_code: str
    brand: str
    model: str
    title: str
    attributes: dict[str, str]
    unit: str
    reference_price_fen: int
    energy_saving: bool
    green: bool

    @property
    def brand_short(self) -> str:
        """Brand without its bracketed Latin name, as it appears in every title."""
        return self.brand.split("（", 1)[0]


class _Option(NamedTuple):
    value: str
    title: str
    token: str
    unit: str
    energy: bool
    level: float | None  # explicit place in the price band; None: spread by list position


class _Variant(NamedTuple):
    attributes: tuple[tuple[str, str], ...]
    body: str  # category noun followed by the spec words of this variant
    tokens: tuple[str, ...]
    unit: str
    position: float  # 0..1: where in the category price band this combination sits
    energy_chance: float


class _Line(NamedTuple):
    brand: str
    template: str
    fields: tuple[tuple[list[str] | None, int, int], ...]
    tier: float
    extra: str


class _Category(NamedTuple):
    code: str
    lines: tuple[_Line, ...]
    variants: tuple[_Variant, ...]
    lo_fen: int
    hi_fen: int
    ceiling_fen: int  # what a price above the band is lowered to, e.g. ¥8,999.00 under ¥9,000
    log_ratio: float
    green_chance: float
    model_last: bool


def _parse_option(text: str) -> _Option:
    """Split ``value[=title][^token][@unit][$level][*]`` into its parts."""
    energy = text.endswith("*")
    text = text.removesuffix("*")
    text, _, level = text.partition("$")
    text, _, unit = text.partition("@")
    text, _, token = text.partition("^")
    value, has_title, title = text.partition("=")
    return _Option(
        value, title if has_title else value, token or value, unit, energy,
        float(level) if level else None,
    )


def _parse_axis(text: str) -> tuple[str, float, list[_Option]]:
    """Split ``[~|!]name:option|option`` into name, price weight and options."""
    name, _, options = text.partition(":")
    weight = _AXIS_WEIGHTS.get(name[:1], 1.0)
    return name.lstrip("~!"), weight, [_parse_option(o) for o in options.split("|")]


@cache
def _pool(charsets: tuple[str, ...]) -> list[str]:
    """All strings made of one character from each charset, shared between patterns."""
    return ["".join(chars) for chars in itertools.product(*charsets)]


def _compile_pattern(pattern: str, prefix: str) -> tuple[str, tuple]:
    """Turn a model pattern into a format template and its fields (pool or axis token)."""
    template: list[str] = []
    fields: list[tuple[list[str] | None, int, int]] = []
    run: list[str] = []

    def flush_run() -> None:
        if run:
            template.append("{}")
            pool = _pool(tuple(run))
            fields.append((pool, len(pool), -1))
            run.clear()

    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in _CHARSETS:
            if math.prod(len(c) for c in run) * len(_CHARSETS[char]) > _POOL_LIMIT:
                flush_run()
            run.append(_CHARSETS[char])
            i += 1
            continue
        flush_run()
        if char == "{":
            end = pattern.index("}", i)
            choices = pattern[i + 1 : end].split("|")
            template.append("{}")
            fields.append((choices, len(choices), -1))
            i = end + 1
        elif char == "<":
            end = pattern.index(">", i)
            template.append("{}")
            fields.append((None, 0, int(pattern[i + 1 : end])))
            i = end + 1
        else:
            text = prefix if char == "%" else char
            template.append(text.replace("{", "{{").replace("}", "}}"))
            i += 1
    flush_run()
    return "".join(template), tuple(fields)


def _compile_line(spec: CategorySpec, line: str) -> _Line:
    """Resolve one ``brand:pattern;extra`` line of a category spec."""
    brand_key, _, rest = line.partition(":")
    pattern, _, extra = (rest or spec.model).partition(";")
    if not any(c in pattern for c in _CHARSETS):
        pattern += spec.suffix
    brand = BRANDS[brand_key]
    template, fields = _compile_pattern(pattern, brand.prefix)
    return _Line(brand.display, template, fields, brand.tier, f" {extra}" if extra else "")


def _option_level(options: list[_Option], index: int) -> float:
    """Where an option sits between the cheapest (0) and dearest (1) choice of its axis."""
    level = options[index].level
    if level is not None:
        return level
    return index / (len(options) - 1) if len(options) > 1 else 0.5


def _compile_variants(spec: CategorySpec) -> tuple[_Variant, ...]:
    """Pre-join every (or a sample of every) combination of the spec's axis options."""
    axes = [_parse_axis(a) for a in spec.axes]
    total_weight = sum(w for _, w, _ in axes) or 1.0
    starred = any(o.energy for _, _, options in axes for o in options)
    index_ranges = [range(len(options)) for _, _, options in axes]
    combos = list(itertools.product(*index_ranges))
    if len(combos) > _MAX_VARIANTS:
        combos = random.Random(spec.code + spec.noun).sample(combos, _MAX_VARIANTS)
    variants = []
    for combo in combos:
        chosen = [axes[a][2][i] for a, i in enumerate(combo)]
        spread = sum(
            w * _option_level(options, i) for (_, w, options), i in zip(axes, combo, strict=True)
        )
        words = " ".join(o.title for o in chosen if o.title)
        units = [o.unit for o in chosen if o.unit]
        # A starred option (e.g. 新一级能效) decides the label; otherwise it is a coin toss.
        energy = float(any(o.energy for o in chosen)) if starred else spec.energy
        variants.append(_Variant(
            attributes=tuple((name, o.value) for (name, _, _), o in zip(axes, chosen, strict=True)),
            body=" ".join(part for part in (spec.noun, words) if part),
            tokens=tuple(o.token for o in chosen),
            unit=units[-1] if units else spec.unit,
            position=0.08 + 0.84 * spread / total_weight if axes else 0.5,
            energy_chance=energy,
        ))
    return tuple(variants)


def _compile(spec: CategorySpec) -> _Category:
    """Everything generate_products needs about one category spec, precomputed."""
    lo, hi = spec.price
    return _Category(
        code=spec.code,
        lines=tuple(_compile_line(spec, line) for line in spec.lines),
        variants=_compile_variants(spec),
        lo_fen=lo * 100,
        hi_fen=hi * 100,
        ceiling_fen=hi * 100 - (100 if hi >= 100 else 10),
        log_ratio=math.log(hi / lo),
        green_chance=spec.green,
        model_last=spec.model_last,
    )


@cache
def _catalogue() -> tuple[tuple[_Category, ...], tuple[int, ...]]:
    """Compiled categories plus a weighted lookup table of category indexes."""
    categories = tuple(_compile(spec) for spec in CATEGORY_SPECS)
    table: list[int] = []
    for index, spec in enumerate(CATEGORY_SPECS):
        table.extend([index] * max(1, round(spec.weight * _SLOTS_PER_WEIGHT)))
    return categories, tuple(table)


def enabled_category_codes() -> list[str]:
    """The catalogue leaf codes the demo mall enables, in vocabulary order, each once."""
    return list(dict.fromkeys(spec.code for spec in CATEGORY_SPECS))


def _round_price(fen: int) -> int:
    """Round like shop prices do: ¥4,599.00, ¥459.00, ¥45.90; small prices stay as they are."""
    if fen >= 100_000:
        return fen // 10_000 * 10_000 + 9_900
    if fen >= 10_000:
        return fen // 1_000 * 1_000 + 900
    if fen >= 1_000:
        return fen // 100 * 100 + 90
    return fen


def generate_products(count: int, seed: int = 0) -> Iterator[DemoProduct]:
    """Yield `count` products spread over all enabled categories; same arguments, same products."""
    if count < 0:
        raise ValueError("count must not be negative")
    categories, table = _catalogue()
    rnd = random.Random(seed).random
    exp = math.exp
    n_table = len(table)
    for _ in range(count):
        category = categories[table[int(rnd() * n_table)]]
        lines = category.lines
        line = lines[int(rnd() * len(lines))]
        variants = category.variants
        variant = variants[int(rnd() * len(variants))]
        tokens = variant.tokens
        model = line.template.format(*[
            pool[int(rnd() * size)] if pool is not None else tokens[axis]
            for pool, size, axis in line.fields
        ])
        if category.model_last:
            title = f"{line.brand} {variant.body}{line.extra} {model}"
        else:
            title = f"{line.brand} {model} {variant.body}{line.extra}"
        position = variant.position + line.tier + (rnd() - 0.5) * 0.14
        position = 0.0 if position < 0.0 else 1.0 if position > 1.0 else position
        fen = _round_price(int(category.lo_fen * exp(category.log_ratio * position)))
        if fen > category.hi_fen:
            fen = category.ceiling_fen
        yield DemoProduct(
            category.code,
            line.brand,
            model,
            title,
            dict(variant.attributes),
            variant.unit,
            fen,
            rnd() < variant.energy_chance,
            rnd() < category.green_chance,
        )
