"""Making unified social credit codes (统一社会信用代码, USCC, GB 32100-2015).

Codes that arrive from users are checked with python-stdnum (`stdnum.cn.uscc`) where they
arrive; this is for code that makes them (demo data, test factories), so that the check
character is computed in one place, also by python-stdnum.
"""

from __future__ import annotations

from stdnum.cn import uscc


def uscc_with_check_digit(first17: str) -> str:
    """The 18-character USCC made of `first17` and its check character.

    Raises `ValueError` unless `first17` is 17 characters that form a valid USCC (digits
    for the authority, type and division code; then the code's 31-character alphabet).
    """
    if len(first17) != 17:
        raise ValueError(f"a USCC without its check character has 17 characters, not {first17!r}")
    return uscc.validate(first17 + uscc.calc_check_digit(first17))
