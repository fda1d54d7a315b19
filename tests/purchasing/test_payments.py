"""Paying orders against a real localstripe: card payments confirmed by the signed webhook that
localstripe sends to the app served on a real port, replays and late events, reconciliation,
card refunds of goods sent back through an agreed return, and treasury transfers recorded by
the unit's finance user.

The end-to-end tests commit for real in a database of their own (a server thread cannot see
the rolled-back transaction of the other tests); the rest use that transaction as usual.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import func, select
from werkzeug.serving import make_server

from catalog.models import Offer
from mall.accounts.models import User
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import Actor, Role
from mall.core.clock import frozen_clock, local_today, now
from mall.core.errors import PermissionDenied
from mall.core.jobs import run_job
from mall.core.money import format_fen
from mall.purchasing.budget.models import BudgetLine, CategorySpend
from mall.purchasing.contracts import services as contracts
from mall.purchasing.orders import checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Order, OrderStatus
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.models import Payment, WebhookReceipt
from mall.purchasing.payments.stripe_gateway import (
    PaymentGatewayError,
    StripeSettings,
    WebhookEvent,
    register_localstripe_webhook,
)
from tests.conftest import csrf_from, login, own_app
from tests.factories.accounts import make_user
from tests.factories.purchasing import Unit, make_unit, supplier_with_offers, token

# The supplier recorded no account: a treasury transfer names the one it paid into.
ACCOUNT = "6230901000000001"

API = "/api/v1"
WEBHOOK_PATH = f"{API}/payments/stripe-webhook"
PROBLEM = "application/problem+json"
PRICE, QUANTITY = 2990, 10
TOTAL = PRICE * QUANTITY
WEBHOOK_WAIT = 10  # seconds; localstripe sends about a second after the payment


# -- an order ready to pay -------------------------------------------------------------------

@dataclass
class Accepted:
    unit: Unit
    supplier: Actor
    order_id: int
    offer_id: int


def accepted_order(session, *, invoiced: bool = True) -> Accepted:
    """A unit's order of 10 packs of paper at 29.90, delivered, accepted and (unless told
    otherwise) invoiced: ready to pay, as payment follows the invoice."""
    unit = make_unit(session)
    _user, supplier, (offer,) = supplier_with_offers(session, prices=(PRICE,))
    (order,) = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                                 delivery_address="长沙市岳麓区麓山路1号", contact="李四",
                                 token=token(), items=[(offer, QUANTITY)]).orders
    orders.confirm(session, supplier, order.id)
    contracts.sign(session, supplier, order.id)
    contracts.sign(session, unit.buyer, order.id)
    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, unit.buyer, order.id)
    orders.accept(session, unit.buyer, order.id, result="pass")
    if invoiced:
        orders.invoice(session, supplier, order.id, invoice_number=f"E-{order.number}")
    session.flush()
    return Accepted(unit, supplier, order.id, offer)


def fresh(session, model, ident):
    row = session.get(model, ident)
    session.refresh(row)
    return row


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header as Stripe (and localstripe) computes it."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def event_payload(event_type: str, intent_id: str, *, amount: int = TOTAL, status: str) -> bytes:
    return json.dumps({
        "id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": event_type,
        "created": int(time.time()), "api_version": "2017-08-15",
        "data": {"object": {"id": intent_id, "object": "payment_intent", "amount": amount,
                            "currency": "cny", "status": status, "metadata": {}}},
    }).encode()


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM and response.json["code"] == code
    return response.json


# -- the app served on a real port, with localstripe's webhook pointing at it ------------------

class DeliveryRecorder:
    """WSGI middleware keeping every webhook delivery (body and Stripe-Signature) once the app
    has answered it, so a test can wait for the delivery's work to be committed."""

    def __init__(self, app):
        self.app = app
        self.deliveries: list[tuple[bytes, str]] = []
        self.answered = threading.Condition()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != WEBHOOK_PATH:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        answer = self.app(environ, start_response)  # the request's transaction has ended here
        with self.answered:
            self.deliveries.append((body, environ.get("HTTP_STRIPE_SIGNATURE", "")))
            self.answered.notify_all()
        return answer

    def _delivery_for(self, intent_id: str) -> tuple[bytes, str] | None:
        for body, signature in self.deliveries:
            if json.loads(body)["data"]["object"].get("id") == intent_id:
                return body, signature
        return None

    def wait_for(self, intent_id: str, timeout: float = WEBHOOK_WAIT) -> tuple[bytes, str]:
        """The answered delivery about ``intent_id``; fails after ``timeout`` seconds."""
        with self.answered:
            if not self.answered.wait_for(lambda: self._delivery_for(intent_id), timeout):
                raise AssertionError(f"localstripe delivered no webhook for {intent_id} to the "
                                     f"app within {timeout} s")
            return self._delivery_for(intent_id)


@dataclass
class Live:
    app: object
    url: str
    settings: StripeSettings
    recorder: DeliveryRecorder
    webhook_name: str

    @contextmanager
    def listening(self) -> Iterator[None]:
        """localstripe sends payment events here only inside this block.

        Outside it the server must hear nothing: the other tests' ``session`` fixture swaps the
        global ``db.session`` for one on its own connection, which a request in the server
        thread would then use, from another thread, against the other database.
        """
        url = self.url + WEBHOOK_PATH
        register_localstripe_webhook(self.settings, name=self.webhook_name, url=url, events=[
            "payment_intent.succeeded", "payment_intent.payment_failed"])
        try:
            yield
        finally:
            # localstripe cannot forget a webhook; an empty event list silences it.
            register_localstripe_webhook(self.settings, name=self.webhook_name, url=url, events=[])

    @contextmanager
    def session(self) -> Iterator:
        """A session on the live database whose work commits at the end of the block."""
        from mall.extensions import db

        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()


@pytest.fixture(scope="module")
def live(localstripe, tmp_path_factory) -> Iterator[Live]:
    secret = f"whsec_payments_{uuid.uuid4().hex}"
    with own_app(tmp_path_factory, "payments", STRIPE_API_BASE=localstripe.base_url,
                 STRIPE_API_KEY="sk_test_localstripe", STRIPE_WEBHOOK_SECRET=secret,
                 STRIPE_MAX_NETWORK_RETRIES=0, STRIPE_TIMEOUT_SECONDS=10) as app:
        yield from _serve(app)


def _serve(app) -> Iterator[Live]:
    recorder = DeliveryRecorder(app.wsgi_app)
    app.wsgi_app = recorder
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    settings = StripeSettings.from_config(app.config)
    try:
        yield Live(app, url, settings, recorder, webhook_name=f"payments-{uuid.uuid4().hex[:8]}")
    finally:
        server.shutdown()
        thread.join(timeout=5)


@dataclass
class CardPaid:
    order_id: int
    payment_id: int
    intent_id: str
    just_after_commit: tuple  # (order status, paid_fen, payment status) before the webhook
    seconds_to_webhook: float
    body: bytes
    signature: str


@pytest.fixture(scope="module")
def card_paid(live) -> CardPaid:
    """An accepted order paid by card in the live database, and the webhook that confirmed it."""
    with live.session() as session:
        world = accepted_order(session)
    with live.listening():
        with live.session() as session:
            payment = payments.pay_by_card(session, world.unit.buyer, world.order_id, live.settings,
                                           payment_method="pm_card_visa")
            payment_id, intent_id = payment.id, payment.intent_id
        with live.session() as session:
            order = session.get(Order, world.order_id)
            before = (order.status, order.paid_fen, session.get(Payment, payment_id).status)
        started = time.monotonic()
        body, signature = live.recorder.wait_for(intent_id)
        waited = time.monotonic() - started
    return CardPaid(world.order_id, payment_id, intent_id, before, waited, body, signature)


def post_event(live: Live, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return live.app.test_client().post(WEBHOOK_PATH, data=body, headers=headers)


def snapshot(live: Live, card: CardPaid) -> tuple:
    with live.session() as session:
        order = session.get(Order, card.order_id)
        payment = session.get(Payment, card.payment_id)
        line = session.get(BudgetLine, order.budget_line_id)
        return (order.status, order.paid_fen, len(order.steps), payment.status, payment.paid_on,
                line.committed_fen, line.spent_fen)


# -- card payments and the webhook -----------------------------------------------------------

def test_a_card_payment_stays_processing_until_the_signed_webhook_marks_the_order_paid(
        live, card_paid):
    assert card_paid.just_after_commit == (OrderStatus.INVOICED, 0, "processing")
    assert card_paid.intent_id.startswith("pi_")
    assert card_paid.seconds_to_webhook < WEBHOOK_WAIT  # localstripe sends it about a second later
    event = json.loads(card_paid.body)
    assert (event["type"], event["data"]["object"]["id"]) == ("payment_intent.succeeded",
                                                               card_paid.intent_id)
    assert card_paid.signature.startswith("t=") and ",v1=" in card_paid.signature
    with live.session() as session:
        order = session.get(Order, card_paid.order_id)
        payment = session.get(Payment, card_paid.payment_id)
        line = session.get(BudgetLine, order.budget_line_id)
        assert (order.status, order.paid_fen, order.amount_due_fen) == (OrderStatus.PAID, TOTAL, 0)
        assert (payment.status, payment.amount_fen, payment.paid_on) == ("succeeded", TOTAL,
                                                                         local_today())
        assert order.steps[-1].status == "paid" and card_paid.intent_id in order.steps[-1].note
        assert (line.reserved_fen, line.committed_fen, line.spent_fen) == (0, 0, TOTAL)
        receipt = session.scalar(select(WebhookReceipt).where(WebhookReceipt.event_id == event["id"]))
        assert receipt.event_type == "payment_intent.succeeded"


def test_the_same_webhook_delivered_twice_is_acknowledged_and_changes_nothing(live, card_paid):
    before = snapshot(live, card_paid)
    response = post_event(live, card_paid.body, card_paid.signature)
    assert response.status_code == 200
    assert response.json == {"received": json.loads(card_paid.body)["id"], "outcome": "duplicate"}
    assert snapshot(live, card_paid) == before
    with live.session() as session:
        assert session.scalar(select(func.count()).select_from(WebhookReceipt).where(
            WebhookReceipt.event_id == json.loads(card_paid.body)["id"])) == 1


def test_a_failure_event_after_the_success_does_not_undo_the_payment(live, card_paid):
    before = snapshot(live, card_paid)
    failed = event_payload("payment_intent.payment_failed", card_paid.intent_id,
                           status="requires_payment_method")
    response = post_event(live, failed, sign(failed, live.settings.webhook_secret))
    assert response.status_code == 200 and response.json["outcome"] == "already final"
    other = event_payload("charge.refunded", card_paid.intent_id, status="succeeded")
    assert post_event(live, other, sign(other, live.settings.webhook_secret)).json[
        "outcome"] == "ignored"
    assert snapshot(live, card_paid) == before


def test_an_event_for_an_unknown_intent_is_acknowledged_without_effect(live):
    payload = event_payload("payment_intent.succeeded", "pi_never_created_here", status="succeeded")
    response = post_event(live, payload, sign(payload, live.settings.webhook_secret))
    assert response.status_code == 200 and response.json["outcome"] == "unknown"
    with live.session() as session:
        assert session.scalar(select(WebhookReceipt.id).where(
            WebhookReceipt.event_id == json.loads(payload)["id"])) is None


def test_a_webhook_with_a_bad_signature_is_refused(live, card_paid):
    tampered = card_paid.body.replace(f'"amount": {TOTAL}'.encode(), b'"amount": 1')
    assert tampered != card_paid.body
    assert_problem(post_event(live, tampered, card_paid.signature), 400, "webhook_signature_invalid")
    assert_problem(post_event(live, card_paid.body, None), 400, "webhook_signature_invalid")
    forged = event_payload("payment_intent.succeeded", card_paid.intent_id, status="succeeded")
    assert_problem(post_event(live, forged, sign(forged, "whsec_someone_else")),
                   400, "webhook_signature_invalid")
    stale = sign(forged, live.settings.webhook_secret, timestamp=int(time.time()) - 3600)
    assert_problem(post_event(live, forged, stale), 400, "webhook_signature_invalid")
    assert_problem(post_event(live, b"not json", sign(b"not json", live.settings.webhook_secret)),
                   400, "webhook_payload_invalid")


# -- reconciliation, refunds, attempts (in the rolled-back test transaction) ------------------

@pytest.fixture
def client(app, session):
    """A test client that keeps no request context between requests (see test_purchasing_api)."""
    return app.test_client()


def bearer(session, actor: Actor) -> dict[str, str]:
    _token, secret = issue_token(session, actor_for(session.get(User, actor.user_id)), name="ERP",
                                 scopes=["orders:read", "orders:write"])
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def browser_headers(client, session, unit: Unit, role: Role) -> dict[str, str]:
    """Log a new user of the unit in through the form; the API then wants the CSRF header."""
    user = make_user(session, unit.organisation, roles=[role])
    assert login(client, user.login).status_code == 302
    return {"X-CSRFToken": csrf_from(client.get("/").get_data(as_text=True))}


def refunded_at_gateway(settings: StripeSettings, intent_id: str) -> int:
    http_client = stripe.RequestsClient(timeout=10)
    try:
        gateway = stripe.StripeClient(settings.api_key, http_client=http_client,
                                      base_addresses={"api": settings.api_base})
        listed = gateway.v1.refunds.list(params={"payment_intent": intent_id})
        return sum(refund.amount for refund in listed.data)
    finally:
        http_client.close()


def test_the_payments_job_marks_a_card_payment_paid_when_its_webhook_never_came(
        session, card_app, stripe_settings, caplog):
    world = accepted_order(session)
    with frozen_clock(now()) as clock:
        payment = payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                                       payment_method="pm_card_visa")
        session.flush()
        assert payment.status == "processing"

        def run_the_job_once(after: timedelta) -> None:
            clock[0] += after
            caplog.clear()
            run_job(card_app, "purchasing.payments")
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
            session.expire_all()

        run_the_job_once(timedelta(seconds=10))  # too early: the webhook may still come
        assert fresh(session, Payment, payment.id).status == "processing"
        run_the_job_once(timedelta(seconds=21))
    order = fresh(session, Order, world.order_id)
    assert (order.status, order.paid_fen) == (OrderStatus.PAID, TOTAL)
    assert fresh(session, Payment, payment.id).status == "succeeded"
    assert fresh(session, BudgetLine, world.unit.line_id).spent_fen == TOTAL
    with frozen_clock(now() + timedelta(minutes=5)):
        assert payments.reconcile(session, stripe_settings) == 0  # nothing left to ask about


def test_a_payment_the_gateway_does_not_know_does_not_stop_reconciliation(session, stripe_settings):
    lost, found = accepted_order(session), accepted_order(session)
    stray = payments.pay_by_card(session, lost.unit.buyer, lost.order_id, stripe_settings,
                                 payment_method="pm_card_visa")
    stray.intent_id = "pi_unknown_to_the_gateway"
    payments.pay_by_card(session, found.unit.buyer, found.order_id, stripe_settings,
                         payment_method="pm_card_visa")
    session.flush()
    later = now() + timedelta(seconds=31)
    with frozen_clock(later):
        assert payments.reconcile(session, stripe_settings) == 2
    assert fresh(session, Order, found.order_id).status is OrderStatus.PAID
    assert (stray.status, stray.updated_at) == ("processing", later)  # asked again next run


def test_a_success_reported_after_a_failure_pays_the_order_once(session, stripe_settings):
    world = accepted_order(session)
    payment = payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                                   payment_method="pm_card_visa")

    def event(kind: str) -> WebhookEvent:
        return WebhookEvent(id=f"evt_{uuid.uuid4().hex[:24]}", type=kind, created=int(time.time()),
                            intent_id=payment.intent_id, status=None, amount_fen=TOTAL,
                            order_number=None)

    # A failed 3-D Secure attempt, then the buyer authenticates again on the same intent.
    assert payments.handle_webhook(session, event("payment_intent.payment_failed")) == "failed"
    assert fresh(session, Order, world.order_id).status is OrderStatus.INVOICED
    assert payments.handle_webhook(session, event("payment_intent.succeeded")) == "succeeded"
    # The same news by another road (a second event, the reconciliation job) changes nothing.
    assert payments.handle_webhook(session, event("payment_intent.succeeded")) == "already final"
    with frozen_clock(now() + timedelta(minutes=1)):
        assert payments.reconcile(session, stripe_settings) == 0
    order = fresh(session, Order, world.order_id)
    assert (order.status, order.paid_fen, payment.status) == (OrderStatus.PAID, TOTAL, "succeeded")
    assert [s.status for s in order.steps].count("paid") == 1


def test_a_payment_in_progress_blocks_another_payment(session, stripe_settings):
    world = accepted_order(session, invoiced=True)
    payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                         payment_method="pm_card_visa")
    refusals = [
        lambda: payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                                     payment_method="pm_card_visa"),
        lambda: payments.record_treasury_payment(session, world.unit.finance, world.order_id,
                                                 voucher_number="GK-9", paid_on=local_today(),
                                                 amount_fen=TOTAL, payee_account_number=ACCOUNT),
    ]
    for refused in refusals:
        with pytest.raises(orders.WrongState) as conflict:
            refused()
        assert conflict.value.code == "payment_in_progress"
    assert fresh(session, Order, world.order_id).status is OrderStatus.INVOICED


def test_goods_sent_back_through_an_agreed_return_are_refunded_through_localstripe(
        client, session, card_app, stripe_settings):
    world = accepted_order(session, invoiced=True)
    headers = bearer(session, world.unit.approver)
    seller = bearer(session, world.supplier)
    url = f"{API}/orders/{world.order_id}"
    paying = client.post(f"{url}/pay-card", json={"payment_method": "pm_card_visa"}, headers=headers)
    assert paying.status_code == 200, paying.get_data(as_text=True)
    assert (paying.json["status"], paying.json["paid_fen"]) == ("invoiced", 0)
    (started,) = client.get(f"{url}/payments", headers=headers).json
    assert (started["method"], started["status"], started["amount_fen"]) == ("card", "processing", TOTAL)
    with frozen_clock(now() + timedelta(seconds=31)):
        assert payments.reconcile(session, stripe_settings) == 1
    session.flush()
    assert client.get(url, headers=headers).json["status"] == "paid"

    # No one-sided return is left: the old step is gone from the API.
    assert_problem(client.post(f"{url}/return-goods", json={"reason": "质量不合格"},
                               headers=headers), 404, "not_found")
    line_id = client.get(url, headers=headers).json["lines"][0]["id"]
    asked = client.post(f"{url}/returns", json={"quantities": {str(line_id): QUANTITY},
                                                 "reason": "质量不合格"}, headers=headers)
    assert asked.status_code == 201, asked.get_data(as_text=True)
    steps = f"{url}/returns/{asked.json['id']}"
    assert_problem(client.post(f"{steps}/agree", json={}, headers=headers), 403, "role_required")
    assert client.post(f"{steps}/agree", json={}, headers=seller).json["status"] == "agreed"
    shipped = client.post(f"{steps}/ship", json={"carrier": "顺丰", "tracking_number": "SF-R"},
                          headers=headers)
    assert shipped.json["status"] == "shipped"
    assert client.get(url, headers=headers).json["refunded_fen"] == 0  # not before it is back
    received = client.post(f"{steps}/receive", json={}, headers=seller)
    assert received.status_code == 200, received.get_data(as_text=True)
    assert (received.json["status"], received.json["refund_method"], received.json["refunded_fen"]) \
        == ("completed", "card", TOTAL)

    order = client.get(url, headers=headers).json
    assert (order["status"], order["refunded_fen"], order["amount_due_fen"]) == ("returned", TOTAL, 0)
    (refunded,) = client.get(f"{url}/payments", headers=headers).json
    assert refunded["refunded_fen"] == refunded["amount_fen"] == TOTAL
    assert refunded_at_gateway(stripe_settings, started["intent_id"]) == TOTAL
    assert fresh(session, Offer, world.offer_id).stock == 100
    line = fresh(session, BudgetLine, world.unit.line_id)
    assert (line.reserved_fen, line.committed_fen, line.spent_fen) == (0, 0, 0)
    assert session.scalar(select(CategorySpend.total_fen).where(
        CategorySpend.organisation_id == world.unit.organisation.id)) == 0
    again = client.post(f"{url}/returns", json={"quantities": {str(line_id): 1}, "reason": "再退"},
                        headers=headers)
    assert_problem(again, 409, "order_state_conflict")


def test_a_declined_card_stays_on_record_and_the_next_attempt_gets_a_new_key(
        client, session, card_app, monkeypatch):
    keys = []
    real = payments.create_card_payment

    def recording(settings, **kwargs):
        keys.append(kwargs["idempotency_key"])
        return real(settings, **kwargs)

    monkeypatch.setattr(payments, "create_card_payment", recording)
    world = accepted_order(session)
    headers = bearer(session, world.unit.approver)
    url = f"{API}/orders/{world.order_id}"
    declined = client.post(f"{url}/pay-card", json={"payment_method": "pm_card_chargeCustomerFail"},
                           headers=headers)
    assert assert_problem(declined, 402, "payment_failed")["detail"]
    assert [p["status"] for p in client.get(f"{url}/payments", headers=headers).json] == ["failed"]
    paid = client.post(f"{url}/pay-card", json={"payment_method": "pm_card_chargeCustomerFail"},
                       headers=headers)
    assert_problem(paid, 402, "payment_failed")
    assert client.post(f"{url}/pay-card", json={"payment_method": "pm_card_visa"},
                       headers=headers).status_code == 200
    assert [p["status"] for p in client.get(f"{url}/payments", headers=headers).json] == [
        "failed", "failed", "processing"]
    assert len(set(keys)) == 3  # a cached decline at Stripe would otherwise answer every retry


def test_a_retry_after_the_gateway_broke_off_sends_the_same_key(session, stripe_settings, monkeypatch):
    keys = []
    real = payments.create_card_payment

    def flaky(settings, **kwargs):
        keys.append(kwargs["idempotency_key"])
        if len(keys) == 1:  # as if the connection broke after Stripe took the money
            real(settings, **kwargs)
            raise PaymentGatewayError("connection reset", code="payment_gateway_unavailable")
        return real(settings, **kwargs)

    monkeypatch.setattr(payments, "create_card_payment", flaky)
    world = accepted_order(session)
    with pytest.raises(PaymentGatewayError), session.begin_nested():  # the request rolls back
        payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                             payment_method="pm_card_visa")
    payment = payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                                   payment_method="pm_card_visa")
    assert payment.status == "processing" and keys[0] == keys[1] == payment.idempotency_key


# -- treasury transfers ------------------------------------------------------------------------

def test_the_finance_user_records_a_treasury_transfer_checked_against_the_amount_due(client, session):
    world = accepted_order(session, invoiced=True)
    url = f"{API}/orders/{world.order_id}/pay-treasury"
    body = {"voucher_number": "GK-2026-0001", "paid_on": local_today().isoformat(), "amount_fen": TOTAL,
            "payee_account_number": ACCOUNT}
    assert_problem(client.post(url, json=body, headers=bearer(session, world.unit.approver)),
                   403, "role_required")
    with pytest.raises(PermissionDenied):
        payments.record_treasury_payment(session, world.unit.buyer, world.order_id,
                                         voucher_number="GK-X", paid_on=local_today(), amount_fen=TOTAL,
                                         payee_account_number=ACCOUNT)
    finance = browser_headers(client, session, world.unit, Role.FINANCE)

    wrong = assert_problem(client.post(url, json={**body, "amount_fen": TOTAL - 1}, headers=finance),
                           422, "validation_failed")
    assert wrong["errors"] == {"amount_fen": [f"Enter the amount due: {format_fen(TOTAL)}."]}
    future = (local_today() + timedelta(days=1)).isoformat()
    assert "paid_on" in assert_problem(client.post(url, json={**body, "paid_on": future},
                                                   headers=finance), 422, "validation_failed")["errors"]
    assert "amount_fen" in assert_problem(client.post(url, json={**body, "amount_fen": "29900"},
                                                      headers=finance), 422, "validation_failed")["errors"]

    paid = client.post(url, json=body, headers=finance)
    assert paid.status_code == 200, paid.get_data(as_text=True)
    assert (paid.json["status"], paid.json["paid_fen"], paid.json["amount_due_fen"]) == ("paid", TOTAL, 0)
    (payment,) = client.get(f"{API}/orders/{world.order_id}/payments", headers=finance).json
    assert (payment["method"], payment["voucher_number"], payment["paid_on"]) == (
        "treasury", "GK-2026-0001", body["paid_on"])
    assert_problem(client.post(url, json=body, headers=finance), 409, "order_state_conflict")


def test_a_treasury_voucher_already_recorded_is_refused(client, session):
    first = accepted_order(session, invoiced=True)
    finance = browser_headers(client, session, first.unit, Role.FINANCE)
    second = _another_order(session, first)
    body = {"voucher_number": "GK-2026-0002", "paid_on": local_today().isoformat(), "amount_fen": TOTAL,
            "payee_account_number": ACCOUNT}
    assert client.post(f"{API}/orders/{first.order_id}/pay-treasury", json=body,
                       headers=finance).status_code == 200
    duplicate = client.post(f"{API}/orders/{second}/pay-treasury",
                            json={**body, "voucher_number": " GK-2026-0002 "}, headers=finance)
    problem = assert_problem(duplicate, 422, "validation_failed")
    assert problem["errors"] == {"voucher_number": ["This voucher is already recorded."]}
    assert client.get(f"{API}/orders/{second}", headers=finance).json["status"] == "invoiced"
    other = client.post(f"{API}/orders/{second}/pay-treasury",
                        json={**body, "voucher_number": "GK-2026-0003"}, headers=finance)
    assert other.json["status"] == "paid"


def _another_order(session, world: Accepted) -> int:
    """A second order of the same unit from the same supplier, accepted and invoiced."""
    (order,) = checkout.checkout(session, world.unit.buyer, budget_line_id=world.unit.line_id,
                                 delivery_address="长沙市", contact="李四", token=token(),
                                 items=[(world.offer_id, QUANTITY)]).orders
    orders.confirm(session, world.supplier, order.id)
    contracts.sign(session, world.supplier, order.id)
    contracts.sign(session, world.unit.buyer, order.id)
    orders.ship(session, world.supplier, order.id, carrier="顺丰", tracking_number="SF2")
    orders.receive(session, world.unit.buyer, order.id)
    orders.accept(session, world.unit.buyer, order.id, result="pass")
    orders.invoice(session, world.supplier, order.id, invoice_number=f"E-{order.number}")
    session.flush()
    return order.id
