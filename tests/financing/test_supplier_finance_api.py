"""The suppliers' financing API: who may grant, revoke and apply, what staff may read, and the
refusals' stable codes (another supplier's consent is not found, a second revocation is a
conflict, an application without consent or above the product's share is refused)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from financing import products
from mall.accounts.models import User
from mall.accounts.services import issue_token
from mall.core.auth import Role
from mall.core.clock import local_today
from mall.purchasing.contracts import services as contracts
from tests.conftest import csrf_from, login
from tests.factories.accounts import make_user
from tests.factories.financing import confirmed_orders, make_bank

API = "/api/v1/supplier/finance"
PROBLEM = "application/problem+json"


@pytest.fixture
def client(app, session):
    return app.test_client()


def bearer(session, actor, scopes=("financing:read", "financing:write")) -> dict[str, str]:
    _token, secret = issue_token(session, actor, name="ERP", scopes=list(scopes))
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["code"] == code
    return response.json


def _signed(session):
    deal = confirmed_orders(session)
    (order,) = deal.orders
    contracts.sign(session, deal.supplier, order.id)
    contracts.sign(session, deal.unit.buyer, order.id)
    return deal, order


def _product(session, bank):
    return products.create_product(session, bank, products.ProductData(
        name="政采贷", max_share_pct=50, rate_min_bp=400, rate_max_bp=500, term_days=90,
        regions=["000000"]))


def _grant_body(bank, **changes) -> dict:
    return {"bank_org_id": bank.organisation_id, "scope": "all",
            "expires_on": (local_today() + timedelta(days=30)).isoformat(), **changes}


def test_staff_read_while_granting_and_applying_need_the_administrator(client, session):
    deal, order = _signed(session)
    bank = make_bank(session)
    _product(session, bank)
    supplier = session.get_one(User, deal.supplier.user_id).organisation
    clerk = make_user(session, supplier, roles=[Role.SUPPLIER_OPERATOR])
    session.flush()
    assert login(client, clerk.login).status_code == 302
    for path in ("/consents", "/loans", "/access-log", "/banks"):
        assert client.get(API + path).status_code == 200, path
    csrf = {"X-CSRFToken": csrf_from(client.get("/").get_data(as_text=True))}
    assert_problem(client.post(f"{API}/consents", json=_grant_body(bank), headers=csrf),
                   403, "role_required")
    bank_token = bearer(session, bank)
    assert_problem(client.get(f"{API}/consents", headers=bank_token), 403, "role_required")
    read_only = bearer(session, deal.supplier, scopes=["financing:read"])
    assert_problem(client.post(f"{API}/consents", json=_grant_body(bank), headers=read_only),
                   403, "scope_required")


def test_a_chosen_consent_names_its_contracts_and_is_revoked_once(client, session):
    deal, order = _signed(session)
    other, other_order = _signed(session)
    bank = make_bank(session)
    headers = bearer(session, deal.supplier)
    foreign = client.post(f"{API}/consents", headers=headers,
                          json=_grant_body(bank, scope="chosen", order_ids=[other_order.id]))
    assert "order_ids" in assert_problem(foreign, 422, "validation_failed")["errors"]
    granted = client.post(f"{API}/consents", headers=headers,
                          json=_grant_body(bank, scope="chosen", order_ids=[order.id]))
    assert granted.status_code == 201, granted.get_data(as_text=True)
    (chosen,) = granted.json["contracts"]
    assert chosen["order_id"] == order.id and chosen["contract_number"]
    revoke = f"{API}/consents/{granted.json['id']}/revoke"
    assert_problem(client.post(revoke, headers=bearer(session, other.supplier)), 404, "not_found")
    assert client.post(revoke, headers=headers).json["live"] is False
    assert_problem(client.post(revoke, headers=headers), 409, "consent_revoked")


def test_an_application_needs_consent_and_stays_within_the_products_share(client, session):
    deal, order = _signed(session)
    bank = make_bank(session)
    product = _product(session, bank)
    headers = bearer(session, deal.supplier)
    body = {"order_id": order.id, "product_id": product.id, "amount_fen": 1000}
    assert_problem(client.post(f"{API}/loans", headers=headers, json=body), 409,
                   "consent_required")
    assert client.post(f"{API}/consents", headers=headers,
                       json=_grant_body(bank)).status_code == 201
    too_much = client.post(f"{API}/loans", headers=headers,
                           json={**body, "amount_fen": order.total_fen})  # share is 50 %
    assert "amount_fen" in assert_problem(too_much, 422, "validation_failed")["errors"]
    applied = client.post(f"{API}/loans", headers=headers, json=body)
    assert applied.status_code == 201, applied.get_data(as_text=True)
    assert applied.json["bank"]["id"] == bank.organisation_id
    assert_problem(client.post(f"{API}/loans", headers=headers, json=body), 409, "loan_exists")
    other = confirmed_orders(session)
    assert_problem(client.post(f"{API}/loans", headers=bearer(session, other.supplier),
                               json=body), 404, "not_found")
    listed = client.get(f"{API}/loans", headers=headers).json
    assert [(loan["id"], loan["status"]) for loan in listed] == [(applied.json["id"], "applied")]
