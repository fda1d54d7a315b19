"""Issue 13's acceptance, through the API only: a supplier consents; the bank pulls the feed and
sees the contract; the supplier applies, the bank approves and pays out, and the contract's
payee account locks to the bank's repayment account; the buyer's treasury payment naming the
old account is refused and naming the locked one succeeds; the bank's receiver gets correctly
signed acceptance and payment events; the supplier revokes and the bank's next pull returns
none of its contracts.

Services set up only what comes before the scenario (the parties, their tokens, the bank's
product and webhook endpoint); the scheduler's two jobs (the feed's sequencer and the webhook
delivery) are called as the scheduler would call them."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from financing import products, webhook_endpoints
from financing.feed import sequence_changes
from financing.webhook_jobs import deliver_due
from financing.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify_signature
from mall.accounts.models import Organisation, User
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import local_today, now
from mall.extensions import limiter
from mall.purchasing.payments.models import Payment
from suppliers.listings import save_offers
from suppliers.models import SupplierProfile
from tests.factories.accounts import make_member, make_user
from tests.factories.purchasing import make_unit
from tests.factories.rounds import make_bidder
from tests.factories.suppliers import PAPER, offer_input

API = "/api/v1"
PROBLEM = "application/problem+json"
REPAYMENT_ACCOUNT = "6222020200112233445"


# -- the bank's receiver ---------------------------------------------------------------------

@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers 200."""

    server: ThreadingHTTPServer
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def receiver():
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", 0))
            box[0].requests.append((dict(self.headers.items()), self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(Receiver(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def fresh_limits():
    """Token ids come back after a rolled-back test: start with no request counted."""
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def client(app, session):
    return app.test_client()


# -- the parties, set up through services ----------------------------------------------------

def bearer(session, user: User, scopes: list[str]) -> dict[str, str]:
    _token, secret = issue_token(session, actor_for(user), name="integration", scopes=scopes)
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class World:
    unit_line_id: int
    buyer: dict[str, str]  # the unit's approver: orders, receives, accepts
    treasury: dict[str, str]  # the unit's finance user: records treasury payments
    supplier: dict[str, str]  # the supplier's administrator
    supplier_actor: Actor
    bank: dict[str, str]
    bank_org_id: int
    offer_id: int
    product_id: int
    secret: str  # the bank's webhook signing secret


def make_world(session, receiver: Receiver) -> World:
    unit = make_unit(session)
    approver = session.get_one(User, unit.approver.user_id)
    # Only token administrators issue tokens; the unit's treasury clerk here also approves,
    # so the treasury system gets a token of a user holding the finance role.
    treasurer = make_user(session, unit.organisation, roles=[Role.FINANCE, Role.APPROVER])
    bidder = make_bidder(session)  # declared profile, with its own bank account
    report = save_offers(session, bidder.actor, supplier_id=bidder.actor.organisation_id,
                         items=[offer_input(code=PAPER, price_fen=2990, stock=100)])
    (offer_id,) = [r.offer_id for r in report.results]
    bank_user = make_member(session, OrganisationKind.FINANCE_PARTNER)
    bank = actor_for(bank_user)
    product = products.create_product(session, bank, products.ProductData(
        name="政采贷·快贷", max_share_pct=80, rate_min_bp=350, rate_max_bp=600, term_days=180,
        regions=["000000"]))
    endpoint = webhook_endpoints.add_endpoint(session, bank, receiver.url("/mall-events"),
                                              allow_local=True)
    orders_scopes = ["orders:read", "orders:write"]
    finance_scopes = ["financing:read", "financing:write"]
    return World(
        unit_line_id=unit.line_id, buyer=bearer(session, approver, orders_scopes),
        treasury=bearer(session, treasurer, orders_scopes),
        supplier=bearer(session, bidder.user, orders_scopes + finance_scopes),
        supplier_actor=bidder.actor, bank=bearer(session, bank_user, finance_scopes),
        bank_org_id=bank.organisation_id, offer_id=offer_id, product_id=product.id,
        secret=endpoint.secret)


# -- API helpers -----------------------------------------------------------------------------

def ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["code"] == code and response.json["status"] == status
    return response.json


def step(client, headers, order_id: int, name: str, body: dict | None = None) -> dict:
    return ok(client.post(f"{API}/orders/{order_id}/{name}", json=body or {}, headers=headers))


def signed_contract(client, world: World) -> dict:
    """Checkout, confirmation and both signatures, through the orders and contracts API."""
    bought = ok(client.post(f"{API}/orders/checkout", headers=world.buyer, json={
        "budget_line_id": world.unit_line_id, "delivery_address": "长沙市岳麓区麓山路1号",
        "contact": "李四 13800000000", "items": [{"offer_id": world.offer_id, "quantity": 10}]}),
        201)
    (order,) = bought["orders"]
    step(client, world.supplier, order["id"], "confirm")
    sha = client.get(f"{API}/orders/{order['id']}/contract",
                     headers=world.supplier).headers["X-Contract-SHA256"]
    step(client, world.supplier, order["id"], "sign", {"sha256": sha})
    signed = step(client, world.buyer, order["id"], "sign", {"sha256": sha})
    assert signed["status"] == "signed"
    return signed


def pull_all(client, headers, after: int = 0) -> tuple[list[dict], int]:
    items: list[dict] = []
    while True:
        page = ok(client.get(f"{API}/finance/contracts", query_string={"after": after},
                             headers=headers))
        items += page["items"]
        after = page["next_after"]
        if not page["has_more"]:
            return items, after


def run_scheduler(session) -> None:
    """The sequencer, then the webhook delivery, as the scheduler runs them."""
    session.expire_all()  # the requests committed through their own sessions
    sequence_changes(session)
    deliver_due(session)


# -- the scenario ----------------------------------------------------------------------------

def test_a_loan_against_a_contract_from_consent_to_revocation_through_the_api(
        client, session, receiver):
    world = make_world(session, receiver)
    order = signed_contract(client, world)
    order_id, total = order["id"], order["total_fen"]
    own_account = session.scalar(select(SupplierProfile.bank_account).where(
        SupplierProfile.organisation_id == world.supplier_actor.organisation_id))
    assert own_account and total == 29_900

    # The supplier finds the bank and its product, and lets it read all its contracts.
    banks = ok(client.get(f"{API}/supplier/finance/banks", headers=world.supplier))
    (bank,) = [b for b in banks if b["id"] == world.bank_org_id]
    assert [(p["id"], p["max_share_pct"]) for p in bank["products"]] == [(world.product_id, 80)]
    granted = ok(client.post(f"{API}/supplier/finance/consents", headers=world.supplier, json={
        "bank_org_id": world.bank_org_id, "scope": "all",
        "expires_on": (local_today() + timedelta(days=90)).isoformat()}), 201)
    assert granted["live"] is True and granted["bank"]["name"] == bank["name"]

    # The bank pulls the feed (numbered by the sequencer) and sees the signed contract.
    run_scheduler(session)
    items, cursor = pull_all(client, world.bank)
    contracts = {i["contract"]["order_id"]: i["contract"] for i in items}
    assert list(contracts) == [order_id]
    contract = contracts[order_id]
    number = contract["contract_number"]
    assert contract["status"] == "signed" and contract["total_fen"] == total
    assert contract["payee_account"]["account_number"] == own_account
    assert contract["payee_account"]["locked"] is False
    log = ok(client.get(f"{API}/supplier/finance/access-log", headers=world.supplier))
    assert {(r["bank"]["id"], r["contract_number"], r["via"]) for r in log} == {
        (world.bank_org_id, number, "feed")}

    # The supplier applies; the bank approves and pays out into its repayment account.
    applied = ok(client.post(f"{API}/supplier/finance/loans", headers=world.supplier, json={
        "order_id": order_id, "product_id": world.product_id, "amount_fen": 20_000}), 201)
    assert applied["status"] == "applied" and applied["contract_number"] == number
    (seen,) = ok(client.get(f"{API}/finance/loans", headers=world.bank))
    assert seen["id"] == applied["id"] and seen["requested_fen"] == 20_000
    ok(client.post(f"{API}/finance/loans/{applied['id']}/approve", headers=world.bank,
                   json={"amount_fen": 20_000, "rate_bp": 420, "term_days": 90}))
    paid_out = ok(client.post(f"{API}/finance/loans/{applied['id']}/disburse", headers={
        **world.bank, "Idempotency-Key": "disburse-1"}, json={
        "amount_fen": 20_000, "value_date": local_today().isoformat(),
        "bank_name": "合作银行长沙分行", "account_name": "合作银行政采贷回款专户",
        "account_number": REPAYMENT_ACCOUNT, "bank_reference": "CL-2026-001"}))
    assert paid_out["status"] == "disbursed" and paid_out["disbursed_fen"] == 20_000
    (mine,) = ok(client.get(f"{API}/supplier/finance/loans", headers=world.supplier))
    assert mine["status"] == "disbursed" and mine["repayment_account_number"] == REPAYMENT_ACCOUNT
    assert [e["kind"] for e in mine["events"]] == ["applied", "approved", "disbursed"]

    # The contract's payee account is locked to the bank's repayment account.
    payee = ok(client.get(f"{API}/orders/{order_id}/payee-account", headers=world.buyer))
    assert payee["current"]["account_number"] == REPAYMENT_ACCOUNT
    assert payee["current"]["locked"] is True
    assert payee["current"]["lender_org_id"] == world.bank_org_id
    assert [h["account_number"] for h in payee["history"]] == [own_account, REPAYMENT_ACCOUNT]

    # Delivery, acceptance and the invoice, through the orders API.
    step(client, world.supplier, order_id, "ship", {"carrier": "顺丰", "tracking_number": "SF1"})
    step(client, world.buyer, order_id, "receive")
    assert step(client, world.buyer, order_id, "accept", {"result": "pass"})["status"] \
        == "accepted"
    invoiced = step(client, world.supplier, order_id, "invoice", {"invoice_number": "E-2026-1"})
    assert invoiced["status"] == "invoiced"

    # A treasury payment into the supplier's old account is refused and records nothing.
    payment = {"voucher_number": "GK-2026-0001", "paid_on": local_today().isoformat(),
               "amount_fen": total}
    refused = client.post(f"{API}/orders/{order_id}/pay-treasury", headers=world.treasury,
                          json={**payment, "payee_account_number": own_account})
    problem = assert_problem(refused, 422, "wrong_payee_account")
    assert "payee_account_number" in problem["errors"]
    session.expire_all()
    assert session.scalars(select(Payment).where(Payment.order_id == order_id)).all() == []
    assert ok(client.get(f"{API}/orders/{order_id}/payments", headers=world.buyer)) == []
    assert ok(client.get(f"{API}/orders/{order_id}", headers=world.buyer))["status"] \
        == "invoiced"
    # ... and into the locked account it goes through.
    paid = step(client, world.treasury, order_id, "pay-treasury",
                {**payment, "payee_account_number": REPAYMENT_ACCOUNT})
    assert paid["status"] == "paid" and paid["amount_due_fen"] == 0
    (recorded,) = ok(client.get(f"{API}/orders/{order_id}/payments", headers=world.buyer))
    assert (recorded["method"], recorded["amount_fen"]) == ("treasury", total)

    # The bank's receiver gets the acceptance and the payment, correctly signed.
    run_scheduler(session)
    events = {}
    for headers, body in receiver.requests:
        assert verify_signature(world.secret, headers[SIGNATURE_HEADER], body, now=now())
        assert not verify_signature("whsec_another", headers[SIGNATURE_HEADER], body, now=now())
        event = json.loads(body)
        assert headers[EVENT_ID_HEADER] == event["id"]
        assert event["data"]["contract_number"] == number
        events[event["type"]] = event
    assert {"order.accepted", "order.paid"} <= set(events)
    assert {"contract.signed", "contract.account_changed"} <= set(events)
    supplier_code = session.get_one(Organisation,
                                    world.supplier_actor.organisation_id).credit_code
    assert events["order.paid"]["data"]["supplier_credit_code"] == supplier_code
    # The feed carries the payment too, into the locked account.
    later, cursor = pull_all(client, world.bank, after=cursor)
    assert later[-1]["contract"]["payments"][0]["payee_account_number"] == REPAYMENT_ACCOUNT

    # The supplier revokes: the bank's next pull returns none of its contracts.
    revoked = ok(client.post(f"{API}/supplier/finance/consents/{granted['id']}/revoke",
                             headers=world.supplier))
    assert revoked["live"] is False and revoked["revoked_at"]
    assert pull_all(client, world.bank)[0] == []  # not even from the start
    assert_problem(client.get(f"{API}/finance/contracts/{number}", headers=world.bank),
                   404, "not_found")
    (listed,) = ok(client.get(f"{API}/supplier/finance/consents", headers=world.supplier))
    assert listed["id"] == granted["id"] and listed["live"] is False
