"""Organisations and users with valid credit codes and roles."""

from __future__ import annotations

import itertools

from mall.accounts import services
from mall.accounts.models import Organisation, User
from mall.core.auth import OrganisationKind, Role
from mall.core.credit_codes import uscc_with_check_digit

PASSWORD = "Correct-Horse-42"
_serial = itertools.count(1)
_KIND_PREFIX = {
    OrganisationKind.PURCHASING_UNIT: "12",
    OrganisationKind.SUPPLIER: "91",
    OrganisationKind.OPERATOR: "12",
    OrganisationKind.SUPERVISOR: "11",
    OrganisationKind.FINANCE_PARTNER: "91",
    OrganisationKind.EXPERT_POOL: "12",
}
_ROLES = {
    OrganisationKind.PURCHASING_UNIT: [Role.BUYER],
    OrganisationKind.SUPPLIER: [Role.SUPPLIER_ADMIN],
    OrganisationKind.OPERATOR: [Role.OPERATOR],
    OrganisationKind.SUPERVISOR: [Role.SUPERVISOR],
    OrganisationKind.FINANCE_PARTNER: [Role.BANK_USER],
    OrganisationKind.EXPERT_POOL: [Role.EXPERT],
}
# Hashing with argon2 is deliberately slow; tests reuse one hash of PASSWORD.
_HASH_CACHE: dict[str, str] = {}


def credit_code(kind: OrganisationKind = OrganisationKind.SUPPLIER, region: str = "430100") -> str:
    """A unique, checksum-valid unified social credit code."""
    return uscc_with_check_digit(f"{_KIND_PREFIX[kind]}{region}{next(_serial):09d}")


def make_organisation(session, kind: OrganisationKind = OrganisationKind.PURCHASING_UNIT,
                      name: str | None = None, region_code: str = "430100") -> Organisation:
    n = next(_serial)
    return services.create_organisation(
        session, kind=kind, name=name or f"{kind.value} {n}", credit_code=credit_code(kind),
        region_code=region_code, region_name="长沙市")


def make_user(session, organisation: Organisation, login: str | None = None,
              roles: list[Role] | None = None, password: str = PASSWORD) -> User:
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = services.hash_password(password)
    return services.create_user(
        session, organisation=organisation, login=login or f"user{next(_serial)}",
        display_name="测试用户", password=password,
        roles=roles or _ROLES[organisation.kind], password_hash=_HASH_CACHE[password])


def make_member(session, kind: OrganisationKind, roles: list[Role] | None = None,
                login: str | None = None) -> User:
    """A user in a new organisation of ``kind``."""
    return make_user(session, make_organisation(session, kind), login=login, roles=roles)
