"""Money is integer fen (分); this is the one place that formats, reads and bounds it.

Every service that takes a price, an amount or a quantity checks it against one of the
bounds below (``require``, or ``within`` in a batch), whichever door it came through: a
page, the API, a bulk import or a job. The bounds keep each figure inside its column
(BIGINT fen, INTEGER counts) with room for sums; the database's CHECK constraints (0009)
refuse the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeGuard

import cn2an

from mall.core.errors import ValidationFailed
from mall.i18n_messages import N_

MAX_PRICE_FEN = 10**12  # ¥10,000,000,000 for one unit: anything above is a typo
# Budget lines, limits and thresholds: ¥10 trillion. An order above the direct-purchase
# limit (such an amount) is refused before it is stored, so every sum of amounts a unit can
# reach stays far inside BIGINT (9.2 × 10^18).
MAX_AMOUNT_FEN = 10**15
MAX_STOCK = 1_000_000_000  # units on sale, inside INTEGER (2^31 - 1)
MAX_QUANTITY = 100_000  # units of one offer in a cart line or an order line
MAX_COUNT = 2**31 - 1  # any other whole number stored in an INTEGER column
_MAX_TEXT = 40  # characters of a typed amount; longer is not an amount anybody means
_MAX_DIGITS = 30  # digits of fen a typed amount may reach before it is refused unread


@dataclass(frozen=True)
class Bound:
    """The range one kind of figure may take, and what a person is told outside it."""

    low: int
    high: int
    message: str  # out of range (or not a whole number); marked with N_, no parameters
    typed: str = N_("Enter an amount in yuan, such as 1,000,000.")  # text that is no amount


PRICE = Bound(1, MAX_PRICE_FEN, N_("Enter a price from ¥0.01 to ¥10,000,000,000."),
              N_("Enter a price in yuan, e.g. 29.90."))
AMOUNT = Bound(0, MAX_AMOUNT_FEN, N_("Enter an amount from ¥0.00 to ¥10,000,000,000,000."))
POSITIVE_AMOUNT = Bound(1, MAX_AMOUNT_FEN,
                        N_("Enter an amount from ¥0.01 to ¥10,000,000,000,000."))
STOCK = Bound(0, MAX_STOCK, N_("Enter a stock from 0 to 1,000,000,000."))
QUANTITY = Bound(1, MAX_QUANTITY, N_("Enter a quantity from 1 to 100,000."))
COUNT = Bound(0, MAX_COUNT, N_("Enter a whole number from 0 to 2,147,483,647."))


def within(value: object, bound: Bound) -> TypeGuard[int]:
    """Whether ``value`` is a whole number (int, not bool or float) inside ``bound``."""
    return type(value) is int and bound.low <= value <= bound.high


def require(value: object, bound: Bound, field: str) -> int:
    """``value`` if it is inside ``bound``, else a field error (422) naming the range."""
    if not within(value, bound):
        raise ValidationFailed(errors={field: [bound.message]})
    return value


def read_yuan(text: str | None, bound: Bound, field: str) -> int:
    """Yuan typed by a person into fen inside ``bound``, or a field error (422) saying why."""
    try:
        fen = parse_yuan(text or "")
    except AmountTooLarge:
        raise ValidationFailed(errors={field: [bound.message]}) from None
    except ValueError:
        raise ValidationFailed(errors={field: [bound.typed]}) from None
    return require(fen, bound, field)


def _check(fen: int) -> int:
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"money must be integer fen, got {type(fen).__name__}")
    return fen


def format_fen(fen: int) -> str:
    """Format fen as yuan for people: 123456 -> ¥1,234.56."""
    _check(fen)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def fen_to_capital(fen: int) -> str:
    """The Chinese capital form used on contracts (大写): 1234567 -> 壹万贰仟叁佰肆拾伍元陆角柒分."""
    _check(fen)
    if fen < 0:
        raise ValueError("capital amounts are written for non-negative sums")
    if fen == 0:
        return "零元整"
    yuan, cents = divmod(fen, 100)
    return cn2an.an2cn(f"{yuan}.{cents:02d}", "rmb")


def yuan_text(fen: int) -> str:
    """Fen as a plain yuan amount for a form field, read back by parse_yuan: 80000000 → "800000.00"."""
    _check(fen)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


class AmountTooLarge(ValueError):
    """A typed amount past any range we keep ("1e30000"); refused before it is read whole."""


def parse_yuan(text: str) -> int:
    """Read a yuan amount typed by a person ("1,234.5", "¥12") into fen; refuse sub-fen digits.

    Any sign and size are returned (callers check the range); text that is not an amount, has
    digits below a fen, or would run past 30 digits raises ValueError (AmountTooLarge), never
    an arithmetic error, however many digits or how large an exponent it carries.
    """
    cleaned = text.strip().replace(",", "").replace("¥", "").replace("￥", "")
    if len(cleaned) > _MAX_TEXT:
        raise ValueError(f"not an amount: {text[:_MAX_TEXT]!r}…")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    # Digits and exponent rather than Decimal arithmetic, whose context would round "1e-99999"
    # to zero and raise Overflow on "1e99999".
    negative, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):  # "n", "N" or "F": NaN or infinity
        raise ValueError(f"not an amount: {text!r}")
    exponent += 2  # yuan -> fen
    if not any(digits):
        return 0
    if exponent < 0:
        if any(digits[exponent:]):
            raise ValueError(f"more than two decimal places: {text!r}")
        digits, exponent = digits[:exponent], 0
    if len(digits) + exponent > _MAX_DIGITS:
        raise AmountTooLarge(f"amount too large: {text!r}")
    fen = int("".join(map(str, digits))) * 10**exponent
    return -fen if negative else fen
