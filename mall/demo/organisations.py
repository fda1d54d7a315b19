"""Deterministic demo suppliers and purchasing units with valid 统一社会信用代码 (USCC).

Names are fictional; credit codes follow GB 32100-2015: registration authority, organisation
type, the seat's 6-digit GB/T 2260 division code, a 9-character organisation code whose last
character is its GB 11714 check character, and the USCC check character.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mall.core.credit_codes import uscc_with_check_digit
from mall.demo.vocabulary import REGIONS, SUPPLIERS, UNITS

_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class DemoSupplier:
    """A fictional supplier company with its administrator login."""

    name: str
    short_name: str
    credit_code: str
    region_code: str
    size: str
    legal_representative: str
    contact_name: str
    contact_phone: str
    email: str
    login: str


@dataclass(frozen=True)
class DemoUnit:
    """A fictional purchasing unit (school, hospital, bureau) and the prefix of its logins."""

    name: str
    credit_code: str
    region_code: str
    region_name: str
    login_prefix: str


def gb11714_check_char(body: str) -> str:
    """The check character of an 8-character organisation code body (GB 11714-1997)."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, _GB11714_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _credit_code(authority_and_type: str, region_code: str, rng: random.Random) -> str:
    """A USCC whose embedded organisation code and final check character are both valid."""
    while True:
        body = "".join(rng.choice("0123456789") for _ in range(8))
        if body != "00000000":
            break
    return uscc_with_check_digit(
        f"{authority_and_type}{region_code}{body}{gb11714_check_char(body)}")


def _unique_codes(requests: list[tuple[str, str, str]]) -> list[str]:
    """One credit code per (seed text, authority+type, region); re-drawn on the rare clash."""
    codes: list[str] = []
    for seed_text, authority_and_type, region in requests:
        rng = random.Random(f"demo-credit-code:{seed_text}")
        code = _credit_code(authority_and_type, region, rng)
        while code in codes:
            code = _credit_code(authority_and_type, region, rng)
        codes.append(code)
    return codes


def _mobile(rng: random.Random) -> str:
    """A mobile number in the 138 segment."""
    return "138" + "".join(rng.choice("0123456789") for _ in range(8))


def demo_suppliers() -> list[DemoSupplier]:
    """The ten demo suppliers: 3 large, 3 medium, 3 small and 1 micro enterprise."""
    codes = _unique_codes([(row[0], "91", row[2]) for row in SUPPLIERS])
    suppliers = []
    for number, (row, code) in enumerate(zip(SUPPLIERS, codes, strict=True), start=1):
        name, short_name, region, size, legal, contact, domain = row
        rng = random.Random(f"demo-supplier:{name}")
        suppliers.append(DemoSupplier(
            name=name,
            short_name=short_name,
            credit_code=code,
            region_code=region,
            size=size,
            legal_representative=legal,
            contact_name=contact,
            contact_phone=_mobile(rng),
            email=f"sales@{domain}.example.cn",
            login=f"supplier{number}",
        ))
    return suppliers


def demo_units() -> list[DemoUnit]:
    """The fifty demo purchasing units across Changsha, Zhuzhou and Xiangtan."""
    codes = _unique_codes([(name, kind, region) for region, kind, name in UNITS])
    return [
        DemoUnit(
            name=name,
            credit_code=code,
            region_code=region,
            region_name=REGIONS[region],
            login_prefix=f"unit{number:02d}",
        )
        for number, ((region, _, name), code) in enumerate(zip(UNITS, codes, strict=True), 1)
    ]
