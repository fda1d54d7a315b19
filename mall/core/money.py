"""Money is integer fen (分); this is the one place that formats it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import cn2an


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


def parse_yuan(text: str) -> int:
    """Read a yuan amount typed by a person ("1,234.5", "¥12") into fen; refuse sub-fen digits."""
    cleaned = text.strip().replace(",", "").replace("¥", "").replace("￥", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimal places: {text!r}")
    return int(fen)
