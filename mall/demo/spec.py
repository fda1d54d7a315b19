"""The compact notation the demo vocabulary tables are written in.

A category is described by one `C(...)` call:

* ``lines`` are product lines, ``"brand_key:model pattern;extra title words"``. A bare
  ``"brand_key"`` uses the category's default ``model`` pattern.
* model patterns: ``#`` a digit, ``&`` a digit 1-9, ``@`` a capital letter (no I/O),
  ``{a|b|c}`` one of the choices, ``<n>`` the model token of the chosen option of axis n,
  ``%`` the brand's model prefix. A pattern without any ``#``, ``&`` or ``@`` gets the
  category ``suffix`` appended so that models stay distinct across many products.
* ``axes`` are ``"name:option|option|..."``; options are listed cheapest first. A name
  starting with ``~`` does not move the price (colours), ``!`` weighs four times (pack size).
* an option is ``value[=title words][^model token][@unit][$level][*]``; ``*`` marks an option
  that carries the energy-saving (节能) label, ``=`` with nothing after it keeps the value out
  of the title, ``$0.9`` places the option explicitly in the price band (0 cheapest, 1 dearest)
  instead of by its position in the list (useful for pack sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CategorySpec:
    """One kind of product sold under a catalogue leaf code (a code may have several)."""

    code: str
    noun: str
    unit: str
    price: tuple[int, int]
    lines: tuple[str, ...]
    axes: tuple[str, ...]
    group: str
    weight: float = 1.0
    energy: float = 0.0
    green: float = 0.0
    model: str = ""
    suffix: str = "-@###"
    model_last: bool = False


def C(
    code: str,
    noun: str,
    unit: str,
    price: tuple[int, int],
    lines: tuple[str, ...] | str,
    *axes: str,
    group: str = "",
    **options,
) -> CategorySpec:
    """Build a CategorySpec; `lines` may be one space-separated string of bare brand keys."""
    if isinstance(lines, str):
        lines = tuple(lines.split())
    return CategorySpec(code, noun, unit, price, tuple(lines), tuple(axes), group, **options)


def in_group(group: str, specs: list[CategorySpec]) -> list[CategorySpec]:
    """Tag every spec of a vocabulary module with its display group."""
    return [replace(spec, group=group) for spec in specs]
