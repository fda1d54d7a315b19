"""Rules every input shares, whatever the door (API, page, import, job): whole numbers within
the database's integer range and free text without control characters.

Each rule is a plain check for services (``check_text``, ``in_id_range``) and a marshmallow
field for schemas (``Id``, ``Count``, ``PageNumber``, ``PlainText``), so the API refuses what
the services would refuse, with the bound or pattern shown in the OpenAPI document.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from mall.core.errors import ValidationFailed
from mall.core.money import AmountTooLarge, Bound, parse_yuan, within
from mall.i18n_messages import N_

MAX_BIGINT = 2**63 - 1  # BIGINT columns (amounts in fen) and SQLite's INTEGER
# Ids: the range of the narrowest id column (INTEGER). PostgreSQL refuses a larger value
# even in a lookup, so a larger id is refused as input (404 in a path, a field error in a
# body). The BIGINT ids of purchasing tables would need a wider bound past 2**31-1 rows.
MAX_ID = 2**31 - 1
MAX_COUNT = 2**31 - 1  # INTEGER columns (quantities, stock, days, counts)
MAX_PAGE = 100_000  # page numbers: enough for any listing, small enough for an OFFSET

CONTROL_CHARACTERS = N_("Remove the control characters (line breaks, tabs, invisible marks).")
LINE_BREAKS_ONLY = N_("Remove the control characters (invisible marks).")
NOT_AN_ID = N_("Not a valid id.")

# Characters a person types into a form are letters, digits, punctuation, spaces and (in
# multi-line text) line breaks and tabs. Refused: C0/C1 controls (NUL, ESC …), lone
# surrogates (no database stores them), format characters that hide or reorder text
# (zero-width spaces, bidi overrides; the zero-width joiner of emoji is allowed) and the
# Unicode line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})
_ALLOWED = frozenset({"\u200d"})
_MULTILINE_ALLOWED = frozenset({"\n", "\r", "\t"})
# A fast first pass: anything outside printable ASCII and CJK gets the exact category test.
_SUSPECT = re.compile(r"[^\x20-\x7e\u3000-\u9fff\uff00-\uffef]")


def _refused_ranges(allowed: frozenset[str]) -> str:
    """The refused characters of the Basic Multilingual Plane as a regex class body (for the
    OpenAPI pattern: JSON Schema patterns cannot name astral characters portably)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.category(char) in _REFUSED_CATEGORIES and char not in allowed:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


SINGLE_LINE_PATTERN = f"^[^{_refused_ranges(_ALLOWED)}]*$"
MULTILINE_PATTERN = f"^[^{_refused_ranges(_ALLOWED | _MULTILINE_ALLOWED)}]*$"


def control_characters(text: str, *, multiline: bool = False) -> list[str]:
    """The refused characters in ``text`` (empty: the text may be stored)."""
    found = []
    for match in _SUSPECT.finditer(text):
        char = match.group()
        if char in _ALLOWED or (multiline and char in _MULTILINE_ALLOWED):
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            found.append(char)
    return found


def check_text(field: str, text: str | None, *, multiline: bool = False,
               errors: dict[str, list[str]] | None = None) -> None:
    """Refuse (or add to ``errors``) free text with control characters, as a field error."""
    if not text or not control_characters(text, multiline=multiline):
        return
    message = LINE_BREAKS_ONLY if multiline else CONTROL_CHARACTERS
    if errors is not None:
        errors.setdefault(field, []).append(message)
        return
    raise ValidationFailed(errors={field: [message]})


def in_id_range(value: object) -> bool:
    """True for an int that can be a row id (1 … MAX_ID)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


class _NoControlCharacters(validate.Validator):
    """marshmallow validator of ``check_text``'s rule (documented as a pattern)."""

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value: str) -> str:
        if control_characters(value, multiline=self.multiline):
            raise ValidationError(LINE_BREAKS_ONLY if self.multiline else CONTROL_CHARACTERS)
        return value


class PlainText(fields.Str):
    """Free text a person typed: no control characters (line breaks only if ``multiline``).

    Other validators (length …) go in ``validate`` as usual.
    """

    def __init__(self, *, multiline: bool = False, **kwargs: Any):
        extra = kwargs.pop("validate", None)
        rules = [_NoControlCharacters(multiline=multiline)]
        if extra is not None:
            rules.extend(extra if isinstance(extra, list | tuple) else [extra])
        metadata = dict(kwargs.pop("metadata", None) or {})
        # The OpenAPI document shows the rule; schemathesis and clients read it.
        metadata.setdefault("pattern", MULTILINE_PATTERN if multiline else SINGLE_LINE_PATTERN)
        super().__init__(validate=rules, metadata=metadata, **kwargs)


def needed(message: str) -> dict[str, Any]:
    """A required field that says what to enter when it is missing (a message marked N_):
    ``PlainText(**needed(N_("Enter the carrier.")), ...)``."""
    return {"required": True, "error_messages": {"required": message}}


def Id(**kwargs: Any) -> fields.Int:  # noqa: N802 - a field factory reads like a field class
    """A row id: a whole number from 1 to 2**31-1 (larger ids name no row)."""
    return fields.Int(validate=validate.Range(min=1, max=MAX_ID, error=NOT_AN_ID), **kwargs)


def Count(*, min: int = 0, max: int = MAX_COUNT, **kwargs: Any) -> fields.Int:  # noqa: N802
    """A whole number stored in an INTEGER column (quantity, stock, days), within ``min``…``max``."""
    if max > MAX_COUNT:
        raise ValueError("a count must fit an INTEGER column")
    return fields.Int(validate=validate.Range(min=min, max=max), **kwargs)


def PageNumber(**kwargs: Any) -> fields.Int:  # noqa: N802
    """A page number of a listing: 1 … MAX_PAGE."""
    kwargs.setdefault("load_default", 1)
    return fields.Int(validate=validate.Range(min=1, max=MAX_PAGE), **kwargs)


# Dates and times a person or a client system gives: years 1900 to 2999. Python's own range
# (year 1 to 9999) overflows as soon as a time zone or a day is added to its ends.
MIN_DAY, MAX_DAY = date(1900, 1, 1), date(2999, 12, 31)
MIN_MOMENT, MAX_MOMENT = datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC)
DAY_OUT_OF_RANGE = N_("Enter a date from 1900 to 2999.")


def Day(**kwargs: Any) -> fields.Date:  # noqa: N802
    """A calendar date from 1900-01-01 to 2999-12-31."""
    return fields.Date(validate=validate.Range(min=MIN_DAY, max=MAX_DAY, error=DAY_OUT_OF_RANGE),
                       **kwargs)


def Moment(**kwargs: Any) -> fields.AwareDateTime:  # noqa: N802
    """A time with its offset, from 1900 to 2999."""
    return fields.AwareDateTime(validate=validate.Range(min=MIN_MOMENT, max=MAX_MOMENT,
                                                        error=DAY_OUT_OF_RANGE), **kwargs)


def whole_number(text: str | None, *, low: int = 0, high: int = MAX_COUNT) -> int | None:
    """A whole number typed into a form, or None if it is empty, not a number or out of range.

    Pages use it instead of ``int()`` so that a 30-digit number is a field error, never an
    overflow in the database driver.
    """
    text = (text or "").strip()
    if not text or len(text) > 20:
        return None
    try:
        number = int(text)
    except ValueError:
        return None
    return number if low <= number <= high else None


def page_number(text: str | None) -> int:
    """A page number from a query string: 1 unless it is a number from 1 to MAX_PAGE."""
    return whole_number(text, low=1, high=MAX_PAGE) or 1


class Yuan(fields.Field):
    """An amount typed by a person in yuan ("1,234.50", "¥12"), loaded as integer fen inside
    ``bound``: the page forms' twin of the API's ``*_fen`` integers."""

    def __init__(self, bound: Bound, **kwargs: Any):
        super().__init__(**kwargs)
        self.bound = bound

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str):
            raise ValidationError(self.bound.typed)
        try:
            fen = parse_yuan(value)
        except AmountTooLarge:
            raise ValidationError(self.bound.message) from None
        except ValueError:
            raise ValidationError(self.bound.typed) from None
        if not within(fen, self.bound):
            raise ValidationError(self.bound.message)
        return fen

