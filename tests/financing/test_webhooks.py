"""Signed webhooks to the banks: events from the feed, a real receiver on 127.0.0.1, retries on
the frozen clock, consent, replay, and no lock held while a slow bank answers."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from financing import consent, webhook_endpoints, webhooks
from financing.feed import sequence_changes
from financing.models import DeliveryStatus, WebhookDelivery
from financing.webhook_jobs import deliver_due
from mall.accounts.models import Organisation
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock, local_today, now
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.models import Contract
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders import services as orders
from tests.conftest import own_app
from tests.factories.accounts import make_member
from tests.factories.purchasing import make_unit, supplier_with_offers, token

MIDDLE = lambda: 0.5  # noqa: E731 - the jitter's middle: retries exactly on schedule


# -- a bank's receiver -----------------------------------------------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers ``status``; while
    ``hold`` is set it keeps the request waiting until ``release`` is set."""

    server: ThreadingHTTPServer
    status: int = 200
    requests: list[Received] = field(default_factory=list)
    hold: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver():
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", 0))
            got = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            bank = box[0]
            bank.requests.append(got)
            bank.arrived.set()
            if bank.hold:
                bank.release.wait(10)
            self.send_response(bank.status)
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
    box[0].release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


# -- the parties -----------------------------------------------------------------------------

def _bank(session):
    return actor_for(make_member(session, OrganisationKind.FINANCE_PARTNER))


def _order(session):
    """A confirmed order (its contract ready to sign), its unit and its supplier."""
    unit = make_unit(session)
    _user, supplier, (paper,) = supplier_with_offers(session)
    cart.add_item(session, unit.buyer, offer_id=paper, quantity=2)
    (order,) = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                                 delivery_address="长沙市岳麓区麓山路1号",
                                 contact="李四 13800000000", token=token()).orders
    orders.confirm(session, supplier, order.id)
    return order, unit, supplier


def _sign(session, order, unit, supplier):
    contracts.sign(session, supplier, order.id)
    contracts.sign(session, unit.buyer, order.id)


def _consent(session, supplier, bank, **scope):
    return consent.grant(session, supplier, bank_org_id=bank.organisation_id,
                         scope=scope.get("scope", "all"), order_ids=scope.get("order_ids", ()),
                         expires_on=local_today() + timedelta(days=90))


def _endpoint(session, bank, receiver, path, events=()):
    return webhook_endpoints.add_endpoint(session, bank, receiver.url(path), events,
                                          allow_local=True)


def _deliveries(session, endpoint_id):
    session.expire_all()
    return list(session.scalars(select(WebhookDelivery)
                                .where(WebhookDelivery.endpoint_id == endpoint_id)
                                .order_by(WebhookDelivery.id)))


# -- events and signatures -------------------------------------------------------------------

def test_a_signed_contract_is_posted_signed_to_the_consenting_bank_only(session, receiver):
    order, unit, supplier = _order(session)
    bank, stranger = _bank(session), _bank(session)
    _consent(session, supplier, bank)
    mine = _endpoint(session, bank, receiver, "/bank")
    _endpoint(session, stranger, receiver, "/stranger")
    _sign(session, order, unit, supplier)
    sequence_changes(session)

    assert deliver_due(session, rand=MIDDLE) == 1
    (got,) = receiver.requests
    assert got.path == "/bank"
    assert got.headers["Content-Type"] == "application/json"
    assert webhooks.verify_signature(mine.secret, got.headers["X-Mall-Signature"], got.body,
                                     now=now())
    credit_code = session.get_one(Organisation, supplier.organisation_id).credit_code
    payload = got.payload
    assert payload["id"] == got.headers["X-Mall-Event-Id"]
    assert payload["type"] == "contract.signed"
    assert datetime.fromisoformat(payload["created"]) <= now()
    number = session.scalar(select(Contract.number).where(Contract.order_id == order.id))
    assert payload["data"] == {"contract_number": number,
                               "order_number": order.number,
                               "supplier_credit_code": credit_code,
                               "seq": payload["data"]["seq"], "step": "signed"}
    (delivery,) = _deliveries(session, mine.endpoint.id)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 1
    assert delivery.last_status_code == 200 and delivery.delivered_at is not None
    assert deliver_due(session, rand=MIDDLE) == 0  # nothing due any more


def test_a_tampered_body_an_old_or_future_timestamp_or_another_secret_is_refused():
    body = b'{"id":"e1","type":"order.paid"}'
    at = datetime(2026, 3, 1, 8, 0, tzinfo=now().tzinfo)
    header = webhooks.signature_header("whsec_a", body, at=at)
    assert webhooks.verify_signature("whsec_a", header, body, now=at + timedelta(seconds=300))
    assert webhooks.verify_signature("whsec_a", header, body.decode(), now=at.timestamp())
    assert not webhooks.verify_signature("whsec_a", header, body.replace(b"paid", b"fake"),
                                         now=at)
    assert not webhooks.verify_signature("whsec_a", header, body,
                                         now=at + timedelta(seconds=301))
    assert not webhooks.verify_signature("whsec_a", header, body,
                                         now=at - timedelta(seconds=301))
    assert not webhooks.verify_signature("whsec_b", header, body, now=at)
    replayed = header.replace(f"t={int(at.timestamp())}", f"t={int(at.timestamp()) + 600}")
    assert not webhooks.verify_signature("whsec_a", replayed, body,
                                         now=at + timedelta(seconds=600))
    assert not webhooks.verify_signature("whsec_a", "v1=abc", body, now=at)
    assert not webhooks.verify_signature("whsec_a", "", body, now=at)


def test_each_step_is_its_event_and_an_endpoint_gets_only_the_types_it_chose(session, receiver):
    order, unit, supplier = _order(session)
    bank = _bank(session)
    _consent(session, supplier, bank)
    every = _endpoint(session, bank, receiver, "/every")
    accepted_only = _endpoint(session, bank, receiver, "/accepted", ["order.accepted"])
    _sign(session, order, unit, supplier)
    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, unit.buyer, order.id)
    orders.accept(session, unit.buyer, order.id, result="pass")
    orders.invoice(session, supplier, order.id, invoice_number="E-1")
    sequence_changes(session)
    deliver_due(session, rand=MIDDLE)
    # Posted in parallel, events may arrive in any order: the feed number orders them.
    got = sorted(receiver.to("/every"), key=lambda r: r.payload["data"]["seq"])
    assert [r.payload["type"] for r in got] == [
        "contract.signed", "order.accepted", "order.invoiced"]
    assert [r.payload["type"] for r in receiver.to("/accepted")] == ["order.accepted"]
    assert len(_deliveries(session, every.endpoint.id)) == 3
    assert len(_deliveries(session, accepted_only.endpoint.id)) == 1


def test_a_chosen_consent_brings_the_events_of_its_contracts_only(session, receiver):
    first, unit, supplier = _order(session)
    second = _order_for(session, unit, supplier)
    bank = _bank(session)
    _consent(session, supplier, bank, scope="chosen", order_ids=[first.id])
    endpoint = _endpoint(session, bank, receiver, "/bank")
    _sign(session, first, unit, supplier)
    _sign(session, second, unit, supplier)
    sequence_changes(session)
    (queued,) = _deliveries(session, endpoint.endpoint.id)
    assert queued.payload["data"]["order_number"] == first.number


def test_a_revoked_consent_stops_the_events_already_queued(session, receiver):
    order, unit, supplier = _order(session)
    bank = _bank(session)
    given = _consent(session, supplier, bank)
    endpoint = _endpoint(session, bank, receiver, "/bank")
    _sign(session, order, unit, supplier)
    sequence_changes(session)
    consent.revoke(session, supplier, given.id)
    assert deliver_due(session, rand=MIDDLE) == 0
    assert receiver.requests == []
    (failed,) = _deliveries(session, endpoint.endpoint.id)
    assert failed.status is DeliveryStatus.FAILED and failed.attempts == 0
    assert failed.last_error == "The bank may no longer read this contract."


def _order_for(session, unit, supplier):
    """A second confirmed order of the same unit from the same supplier."""
    from catalog.models import Offer

    offer_id = session.scalar(select(Offer.id).where(Offer.supplier_id
                                                     == supplier.organisation_id))
    cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=1)
    (order,) = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                                 delivery_address="长沙市岳麓区麓山路1号",
                                 contact="李四 13800000000", token=token()).orders
    orders.confirm(session, supplier, order.id)
    return order


# -- retries ---------------------------------------------------------------------------------

def test_failures_are_retried_after_30_60_120_s_and_so_on_then_given_up_after_ten(
        session, receiver):
    order, unit, supplier = _order(session)
    bank = _bank(session)
    _consent(session, supplier, bank)
    endpoint = _endpoint(session, bank, receiver, "/down")
    _sign(session, order, unit, supplier)
    sequence_changes(session)
    receiver.status = 500
    start = now()
    with frozen_clock(start) as clock:
        for _ in range(12):
            deliver_due(session, rand=MIDDLE)
            (delivery,) = _deliveries(session, endpoint.endpoint.id)
            if delivery.status is DeliveryStatus.FAILED:
                break
            clock[0] = delivery.next_attempt_at - timedelta(seconds=1)
            assert deliver_due(session, rand=MIDDLE) == 0  # not due yet
            clock[0] = delivery.next_attempt_at
    sent_at = [int(r.headers["X-Mall-Signature"].split(",")[0][2:]) for r in receiver.requests]
    gaps = [b - a for a, b in zip(sent_at, sent_at[1:], strict=False)]
    assert gaps == [30 * 2 ** n for n in range(9)]  # 30 s, 60 s, 120 s … 7680 s
    assert delivery.status is DeliveryStatus.FAILED and delivery.attempts == 10
    assert delivery.last_status_code == 500
    assert len({r.headers["X-Mall-Event-Id"] for r in receiver.requests}) == 1


def test_the_delay_is_capped_at_six_hours_with_ten_percent_jitter():
    assert webhooks.retry_delay(1, MIDDLE) == timedelta(seconds=30)
    assert webhooks.retry_delay(1, lambda: 0.0) == timedelta(seconds=27)
    assert webhooks.retry_delay(1, lambda: 1.0) == timedelta(seconds=33)
    assert webhooks.retry_delay(9, MIDDLE) == timedelta(seconds=7680)
    assert webhooks.retry_delay(11, MIDDLE) == timedelta(hours=6)
    assert webhooks.retry_delay(40, lambda: 1.0) == timedelta(hours=6.6)


def test_a_bank_that_does_not_answer_in_time_is_retried_with_the_error(
        session, receiver, monkeypatch):
    order, unit, supplier = _order(session)
    bank = _bank(session)
    _consent(session, supplier, bank)
    endpoint = _endpoint(session, bank, receiver, "/slow")
    _sign(session, order, unit, supplier)
    sequence_changes(session)
    monkeypatch.setattr(webhooks, "READ_TIMEOUT", 0.2)
    receiver.hold = True
    with frozen_clock(now()) as clock:
        deliver_due(session, rand=MIDDLE)
        receiver.release.set()
        (delivery,) = _deliveries(session, endpoint.endpoint.id)
        assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
        assert delivery.last_status_code is None and "Timeout" in delivery.last_error
        assert delivery.next_attempt_at == clock[0] + timedelta(seconds=30)


def test_a_claimed_delivery_is_leased_and_sent_again_only_when_its_lease_runs_out(
        session, receiver):
    order, unit, supplier = _order(session)
    bank = _bank(session)
    _consent(session, supplier, bank)
    endpoint = _endpoint(session, bank, receiver, "/bank")
    _sign(session, order, unit, supplier)
    sequence_changes(session)
    with frozen_clock(now()) as clock:
        (claimed,) = webhooks.claim_due(session)  # a scheduler that then crashed
        assert webhooks.claim_due(session) == []  # a second one skips the lease
        clock[0] += webhooks.LEASE
        (again,) = webhooks.claim_due(session)
        assert again.attempts == 2 and again.event_id == claimed.event_id
        webhooks.record_outcomes(session, [webhooks.send(claimed)])  # the late first answer
        webhooks.record_outcomes(session, [webhooks.send(again)])
    (delivery,) = _deliveries(session, endpoint.endpoint.id)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert len(receiver.requests) == 2  # at least once: the bank deduplicates on the event id


# -- the delivery log, replay and the endpoints ----------------------------------------------

def test_replay_sends_the_same_event_again_for_its_own_bank_only(session, receiver):
    order, unit, supplier = _order(session)
    bank, stranger = _bank(session), _bank(session)
    _consent(session, supplier, bank)
    endpoint = _endpoint(session, bank, receiver, "/bank")
    _sign(session, order, unit, supplier)
    sequence_changes(session)
    deliver_due(session, rand=MIDDLE)
    (delivery,) = webhook_endpoints.deliveries(session, bank, status="delivered")
    assert webhook_endpoints.deliveries(session, bank, status="failed") == []
    assert webhook_endpoints.deliveries(session, stranger) == []
    with pytest.raises(NotFound):
        webhook_endpoints.replay(session, stranger, delivery.id)
    with pytest.raises(PermissionDenied):
        webhook_endpoints.replay(session, supplier, delivery.id)

    webhook_endpoints.replay(session, bank, delivery.id)
    with pytest.raises(Conflict):
        webhook_endpoints.replay(session, bank, delivery.id)
    deliver_due(session, rand=MIDDLE)
    first, second = receiver.requests
    assert first.headers["X-Mall-Event-Id"] == second.headers["X-Mall-Event-Id"]
    assert first.body == second.body
    assert webhooks.verify_signature(endpoint.secret, second.headers["X-Mall-Signature"],
                                     second.body, now=now())
    (delivery,) = _deliveries(session, endpoint.endpoint.id)
    assert delivery.status is DeliveryStatus.DELIVERED


def test_endpoints_take_https_or_this_machine_and_known_events_only(session):
    bank = _bank(session)
    for url in ("http://bank.example.com/hook", "ftp://bank.example.com", "bank.example.com",
                "https://user:pw@bank.example.com/", "https://bank.example.com:x/"):
        with pytest.raises(ValidationFailed) as refused:
            webhook_endpoints.add_endpoint(session, bank, url)
        assert "url" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        webhook_endpoints.add_endpoint(session, bank, "https://bank.example.com/h", ["loan.x"])
    assert "events" in refused.value.errors
    made = webhook_endpoints.add_endpoint(session, bank, "https://bank.example.com/h",
                                          ["order.paid"])
    assert made.secret.startswith("whsec_") and made.endpoint.events == ["order.paid"]
    webhook_endpoints.add_endpoint(session, bank, "http://localhost:8080/h", allow_local=True)
    for inside in ("http://localhost:5432/", "https://169.254.169.254/latest/meta-data",
                   "https://10.0.0.5/", "https://[::1]/", "https://127.1/",
                   "https://0x7f000001/", "https://2130706433/", "https://db.internal/"):
        with pytest.raises(ValidationFailed) as refused:
            webhook_endpoints.add_endpoint(session, bank, inside)
        assert "url" in refused.value.errors, inside
    assert len(webhook_endpoints.endpoints(session, bank)) == 2
    with pytest.raises(PermissionDenied):
        webhook_endpoints.add_endpoint(
            session, actor_for(make_member(session, OrganisationKind.SUPPLIER)),
            "https://bank.example.com/h")


def test_a_rotated_secret_signs_the_next_attempt_and_a_switched_off_endpoint_gets_nothing(
        session, receiver):
    order, unit, supplier = _order(session)
    bank, stranger = _bank(session), _bank(session)
    _consent(session, supplier, bank)
    endpoint = _endpoint(session, bank, receiver, "/bank")
    with pytest.raises(NotFound):
        webhook_endpoints.rotate_secret(session, stranger, endpoint.endpoint.id)
    rotated = webhook_endpoints.rotate_secret(session, bank, endpoint.endpoint.id)
    assert rotated.secret != endpoint.secret
    _sign(session, order, unit, supplier)
    sequence_changes(session)
    deliver_due(session, rand=MIDDLE)
    (got,) = receiver.requests
    assert webhooks.verify_signature(rotated.secret, got.headers["X-Mall-Signature"], got.body,
                                     now=now())
    assert not webhooks.verify_signature(endpoint.secret, got.headers["X-Mall-Signature"],
                                         got.body, now=now())

    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, unit.buyer, order.id)
    orders.accept(session, unit.buyer, order.id, result="pass")
    sequence_changes(session)  # queued, then the bank switches the endpoint off
    webhook_endpoints.deactivate(session, bank, endpoint.endpoint.id)
    with pytest.raises(Conflict):
        webhook_endpoints.deactivate(session, bank, endpoint.endpoint.id)
    assert deliver_due(session, rand=MIDDLE) == 0
    assert len(receiver.requests) == 1
    statuses = [d.status for d in _deliveries(session, endpoint.endpoint.id)]
    assert statuses == [DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]


# -- no lock held while a bank answers -------------------------------------------------------

@pytest.fixture(scope="module")
def committing_app(tmp_path_factory):
    with own_app(tmp_path_factory, "webhooks") as application:
        yield application


def test_a_slow_bank_holds_no_lock_on_the_order_or_the_feed(committing_app, receiver):
    from mall.extensions import db

    with committing_app.app_context():
        session = db.session()
        order, unit, supplier = _order(session)
        bank = _bank(session)
        _consent(session, supplier, bank)
        endpoint = _endpoint(session, bank, receiver, "/slow")
        _sign(session, order, unit, supplier)
        sequence_changes(session)
        session.commit()
        order_id, endpoint_id = order.id, endpoint.endpoint.id
        db.session.remove()
    receiver.hold = True
    sent: list[int] = []

    def scheduler() -> None:
        with committing_app.app_context():
            sent.append(deliver_due(db.session(), rand=MIDDLE))
            db.session.remove()

    thread = threading.Thread(target=scheduler)
    thread.start()
    try:
        assert receiver.arrived.wait(10)  # the bank has the event and keeps it waiting
        with committing_app.app_context():  # meanwhile the order moves on and is sequenced
            session = db.session()
            orders.ship(session, supplier, order_id, carrier="顺丰", tracking_number="SF1")
            orders.receive(session, unit.buyer, order_id)
            orders.accept(session, unit.buyer, order_id, result="pass")
            assert sequence_changes(session) >= 1
            session.commit()
            waiting = [d.status for d in _deliveries(session, endpoint_id)]
            db.session.remove()
        assert waiting == [DeliveryStatus.PENDING, DeliveryStatus.PENDING]
        assert thread.is_alive()  # the first post is still unanswered
    finally:
        receiver.release.set()
        thread.join(10)
    assert sent == [1]
    with committing_app.app_context():
        session = db.session()
        deliver_due(session, rand=MIDDLE)
        assert [d.status for d in _deliveries(session, endpoint_id)] == [
            DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]
        db.session.remove()


def test_the_job_is_registered():
    from mall.core.jobs import REGISTRY

    assert REGISTRY["financing.webhooks"].seconds == 10
