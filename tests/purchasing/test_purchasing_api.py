"""The purchasing API through HTTP with real bearer tokens: cart, idempotent checkout, the
order's steps refused to the wrong party, organisation and status, contracts, notices."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import pytest

from catalog.models import Offer
from mall.accounts.models import User
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import Actor, Role
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts import notices
from mall.purchasing.contracts.models import Notice, NoticeKind
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.checkout import fiscal_year
from tests.conftest import csrf_from, login
from tests.factories.accounts import make_user
from tests.factories.purchasing import Unit, make_unit, supplier_with_offers
from tests.factories.suppliers import DESKTOP, operator_actor

API = "/api/v1"
PROBLEM = "application/problem+json"
ADDRESS = {"delivery_address": "长沙市岳麓区麓山路1号", "contact": "李四 13800000000"}


def bearer(session, user: User, scopes=("orders:read", "orders:write")) -> dict[str, str]:
    """An Authorization header with a real token issued by ``user`` (who must be a token admin)."""
    _token, secret = issue_token(session, actor_for(user), name="ERP", scopes=list(scopes))
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["code"] == code and body["status"] == status and body["title"]
    return body


@pytest.fixture
def client(app, session):
    """A test client that keeps no request context between requests (unlike the shared fixture's
    ``with`` block), so a second client logged in as a person gets its own ``g`` and CSRF token."""
    return app.test_client()


@dataclass
class Party:
    """A unit or supplier as an API client sees it: its token and (for tests) its actor."""

    actor: Actor
    headers: dict[str, str]


@dataclass
class Market:
    unit: Unit
    buyer: Party  # the unit's approver (buyers and finance users cannot issue tokens)
    supplier: Party
    offer: int  # 29.90 paper, 100 in stock
    other_supplier: Party
    other_offer: int  # 31.00 paper of the other supplier


def _user(session, actor: Actor) -> User:
    return session.get(User, actor.user_id)


@pytest.fixture
def market(session) -> Market:
    return make_market(session)


def make_market(session) -> Market:
    unit = make_unit(session)
    supplier_user, supplier_actor, (offer,) = supplier_with_offers(session, prices=(2990,))
    other_user, other_actor, (other_offer,) = supplier_with_offers(session, prices=(3100,))
    return Market(unit=unit, buyer=Party(unit.approver, bearer(session, _user(session, unit.approver))),
                  supplier=Party(supplier_actor, bearer(session, supplier_user)), offer=offer,
                  other_supplier=Party(other_actor, bearer(session, other_user)),
                  other_offer=other_offer)


def stock_of(session, offer_id: int) -> int:
    offer = session.get(Offer, offer_id)
    session.refresh(offer)
    return offer.stock


def line_of(session, unit: Unit) -> BudgetLine:
    line = session.get(BudgetLine, unit.line_id)
    session.refresh(line)
    return line


def checkout_body(market: Market, **overrides) -> dict:
    return {"budget_line_id": market.unit.line_id, **ADDRESS, **overrides}


def buy(client, market: Market, quantity: int = 10, **overrides) -> dict:
    """One order of ``quantity`` paper from the market's supplier, bought now through the API."""
    body = checkout_body(market, items=[{"offer_id": market.offer, "quantity": quantity}], **overrides)
    response = client.post(f"{API}/orders/checkout", json=body, headers=market.buyer.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    (order,) = response.json["orders"]
    return order


def step(client, party: Party, order_id: int, name: str, body: dict | None = None):
    return client.post(f"{API}/orders/{order_id}/{name}", json=body or {}, headers=party.headers)


def contract_sha(client, party: Party, order_id: int) -> str:
    return client.get(f"{API}/orders/{order_id}/contract", headers=party.headers).headers[
        "X-Contract-SHA256"]


def to_signed(client, market: Market, order_id: int) -> None:
    assert step(client, market.supplier, order_id, "confirm").status_code == 200
    sha = contract_sha(client, market.supplier, order_id)
    assert step(client, market.supplier, order_id, "sign", {"sha256": sha}).status_code == 200
    signed = step(client, market.buyer, order_id, "sign", {"sha256": sha})
    assert signed.json["status"] == "signed", signed.get_data(as_text=True)


# -- cart ------------------------------------------------------------------------------------

def test_the_cart_groups_lines_by_supplier_and_shows_the_limit_standing(client, session, market):
    headers = market.buyer.headers
    assert client.post(f"{API}/cart/items", json={"offer_id": market.offer, "quantity": 2},
                       headers=headers).status_code == 201
    added = client.post(f"{API}/cart/items", json={"offer_id": market.offer, "quantity": 3},
                        headers=headers)
    assert added.status_code == 201
    assert added.json["groups"][0]["lines"][0]["quantity"] == 5  # quantities add up
    client.post(f"{API}/cart/items", json={"offer_id": market.other_offer}, headers=headers)
    changed = client.put(f"{API}/cart/items/{market.other_offer}", json={"quantity": 4},
                         headers=headers)
    assert changed.status_code == 200

    cart = client.get(f"{API}/cart", headers=headers).json
    by_supplier = {g["supplier_id"]: g for g in cart["groups"]}
    assert set(by_supplier) == {market.supplier.actor.organisation_id,
                                market.other_supplier.actor.organisation_id}
    ours = by_supplier[market.supplier.actor.organisation_id]
    assert ours["supplier_name"] and ours["total_fen"] == 5 * 2990
    assert [(ln["offer_id"], ln["quantity"], ln["price_fen"], ln["amount_fen"], ln["stock"],
             ln["available"]) for ln in ours["lines"]] == [(market.offer, 5, 2990, 14_950, 100, True)]
    assert by_supplier[market.other_supplier.actor.organisation_id]["total_fen"] == 4 * 3100
    assert cart["total_fen"] == 5 * 2990 + 4 * 3100 and cart["count"] == 2
    assert cart["checks"] == [{"category_code": "A05040101", "running_total_fen": 0,
                               "order_fen": 27_350, "limit_fen": budget.DEFAULT_DIRECT_LIMIT_FEN,
                               "warning": False, "blocked": False}]

    removed = client.delete(f"{API}/cart/items/{market.other_offer}", headers=headers)
    assert removed.status_code == 200 and removed.json["count"] == 1
    zeroed = client.put(f"{API}/cart/items/{market.offer}", json={"quantity": 0}, headers=headers)
    assert zeroed.json == {"groups": [], "total_fen": 0, "count": 0, "checks": []}
    assert stock_of(session, market.offer) == 100  # a cart holds no stock


def test_the_cart_warns_near_the_limit_and_flags_a_cart_past_it(client, session, market):
    budget.set_limits(session, operator_actor(session), region_code=None, direct_limit_fen=100_000)
    headers = market.buyer.headers
    client.post(f"{API}/cart/items", json={"offer_id": market.offer, "quantity": 30}, headers=headers)
    (check,) = client.get(f"{API}/cart", headers=headers).json["checks"]
    assert (check["order_fen"], check["limit_fen"], check["warning"], check["blocked"]) == (
        89_700, 100_000, True, False)
    client.put(f"{API}/cart/items/{market.offer}", json={"quantity": 34}, headers=headers)
    (check,) = client.get(f"{API}/cart", headers=headers).json["checks"]
    assert (check["warning"], check["blocked"]) == (False, True)


def test_the_cart_refuses_more_than_the_stock(client, market):
    response = client.post(f"{API}/cart/items", json={"offer_id": market.offer, "quantity": 101},
                           headers=market.buyer.headers)
    problem = assert_problem(response, 409, "out_of_stock")
    assert "100" in problem["detail"] and "quantity" in problem["errors"]


@pytest.mark.parametrize(("body", "field"), [
    ({"quantity": 1}, "offer_id"),
    ({"offer_id": 1, "quantity": 0}, "quantity"),
    ({"offer_id": "1", "quantity": 1}, "offer_id"),
    ({"offer_id": 1, "quantity": "2"}, "quantity"),
])
def test_bad_cart_input_is_a_validation_problem_naming_the_field(client, market, body, field):
    response = client.post(f"{API}/cart/items", json=body, headers=market.buyer.headers)
    assert field in assert_problem(response, 422, "validation_failed")["errors"]


def test_changing_a_line_that_is_not_in_the_cart_is_not_found(client, market):
    response = client.put(f"{API}/cart/items/{market.offer}", json={"quantity": 2},
                          headers=market.buyer.headers)
    assert_problem(response, 404, "not_found")
    assert_problem(client.put(f"{API}/cart/items/{market.offer}", json={"quantity": -1},
                              headers=market.buyer.headers), 422, "validation_failed")


def test_a_supplier_token_cannot_fill_a_cart(client, market):
    response = client.post(f"{API}/cart/items", json={"offer_id": market.offer},
                           headers=market.supplier.headers)
    assert_problem(response, 403, "role_required")
    # Nor read one: a supplier has no cart, and is told so rather than shown an empty one.
    assert_problem(client.get(f"{API}/cart", headers=market.supplier.headers), 403, "role_required")


def test_a_token_without_the_orders_write_scope_may_only_read(client, session, market):
    reader = bearer(session, _user(session, market.unit.approver), scopes=("orders:read",))
    assert client.get(f"{API}/cart", headers=reader).status_code == 200
    response = client.post(f"{API}/cart/items", json={"offer_id": market.offer}, headers=reader)
    assert_problem(response, 403, "scope_required")
    assert_problem(client.get(f"{API}/cart"), 401, "authentication_required")


# -- checkout --------------------------------------------------------------------------------

def test_a_checkout_replayed_with_its_idempotency_key_returns_the_same_orders_once(
        client, session, market):
    headers = market.buyer.headers
    client.post(f"{API}/cart/items", json={"offer_id": market.offer, "quantity": 3}, headers=headers)
    client.post(f"{API}/cart/items", json={"offer_id": market.other_offer, "quantity": 2},
                headers=headers)
    # The longest key the header allows (100 characters) must work as well as a UUID.
    keyed = {**headers, "Idempotency-Key": "k" * 100}
    first = client.post(f"{API}/orders/checkout", json=checkout_body(market), headers=keyed)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert "Idempotent-Replayed" not in first.headers
    placed = first.json["orders"]
    assert sorted((o["supplier_id"], o["total_fen"], o["status"]) for o in placed) == sorted([
        (market.supplier.actor.organisation_id, 3 * 2990, "sent"),
        (market.other_supplier.actor.organisation_id, 2 * 3100, "sent")])
    assert all(o["confirm_by"] and [s["status"] for s in o["steps"]] == ["submitted", "sent"]
               for o in placed)

    again = client.post(f"{API}/orders/checkout", json=checkout_body(market), headers=keyed)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert stock_of(session, market.offer) == 97 and stock_of(session, market.other_offer) == 98
    assert line_of(session, market.unit).reserved_fen == 3 * 2990 + 2 * 3100
    assert client.get(f"{API}/cart", headers=headers).json["count"] == 0
    listed = client.get(f"{API}/orders", headers=headers).json
    assert sorted(o["id"] for o in listed) == sorted(o["id"] for o in placed)

    other_body = checkout_body(market, contact="王五 13900000000")
    reused = client.post(f"{API}/orders/checkout", json=other_body, headers=keyed)
    assert_problem(reused, 409, "idempotency_key_reused")


def test_two_checkouts_without_a_key_are_two_purchases(client, session, market):
    buy(client, market, 1)
    buy(client, market, 1)
    assert stock_of(session, market.offer) == 98


def test_buying_items_directly_leaves_the_cart_alone(client, session, market):
    headers = market.buyer.headers
    client.post(f"{API}/cart/items", json={"offer_id": market.other_offer, "quantity": 2},
                headers=headers)
    order = buy(client, market, 4)
    assert (order["supplier_id"], order["total_fen"]) == (market.supplier.actor.organisation_id,
                                                          4 * 2990)
    assert [(ln["offer_id"], ln["quantity"], ln["unit_price_fen"]) for ln in order["lines"]] == [
        (market.offer, 4, 2990)]
    cart = client.get(f"{API}/cart", headers=headers).json
    assert [(ln["offer_id"], ln["quantity"]) for g in cart["groups"] for ln in g["lines"]] == [
        (market.other_offer, 2)]
    assert stock_of(session, market.offer) == 96 and stock_of(session, market.other_offer) == 100


def test_checkout_of_only_some_offers_of_the_cart_keeps_the_rest(client, market):
    headers = market.buyer.headers
    for offer in (market.offer, market.other_offer):
        client.post(f"{API}/cart/items", json={"offer_id": offer}, headers=headers)
    response = client.post(f"{API}/orders/checkout", json=checkout_body(
        market, offer_ids=[market.other_offer]), headers=headers)
    assert [o["supplier_id"] for o in response.json["orders"]] == [
        market.other_supplier.actor.organisation_id]
    cart = client.get(f"{API}/cart", headers=headers).json
    assert [g["lines"][0]["offer_id"] for g in cart["groups"]] == [market.offer]


def test_checkout_beyond_the_stock_is_refused_and_takes_nothing(client, session, market):
    body = checkout_body(market, items=[{"offer_id": market.other_offer, "quantity": 1},
                                        {"offer_id": market.offer, "quantity": 101}])
    key = {**market.buyer.headers, "Idempotency-Key": str(uuid.uuid4())}
    problem = assert_problem(client.post(f"{API}/orders/checkout", json=body, headers=key),
                             409, "out_of_stock")
    assert "only 100 left" in problem["detail"]
    assert stock_of(session, market.other_offer) == 100 and stock_of(session, market.offer) == 100
    assert line_of(session, market.unit).reserved_fen == 0
    # A refusal is not stored: the corrected request runs under the same key.
    body["items"][1]["quantity"] = 100
    retried = client.post(f"{API}/orders/checkout", json=body, headers=key)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert stock_of(session, market.offer) == 0


def test_checkout_past_the_budget_line_is_budget_exhausted(client, session, market):
    small = budget.create_budget_line(session, market.unit.finance, fiscal_year=fiscal_year(),
                                      project_code="2026-BG-002", project_name="小额",
                                      category_code="A05000000", amount_fen=10_000)
    body = checkout_body(market, budget_line_id=small.id,
                         items=[{"offer_id": market.offer, "quantity": 4}])
    problem = assert_problem(client.post(f"{API}/orders/checkout", json=body,
                                         headers=market.buyer.headers), 409, "budget_exhausted")
    assert "budget_line_id" in problem["errors"]
    assert stock_of(session, market.offer) == 100


def test_checkout_past_the_direct_purchase_limit_names_the_limit_and_the_running_total(
        client, session, market):
    budget.set_limits(session, operator_actor(session), region_code=None, direct_limit_fen=100_000)
    single = checkout_body(market, items=[{"offer_id": market.offer, "quantity": 34}])
    problem = assert_problem(client.post(f"{API}/orders/checkout", json=single,
                                         headers=market.buyer.headers),
                             409, "direct_purchase_limit_exceeded")
    assert "¥1,000.00" in problem["detail"] and "bidding round" in problem["detail"]

    first = buy(client, market, 30)  # 897.00 of the 1,000.00 this year
    assert first["status"] == "sent"
    again = checkout_body(market, items=[{"offer_id": market.other_offer, "quantity": 4}])
    problem = assert_problem(client.post(f"{API}/orders/checkout", json=again,
                                         headers=market.buyer.headers),
                             409, "direct_purchase_limit_exceeded")
    assert "¥897.00" in problem["detail"] and "¥1,000.00" in problem["detail"]
    assert problem["errors"] == {"category": ["A05040101"]}
    assert stock_of(session, market.other_offer) == 100


def test_checkout_warns_when_the_running_total_nears_the_limit(client, session, market):
    budget.set_limits(session, operator_actor(session), region_code=None, direct_limit_fen=100_000)
    body = checkout_body(market, items=[{"offer_id": market.offer, "quantity": 30}])
    response = client.post(f"{API}/orders/checkout", json=body, headers=market.buyer.headers)
    assert [(w["category_code"], w["warning"]) for w in response.json["warnings"]] == [
        ("A05040101", True)]


def test_a_budget_line_for_another_category_is_a_mismatch(client, session, market):
    desktops = budget.create_budget_line(session, market.unit.finance, fiscal_year=fiscal_year(),
                                         project_code="2026-PC", project_name="台式机",
                                         category_code=DESKTOP, amount_fen=10_000_000)
    body = checkout_body(market, budget_line_id=desktops.id,
                         items=[{"offer_id": market.offer, "quantity": 1}])
    problem = assert_problem(client.post(f"{API}/orders/checkout", json=body,
                                         headers=market.buyer.headers), 422, "budget_line_mismatch")
    assert "A05040101" in problem["detail"] and problem["errors"]["budget_line_id"]


def test_another_units_budget_line_is_not_found(client, session, market):
    stranger = make_unit(session)
    body = checkout_body(market, budget_line_id=stranger.line_id,
                         items=[{"offer_id": market.offer, "quantity": 1}])
    assert_problem(client.post(f"{API}/orders/checkout", json=body, headers=market.buyer.headers),
                   404, "not_found")


def test_checking_out_an_empty_cart_is_refused(client, market):
    response = client.post(f"{API}/orders/checkout", json=checkout_body(market),
                           headers=market.buyer.headers)
    assert_problem(response, 422, "cart_empty")


@pytest.mark.parametrize(("change", "field"), [
    ({"budget_line_id": None}, "budget_line_id"),
    ({"budget_line_id": "1"}, "budget_line_id"),
    ({"contact": ""}, "contact"),
    ({"items": [{"offer_id": 1, "quantity": 0}]}, "items.0.quantity"),
    ({"items": [{"offer_id": 1, "quantity": "3"}]}, "items.0.quantity"),
    ({"items": [{"offer_id": "x", "quantity": 3}]}, "items.0.offer_id"),
    ({"items": []}, "items"),
    ({"offer_ids": ["a"]}, "offer_ids.0"),
])
def test_bad_checkout_input_is_a_validation_problem_naming_the_field(client, market, change, field):
    body = checkout_body(market, **change)
    if change.get("budget_line_id", 0) is None:
        del body["budget_line_id"]
    response = client.post(f"{API}/orders/checkout", json=body, headers=market.buyer.headers)
    assert field in assert_problem(response, 422, "validation_failed")["errors"]


def test_a_checkout_with_an_unknown_offer_is_refused(client, market):
    body = checkout_body(market, items=[{"offer_id": 987_654_321, "quantity": 1}])
    response = client.post(f"{API}/orders/checkout", json=body, headers=market.buyer.headers)
    assert "items" in assert_problem(response, 422, "offer_unknown")["errors"]


# -- the order's steps: who may take them, and when ------------------------------------------

STEP_BODIES = {
    "approve": {}, "return": {"reason": "超预算"}, "confirm": {}, "decline": {"reason": "缺货"},
    "cancel": {"reason": "买错了"}, "sign": {"sha256": "0" * 64},
    "ship": {"carrier": "顺丰", "tracking_number": "SF1"}, "receive": {}, "accept": {"result": "pass"},
    "invoice": {"invoice_number": "E-1"}, "pay-card": {"payment_method": "pm_card_visa"},
    "pay-treasury": {"voucher_number": "GK-1", "paid_on": "2026-01-05", "amount_fen": 29_900,
                     "payee_account_number": "6230901000000001"},
    "rate": {"quality": 5, "delivery": 5, "service": 5},
}
BUYER_STEPS = ["approve", "return", "cancel", "receive", "accept", "pay-card", "pay-treasury",
               "rate"]
SUPPLIER_STEPS = ["confirm", "decline", "ship", "invoice"]


@pytest.mark.parametrize("name", BUYER_STEPS)
def test_a_buyer_step_is_forbidden_to_the_supplier(client, market, name):
    order = buy(client, market)
    response = step(client, market.supplier, order["id"], name, STEP_BODIES[name])
    assert_problem(response, 403, "buyer_required")


@pytest.mark.parametrize("name", SUPPLIER_STEPS)
def test_a_supplier_step_is_forbidden_to_the_buyer(client, market, name):
    order = buy(client, market)
    response = step(client, market.buyer, order["id"], name, STEP_BODIES[name])
    assert_problem(response, 403, "supplier_required")


@pytest.mark.parametrize("name", sorted(STEP_BODIES))
def test_every_step_of_another_organisations_order_is_not_found(client, session, market, name):
    order = buy(client, market)
    stranger_unit = make_unit(session)
    strangers = [bearer(session, _user(session, stranger_unit.approver)),
                 market.other_supplier.headers]
    for headers in strangers:
        response = client.post(f"{API}/orders/{order['id']}/{name}", json=STEP_BODIES[name],
                               headers=headers)
        assert_problem(response, 404, "not_found")
        assert_problem(client.get(f"{API}/orders/{order['id']}", headers=headers), 404, "not_found")
    assert client.get(f"{API}/orders", headers=strangers[1]).json == []
    assert step(client, market.buyer, order["id"], "cancel", STEP_BODIES["cancel"]).status_code == 200


@pytest.mark.parametrize(("party", "name", "confirmed"), [
    ("buyer", "approve", False), ("buyer", "return", False), ("buyer", "sign", False),
    ("buyer", "receive", False), ("buyer", "accept", False), ("buyer", "pay-card", False),
    ("buyer", "rate", False), ("supplier", "sign", False),
    ("supplier", "ship", False), ("supplier", "invoice", False),
    ("supplier", "confirm", True), ("supplier", "decline", True), ("buyer", "cancel", True),
])
def test_a_step_at_the_wrong_status_is_a_state_conflict(client, market, party, name, confirmed):
    order = buy(client, market)
    if confirmed:
        assert step(client, market.supplier, order["id"], "confirm").status_code == 200
    response = step(client, getattr(market, party), order["id"], name, STEP_BODIES[name])
    problem = assert_problem(response, 409, "order_state_conflict")
    assert order["number"] in problem["detail"]
    expected = "confirmed" if confirmed else "sent"
    assert client.get(f"{API}/orders/{order['id']}", headers=market.buyer.headers).json[
        "status"] == expected


def _browser(client, session, organisation, roles) -> dict[str, str]:
    """Log a new user of ``organisation`` in through the login form (people without the right
    to issue API tokens use the API from the browser, sending the CSRF token as a header)."""
    user = make_user(session, organisation, roles=roles)
    assert login(client, user.login).status_code == 302
    return {"X-CSRFToken": csrf_from(client.get("/").get_data(as_text=True))}


def test_a_step_needing_another_role_in_the_organisation_is_forbidden(client, session, market):
    orders.set_approval_threshold(session, market.unit.approver, 5_000)
    session.flush()
    order = buy(client, market)
    assert order["status"] == "pending_approval" and order["confirm_by"] is None
    browser = client.application.test_client()
    clerk = _browser(browser, session, market.unit.organisation, [Role.BUYER])
    refused = browser.post(f"{API}/orders/{order['id']}/approve", json={}, headers=clerk)
    assert_problem(refused, 403, "role_required")
    own = step(client, market.buyer, order["id"], "approve")  # the token is the orderer's
    assert_problem(own, 403, "own_order_approval")
    second = client.application.test_client()
    approver = _browser(second, session, market.unit.organisation, [Role.APPROVER])
    approved = second.post(f"{API}/orders/{order['id']}/approve", json={}, headers=approver)
    assert approved.json["status"] == "sent" and approved.json["confirm_by"]
    assert [s["status"] for s in approved.json["steps"]] == ["submitted", "approved", "sent"]

    assert step(client, market.supplier, order["id"], "confirm").status_code == 200
    operator_client = client.application.test_client()
    operator = _browser(operator_client, session, session.get(User, market.supplier.actor.user_id)
                        .organisation, [Role.SUPPLIER_OPERATOR])
    unsigned = operator_client.post(f"{API}/orders/{order['id']}/sign", json={},
                                    headers=operator)
    assert_problem(unsigned, 403, "role_required")  # only a supplier admin signs
    treasury = step(client, market.buyer, order["id"], "pay-treasury", STEP_BODIES["pay-treasury"])
    assert_problem(treasury, 403, "role_required")  # only the finance user records transfers


def test_the_approver_may_return_an_order_which_releases_what_it_held(client, session, market):
    orders.set_approval_threshold(session, market.unit.approver, 5_000)
    session.flush()
    order = buy(client, market)
    assert_problem(step(client, market.buyer, order["id"], "return", {"reason": " "}),
                   422, "validation_failed")
    returned = step(client, market.buyer, order["id"], "return", {"reason": "超预算"})
    assert returned.json["status"] == "cancelled" and "超预算" in returned.json["cancel_reason"]
    assert stock_of(session, market.offer) == 100
    assert line_of(session, market.unit).reserved_fen == 0


def test_the_supplier_may_lower_but_never_raise_a_price(client, session, market):
    order = buy(client, market)
    line_id = order["lines"][0]["id"]
    raised = step(client, market.supplier, order["id"], "confirm", {"prices": {str(line_id): 2991}})
    problem = assert_problem(raised, 422, "price_raise_refused")
    assert f"prices.{line_id}" in problem["errors"]
    for bad in ({"abc": 2900}, {str(line_id): 0}, {str(line_id): "2900"}):
        assert_problem(step(client, market.supplier, order["id"], "confirm", {"prices": bad}),
                       422, "validation_failed")
    lowered = step(client, market.supplier, order["id"], "confirm", {"prices": {str(line_id): 2890}})
    assert lowered.status_code == 200
    assert (lowered.json["status"], lowered.json["total_fen"]) == ("confirmed", 28_900)
    assert lowered.json["lines"][0]["unit_price_fen"] == 2890
    assert line_of(session, market.unit).reserved_fen == 28_900


def test_the_supplier_may_decline_and_the_buyer_may_cancel_before_confirmation(client, session,
                                                                               market):
    declined = step(client, market.supplier, buy(client, market)["id"], "decline", {"reason": "停产"})
    assert declined.json["status"] == "cancelled"
    cancelled = step(client, market.buyer, buy(client, market)["id"], "cancel", {"reason": "重复"})
    assert cancelled.json["status"] == "cancelled"
    assert stock_of(session, market.offer) == 100
    assert line_of(session, market.unit).reserved_fen == 0


# -- contract --------------------------------------------------------------------------------

def test_the_contract_is_served_as_html_with_its_fingerprint_and_as_pdf(client, market):
    order = buy(client, market)
    url = f"{API}/orders/{order['id']}/contract"
    assert_problem(client.get(url, headers=market.buyer.headers), 404, "not_found")
    step(client, market.supplier, order["id"], "confirm")

    page = client.get(url, headers=market.buyer.headers)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data()
    assert page.headers["X-Contract-SHA256"] == hashlib.sha256(html).hexdigest()
    assert order["number"][2:] in html.decode() and "贰佰玖拾玖元" in html.decode()  # ¥299.00
    assert client.get(url, headers=market.supplier.headers).headers["X-Contract-SHA256"] == \
        page.headers["X-Contract-SHA256"]

    pdf = client.get(url, query_string={"format": "pdf"}, headers=market.buyer.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF-")
    assert pdf.headers["X-Contract-SHA256"] == page.headers["X-Contract-SHA256"]
    assert_problem(client.get(url, headers=market.other_supplier.headers), 404, "not_found")


def test_a_contract_signed_with_a_stale_fingerprint_is_refused(client, market):
    order = buy(client, market)
    step(client, market.supplier, order["id"], "confirm")
    sha = contract_sha(client, market.supplier, order["id"])
    stale = hashlib.sha256(b"the contract as it was yesterday").hexdigest()
    problem = assert_problem(step(client, market.supplier, order["id"], "sign", {"sha256": stale}),
                             422, "contract_changed")
    assert "reload" in problem["detail"]
    assert_problem(step(client, market.supplier, order["id"], "sign", {"sha256": "abc"}),
                   422, "validation_failed")
    signed = step(client, market.supplier, order["id"], "sign", {"sha256": sha})
    assert signed.json["status"] == "supplier_signed"
    assert_problem(step(client, market.buyer, order["id"], "sign", {"sha256": stale}),
                   422, "contract_changed")
    assert step(client, market.buyer, order["id"], "sign", {"sha256": sha}).json["status"] == "signed"


def test_an_order_goes_from_checkout_to_rating_through_the_api(client, session, market):
    order = buy(client, market)
    order_id = order["id"]
    to_signed(client, market, order_id)
    assert line_of(session, market.unit).committed_fen == 29_900
    shipped = step(client, market.supplier, order_id, "ship", {"carrier": "顺丰", "tracking_number": "SF9"})
    assert (shipped.json["carrier"], shipped.json["tracking_number"]) == ("顺丰", "SF9")
    assert step(client, market.buyer, order_id, "receive").json["status"] == "delivered"
    assert_problem(step(client, market.buyer, order_id, "accept", {
        "result": "partial", "quantities": {"first": 8}, "reasons": "x"}), 422, "validation_failed")
    partial = step(client, market.buyer, order_id, "accept", {
        "result": "partial", "quantities": {str(order["lines"][0]["id"]): 8}, "reasons": "2 包受潮"})
    assert (partial.json["status"], partial.json["accepted_fen"], partial.json["amount_due_fen"]) == (
        "accepted", 23_920, 23_920)
    assert partial.json["lines"][0]["accepted_quantity"] == 8
    assert stock_of(session, market.offer) == 92  # two packs went back
    invoiced = step(client, market.supplier, order_id, "invoice", {"invoice_number": "E-2026-9"})
    assert invoiced.json["status"] == "invoiced" and invoiced.json["pay_by"]

    browser = client.application.test_client()
    finance = _browser(browser, session, market.unit.organisation, [Role.FINANCE])
    paid = browser.post(f"{API}/orders/{order_id}/pay-treasury", headers=finance, json={
        "voucher_number": "GK-2026-0001", "paid_on": invoiced.json["submitted_at"][:10],
        "amount_fen": 23_920, "payee_account_number": "6230901000000001"})
    assert paid.status_code == 200, paid.get_data(as_text=True)
    assert (paid.json["status"], paid.json["paid_fen"], paid.json["amount_due_fen"]) == ("paid", 23_920, 0)
    payments = client.get(f"{API}/orders/{order_id}/payments", headers=market.buyer.headers).json
    assert [(p["method"], p["status"], p["voucher_number"], p["amount_fen"]) for p in payments] == [
        ("treasury", "succeeded", "GK-2026-0001", 23_920)]
    (line,) = [ln for ln in client.get(f"{API}/budget-lines", headers=market.buyer.headers).json
               if ln["id"] == market.unit.line_id]
    assert (line["reserved_fen"], line["committed_fen"], line["spent_fen"]) == (0, 0, 23_920)

    assert_problem(step(client, market.buyer, order_id, "rate", {"quality": 6, "delivery": 5,
                                                                  "service": 5}),
                   422, "validation_failed")
    rated = step(client, market.buyer, order_id, "rate", {"quality": 5, "delivery": 4, "service": 5})
    assert rated.json["status"] == "rated"
    assert [s["status"] for s in rated.json["steps"]] == [
        "submitted", "sent", "confirmed", "supplier_signed", "signed", "shipped", "delivered",
        "accepted", "invoiced", "paid", "rated"]
    supplier_view = client.get(f"{API}/orders", query_string={"status": "rated"},
                               headers=market.supplier.headers).json
    assert [o["id"] for o in supplier_view] == [order_id]


def test_a_unit_enters_and_lists_its_budget_lines(client, market):
    created = client.post(f"{API}/budget-lines", headers=market.buyer.headers, json={
        "fiscal_year": 2026, "project_code": "2026-BG-077", "project_name": "打印耗材",
        "category_code": "A05040000", "amount_fen": 500_000})
    assert created.status_code == 201
    assert (created.json["available_fen"], created.json["reserved_fen"]) == (500_000, 0)
    bad = client.post(f"{API}/budget-lines", headers=market.buyer.headers, json={
        "fiscal_year": 2026, "project_code": "x", "project_name": "y", "category_code": "A05",
        "amount_fen": "5"})
    assert {"category_code", "amount_fen"} <= set(assert_problem(bad, 422, "validation_failed")["errors"])
    listed = client.get(f"{API}/budget-lines", headers=market.buyer.headers).json
    assert created.json["id"] in [ln["id"] for ln in listed]
    assert_problem(client.get(f"{API}/budget-lines", headers=market.supplier.headers), 403,
                   "role_required")


# -- public notices --------------------------------------------------------------------------

def test_public_notices_need_no_login_and_never_list_a_secret_contract(client, session, market):
    public = buy(client, market, 2)
    secret = buy(client, market, 3, secret=True)
    for order in (public, secret):
        to_signed(client, market, order["id"])
    assert notices.publish_due(session) == 2  # the public order's result and contract notices
    session.flush()
    anonymous = client.application.test_client()

    feed = anonymous.get(f"{API}/notices")
    assert feed.status_code == 200
    listed = {(n["kind"], n["body"]["order_number"]) for n in feed.json["items"]}
    assert listed == {("result", public["number"]), ("contract", public["number"])}  # none secret
    contracts = anonymous.get(f"{API}/notices", query_string={"kind": "contract"}).json
    assert contracts["total"] == 1
    assert contracts["items"][0]["body"]["contract_number"] == "HT" + public["number"][2:]
    withheld = session.query(Notice).filter_by(order_id=secret["id"], kind=NoticeKind.CONTRACT).one()
    assert withheld.withheld and withheld.published_at is None
    assert_problem(anonymous.get(f"{API}/notices/{withheld.id}"), 404, "not_found")
    shown = anonymous.get(f"{API}/notices/{contracts['items'][0]['id']}")
    assert shown.status_code == 200 and shown.json["amount_fen"] == 2 * 2990

    supplier_name = feed.json["items"][0]["supplier_name"]
    by_supplier = anonymous.get(f"{API}/notices", query_string={
        "supplier": supplier_name, "category": "A05", "page_size": 1}).json
    assert by_supplier["total"] == 2 and len(by_supplier["items"]) == 1
    assert anonymous.get(f"{API}/notices", query_string={"category": "B"}).json["total"] == 0
    assert_problem(anonymous.get(f"{API}/notices", query_string={"page_size": 1000}),
                   422, "validation_failed")


def test_the_openapi_document_describes_every_purchasing_path(client):
    spec = client.get(f"{API}/openapi.json").json
    paths = spec["paths"]
    expected = {
        "/cart": {"get"}, "/cart/items": {"post"}, "/cart/items/{offer_id}": {"put", "delete"},
        "/orders/checkout": {"post"}, "/orders": {"get"}, "/orders/{order_id}": {"get"},
        "/orders/{order_id}/contract": {"get"}, "/orders/{order_id}/payments": {"get"},
        "/payments/stripe-webhook": {"post"}, "/budget-lines": {"get", "post"},
        "/notices": {"get"}, "/notices/{notice_id}": {"get"},
        **{f"/orders/{{order_id}}/{name}": {"post"} for name in STEP_BODIES},
        "/orders/{order_id}/returns": {"get", "post"}, "/return-disputes": {"get"},
        **{f"/orders/{{order_id}}/returns/{{return_id}}/{name}": {"post"} for name in (
            "agree", "refuse", "dispute", "decide", "ship", "receive", "refund-card",
            "refund-treasury")},
        "/orders/{order_id}/card-verification/cancel": {"post"},
    }
    assert API + "/orders/{order_id}/return-goods" not in paths  # no one-sided return left
    for path, methods in expected.items():
        assert methods <= set(paths.get(API + path, {})), path
    checkout = paths[f"{API}/orders/checkout"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in checkout["parameters"]]
    assert {"201", "409"} <= set(checkout["responses"])
    assert checkout["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Checkout")
    schemas = spec["components"]["schemas"]
    assert "budget_line_id" in schemas["Checkout"]["required"]
    assert schemas["BuyItem"]["properties"]["quantity"]["minimum"] == 1


def test_the_delivery_term_is_chosen_at_checkout_within_180_days(client, session, market):
    assert buy(client, market, 1)["delivery_days"] == 7  # the default term
    assert buy(client, market, 1, delivery_days=30)["delivery_days"] == 30
    body = checkout_body(market, items=[{"offer_id": market.offer, "quantity": 1}],
                         delivery_days=181)
    problem = assert_problem(client.post(f"{API}/orders/checkout", json=body,
                                         headers=market.buyer.headers), 422, "validation_failed")
    assert "delivery_days" in problem["errors"]
    assert stock_of(session, market.offer) == 98
