"""Who is acting: organisation kinds, roles, the Actor every service receives, and scope checks.

Lower layers (catalog, suppliers) need to know who acts without importing the
account models of ``mall.accounts``; they receive this small frozen Actor.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mall.core.errors import NotFound, PermissionDenied


class OrganisationKind(enum.StrEnum):
    """The six kinds of organisation that use the mall."""

    PURCHASING_UNIT = "purchasing_unit"  # 采购单位
    SUPPLIER = "supplier"  # 供应商
    OPERATOR = "operator"  # 运营方（交易中心）
    SUPERVISOR = "supervisor"  # 监管方（财政部门）
    FINANCE_PARTNER = "finance_partner"  # 金融机构（银行）
    EXPERT_POOL = "expert_pool"  # 专家库: the acceptance experts (mall.purchasing.experts)


class Role(enum.StrEnum):
    """Roles a user holds inside their organisation."""

    BUYER = "buyer"  # 经办人
    APPROVER = "approver"  # 审批人
    FINANCE = "finance"  # 财务
    SUPPLIER_ADMIN = "supplier_admin"
    SUPPLIER_OPERATOR = "supplier_operator"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    BANK_USER = "bank_user"
    EXPERT = "expert"  # 验收专家: reviews the orders it was drawn for, nothing else


# Groups of roles that pages, API operations and services allow together, defined once.
BUYERS = (Role.BUYER, Role.APPROVER)  # who may fill a cart and order
UNIT_STAFF = (Role.BUYER, Role.APPROVER, Role.FINANCE)  # every role of a purchasing unit
SUPPLIER_STAFF = (Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR)  # every role of a supplier
OVERSIGHT_STAFF = (Role.OPERATOR, Role.SUPERVISOR)  # the trading centre and the supervisor

ROLES_BY_KIND: dict[OrganisationKind, frozenset[Role]] = {
    OrganisationKind.PURCHASING_UNIT: frozenset(UNIT_STAFF),
    OrganisationKind.SUPPLIER: frozenset(SUPPLIER_STAFF),
    OrganisationKind.OPERATOR: frozenset({Role.OPERATOR}),
    OrganisationKind.SUPERVISOR: frozenset({Role.SUPERVISOR}),
    OrganisationKind.FINANCE_PARTNER: frozenset({Role.BANK_USER}),
    OrganisationKind.EXPERT_POOL: frozenset({Role.EXPERT}),
}

# Organisation kinds whose staff may look at every organisation (to admit, review, supervise).
OVERSIGHT_KINDS = frozenset({OrganisationKind.OPERATOR, OrganisationKind.SUPERVISOR})


class Scope(enum.StrEnum):
    """What an API token may do; a token carries a subset its owner's roles allow."""

    ACCOUNT_READ = "account:read"
    ACCOUNT_WRITE = "account:write"  # roles of users, revoking tokens
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"  # operators: enabled and centrally procured categories
    OFFERS_WRITE = "offers:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    ROUNDS_READ = "rounds:read"  # bidding rounds: a unit's own, a supplier's opportunities
    ROUNDS_WRITE = "rounds:write"  # start and cancel rounds, quote, confirm or decline awards
    FINANCING_READ = "financing:read"
    FINANCING_WRITE = "financing:write"
    STATISTICS_READ = "statistics:read"  # supervisors and operators: the mall's statistics


SCOPES_BY_KIND: dict[OrganisationKind, frozenset[Scope]] = {
    OrganisationKind.SUPPLIER: frozenset({Scope.ACCOUNT_READ, Scope.ACCOUNT_WRITE,
                                          Scope.CATALOG_READ, Scope.OFFERS_WRITE,
                                          Scope.ORDERS_READ, Scope.ORDERS_WRITE,
                                          Scope.ROUNDS_READ, Scope.ROUNDS_WRITE,
                                          Scope.FINANCING_READ, Scope.FINANCING_WRITE}),
    OrganisationKind.FINANCE_PARTNER: frozenset({Scope.ACCOUNT_READ, Scope.ACCOUNT_WRITE,
                                                 Scope.FINANCING_READ, Scope.FINANCING_WRITE}),
    OrganisationKind.PURCHASING_UNIT: frozenset({Scope.ACCOUNT_READ, Scope.ACCOUNT_WRITE,
                                                 Scope.CATALOG_READ, Scope.ORDERS_READ,
                                                 Scope.ORDERS_WRITE, Scope.ROUNDS_READ,
                                                 Scope.ROUNDS_WRITE}),
    # Orders: the operator reads them and decides disputed returns of goods.
    OrganisationKind.OPERATOR: frozenset({Scope.ACCOUNT_READ, Scope.ACCOUNT_WRITE,
                                          Scope.CATALOG_READ, Scope.CATALOG_WRITE,
                                          Scope.ORDERS_READ, Scope.ORDERS_WRITE,
                                          Scope.ROUNDS_READ, Scope.STATISTICS_READ}),
    OrganisationKind.SUPERVISOR: frozenset({Scope.ACCOUNT_READ, Scope.CATALOG_READ,
                                            Scope.ORDERS_READ, Scope.ROUNDS_READ,
                                            Scope.STATISTICS_READ}),
    # Experts work through pages only; a token (which they cannot issue) would read the account.
    OrganisationKind.EXPERT_POOL: frozenset({Scope.ACCOUNT_READ}),
}
# Roles allowed to issue and revoke their organisation's API tokens.
TOKEN_ADMIN_ROLES = frozenset({Role.SUPPLIER_ADMIN, Role.BANK_USER, Role.OPERATOR,
                               Role.APPROVER, Role.SUPERVISOR})


@dataclass(frozen=True)
class Actor:
    """The user (or API token) on whose behalf a service runs."""

    user_id: int
    organisation_id: int
    organisation_kind: OrganisationKind
    roles: frozenset[Role]
    token_id: int | None = None
    scopes: frozenset[Scope] | None = field(default=None)  # None = a person, all role rights

    @property
    def is_oversight(self) -> bool:
        """Operators and supervisors may look across organisations."""
        return self.organisation_kind in OVERSIGHT_KINDS

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def require_role(self, *roles: Role) -> None:
        """Refuse unless the actor holds one of ``roles``."""
        if not self.has_role(*roles):
            raise PermissionDenied("Your role does not allow this.", code="role_required")

    def require_scope(self, scope: Scope) -> None:
        """Refuse a token that was not granted ``scope`` (people pass: roles govern them)."""
        if self.scopes is not None and scope not in self.scopes:
            raise PermissionDenied(f"This API token lacks the scope {scope}.",
                                   code="scope_required")


def require_same_organisation(actor: Actor, organisation_id: int, *,
                              allow_oversight: bool = True) -> None:
    """Refuse an actor from another organisation as if the object did not exist.

    Answering "not found" rather than "forbidden" keeps a curious buyer from learning
    which ids exist in other units.
    """
    if actor.organisation_id == organisation_id:
        return
    if allow_oversight and actor.is_oversight:
        return
    raise NotFound()
