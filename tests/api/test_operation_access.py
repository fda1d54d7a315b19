"""Every API operation declares the scope (and roles) it needs, and one decorator enforces it.

The walk goes through the OpenAPI document itself, so an operation added without a
declaration, or declared but not enforced, fails here.
"""

from __future__ import annotations

import re

import pytest

from mall.accounts import services
from mall.core.auth import ROLES_BY_KIND, SCOPES_BY_KIND, OrganisationKind, Role, Scope
from mall.web.access import access_of
from tests.conftest import login
from tests.factories.accounts import make_member, make_user

METHODS = ("get", "post", "put", "patch", "delete")


def _operations(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _concrete(path: str) -> str:
    """A path template filled with placeholder ids (the scope check comes before any lookup)."""
    return re.sub(r"\{([^}]+)\}", lambda m: "A02010104" if m.group(1) == "code"
                              else ("SKU-1" if m.group(1) == "sku" else "1"), path)


def _member_with_every_role(session, kind: OrganisationKind):
    return make_member(session, kind, roles=sorted(ROLES_BY_KIND[kind]))


def _token(session, user, scopes) -> str:
    _, plaintext = services.issue_token(session, services.actor_for(user), name="walk",
                                        scopes=scopes)
    session.flush()
    return plaintext


def test_every_api_route_declares_its_access(app):
    undeclared = [rule.rule for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/v1/") and not rule.rule.startswith("/api/v1/openapi")
                  and access_of(app.view_functions[rule.endpoint]) is None]
    assert undeclared == []


def test_the_openapi_document_names_each_operations_scope(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method, operation in _operations(client):
        if operation["security"] == []:
            continue  # public: notices, the Stripe webhook
        assert operation["x-required-scope"] in {s.value for s in Scope}, (method, path)
        assert "403" in operation["responses"], (method, path)


def test_a_token_lacking_an_operations_scope_is_refused_on_every_operation(client, session):
    """For each operation, a token of an organisation that could hold the scope, owned by a
    user with every role of that organisation, but issued without that one scope: 403."""
    members = {kind: _member_with_every_role(session, kind) for kind in OrganisationKind}
    tokens: dict[tuple[OrganisationKind, Scope | None], str] = {}

    def token_for(kind, missing):
        if (kind, missing) not in tokens:
            scopes = sorted(s.value for s in SCOPES_BY_KIND[kind] if s is not missing)
            tokens[kind, missing] = _token(session, members[kind], scopes)
        return tokens[kind, missing]

    walked = 0
    for path, method, operation in _operations(client):
        if operation["security"] == []:
            continue
        scope = Scope(operation["x-required-scope"])
        roles = {Role(r) for r in operation.get("x-required-roles", [])}
        kind = next(k for k in OrganisationKind if scope in SCOPES_BY_KIND[k]
                    and (not roles or roles & ROLES_BY_KIND[k]))
        url = _concrete(path)
        refused = client.open(url, method=method.upper(), json={},
                              headers={"Authorization": f"Bearer {token_for(kind, scope)}"})
        assert refused.status_code == 403, (method, path, refused.get_json())
        assert refused.get_json()["code"] == "scope_required", (method, path)
        # The same caller with the scope gets past the check (to a 2xx, 404 or a refusal
        # about the request itself), so the 403 above was the scope's doing.
        allowed = client.open(url, method=method.upper(), json={},
                              headers={"Authorization": f"Bearer {token_for(kind, None)}"})
        body = allowed.get_json(silent=True)
        code = body.get("code") if isinstance(body, dict) else None
        assert code not in {"scope_required", "role_required"}, (method, path, body)
        assert allowed.status_code < 500, (method, path)
        walked += 1
    assert walked >= 30


@pytest.mark.parametrize(("kind", "roles", "scopes", "method", "path", "body"), [
    # An operator token with only the read scopes changed a user's roles.
    (OrganisationKind.OPERATOR, [Role.OPERATOR], ["account:read", "catalog:read"],
     "PUT", "/api/v1/users/{user}/roles", {"roles": ["buyer"]}),
    # ...and marked categories centrally procured.
    (OrganisationKind.OPERATOR, [Role.OPERATOR], ["account:read", "catalog:read"],
     "PUT", "/api/v1/categories/centrally-procured",
     {"codes": ["A02010104"], "centrally_procured": True}),
    # An approver token with account:read revoked another token.
    (OrganisationKind.PURCHASING_UNIT, [Role.APPROVER], ["account:read"],
     "DELETE", "/api/v1/tokens/{token}", None),
    # A supplier token (offers and orders) changed roles.
    (OrganisationKind.SUPPLIER, [Role.SUPPLIER_ADMIN],
     ["account:read", "catalog:read", "offers:write", "orders:read", "orders:write"],
     "PUT", "/api/v1/users/{user}/roles", {"roles": ["supplier_admin"]}),
])
def test_read_tokens_change_nothing(client, session, kind, roles, scopes, method, path, body):
    from mall.accounts.models import ApiToken, User

    caller = make_member(session, kind, roles=roles)
    # The operator may manage anyone's roles, a supplier admin its own staff's.
    victim = (make_member(session, OrganisationKind.PURCHASING_UNIT)
              if kind is OrganisationKind.OPERATOR
              else make_user(session, caller.organisation, roles=[min(ROLES_BY_KIND[kind])]))
    other_token = services.issue_token(session, services.actor_for(caller), name="other",
                                       scopes=["account:read"])[0]
    plaintext = _token(session, caller, scopes)
    session.flush()
    before_roles = sorted(r.value for r in victim.roles)
    answer = client.open(path.format(user=victim.id, token=other_token.id), method=method,
                         json=body, headers={"Authorization": f"Bearer {plaintext}"})
    assert answer.status_code == 403
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["code"] == "scope_required"
    session.expire_all()
    assert sorted(r.value for r in session.get(User, victim.id).roles) == before_roles
    assert session.get(ApiToken, other_token.id).revoked_at is None


def test_a_supplier_asking_for_a_cart_is_refused_not_given_an_empty_one(client, session):
    supplier = make_member(session, OrganisationKind.SUPPLIER)
    token = _token(session, supplier, ["orders:read", "orders:write"])
    answer = client.get("/api/v1/cart", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert answer.get_json()["code"] == "role_required"


def test_a_bank_user_listing_orders_is_refused_not_given_an_empty_list(client, session):
    bank = make_member(session, OrganisationKind.FINANCE_PARTNER)
    session.flush()
    assert login(client, bank.login).status_code == 302
    answer = client.get("/api/v1/orders")
    assert answer.status_code == 403
    assert answer.get_json()["code"] == "role_required"
    token = _token(session, bank, ["account:read", "financing:read"])
    answer = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert answer.get_json()["code"] == "role_required"
