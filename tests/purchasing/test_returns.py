"""Returns of accepted goods are two-sided: the unit asks, the supplier agrees or refuses (the
operator decides a dispute), the goods go back, and only when the money is back (a card
refund through localstripe, or the supplier's treasury refund recorded by the unit's finance
user) do the budget line and the unit's running totals move, by the refunded amount."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from catalog.models import Offer
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import frozen_clock, local_today, now
from mall.core.errors import NotFound, PermissionDenied, ValidationFailed
from mall.core.money import format_fen
from mall.purchasing.budget.models import BudgetLine, CategorySpend
from mall.purchasing.orders import return_refunds, returns
from mall.purchasing.orders.models import Notification, Order, OrderReturn, OrderStatus, ReturnStatus
from mall.purchasing.orders.steps import WrongState
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.models import Payment
from mall.purchasing.payments.stripe_gateway import CardRefund
from tests.factories.accounts import make_member
from tests.factories.purchasing import make_unit, supplier_with_offers
from tests.factories.suppliers import operator_actor
from tests.purchasing.test_payments import (
    PRICE,
    QUANTITY,
    TOTAL,
    Accepted,
    accepted_order,
    browser_headers,
    fresh,
    refunded_at_gateway,
)

# The supplier recorded no account: a treasury transfer names the one it paid into.
ACCOUNT = "6230901000000001"


def line_of(session, world: Accepted) -> BudgetLine:
    return fresh(session, BudgetLine, world.unit.line_id)


def running_total(session, world: Accepted) -> int:
    return session.scalar(select(CategorySpend.total_fen).where(
        CategorySpend.organisation_id == world.unit.organisation.id))


def stock(session, world: Accepted) -> int:
    return fresh(session, Offer, world.offer_id).stock


def order_of(session, world: Accepted) -> Order:
    return fresh(session, Order, world.order_id)


def ask(session, world: Accepted, quantity: int = 4, reason: str = "4 包受潮") -> OrderReturn:
    order = order_of(session, world)
    return returns.request_return(session, world.unit.buyer, world.order_id,
                                  quantities={order.lines[0].id: quantity}, reason=reason)


def sent_back(session, world: Accepted, quantity: int = 4) -> OrderReturn:
    """A return the supplier agreed to and the unit sent back."""
    ret = ask(session, world, quantity)
    returns.agree_return(session, world.supplier, world.order_id, ret.id)
    returns.ship_return(session, world.unit.buyer, world.order_id, ret.id, carrier="顺丰",
                        tracking_number="SF-R1")
    return ret


def paid_by_treasury(session) -> Accepted:
    world = accepted_order(session, invoiced=True)
    payments.record_treasury_payment(session, world.unit.finance, world.order_id,
                                     voucher_number=f"GK-{world.order_id}", paid_on=local_today(),
                                     amount_fen=TOTAL, payee_account_number=ACCOUNT)
    assert order_of(session, world).status is OrderStatus.PAID
    return world


def paid_by_card(session, settings) -> Accepted:
    world = accepted_order(session, invoiced=True)
    payments.pay_by_card(session, world.unit.buyer, world.order_id, settings,
                         payment_method="pm_card_visa")
    with frozen_clock(now() + timedelta(seconds=31)):
        assert payments.reconcile(session, settings) == 1
    assert order_of(session, world).status is OrderStatus.PAID
    return world


def notified(session, world: Accepted, kind: str) -> set[int]:
    return set(session.scalars(select(Notification.organisation_id).where(
        Notification.order_id == world.order_id, Notification.kind == kind)))


# -- the treasury case from the issue: nothing shows as refunded until the money is back ----

def test_after_a_treasury_payment_nothing_is_refunded_until_finance_records_the_suppliers_refund(
        session):
    world = paid_by_treasury(session)
    assert (line_of(session, world).spent_fen, running_total(session, world)) == (TOTAL, TOTAL)

    ret = sent_back(session, world, QUANTITY)
    return_refunds.receive_return(session, world.supplier, world.order_id, ret.id, settings=None)

    # The goods are back with the supplier, the money is not: nothing moved but the stock.
    order = order_of(session, world)
    assert (ret.status, ret.refund_method, ret.refund_due_fen) == (ReturnStatus.RECEIVED,
                                                                  "treasury", TOTAL)
    assert (order.status, order.refunded_fen, order.paid_fen) == (OrderStatus.PAID, 0, TOTAL)
    (payment,) = session.scalars(select(Payment).where(Payment.order_id == world.order_id))
    assert payment.refunded_fen == 0
    line = line_of(session, world)
    assert (line.spent_fen, line.committed_fen, running_total(session, world)) == (TOTAL, 0, TOTAL)
    assert stock(session, world) == 100
    assert notified(session, world, "return_refund_due") == {world.unit.organisation.id}
    assert notified(session, world, "return_refund_owed") == {world.supplier.organisation_id}

    for someone in (world.unit.buyer, world.unit.approver):
        with pytest.raises(PermissionDenied):
            return_refunds.record_treasury_refund(session, someone, world.order_id, ret.id,
                                           voucher_number="TK-1", refunded_on=local_today(),
                                           amount_fen=TOTAL)
    with pytest.raises(PermissionDenied):
        return_refunds.record_treasury_refund(session, world.supplier, world.order_id, ret.id,
                                       voucher_number="TK-1", refunded_on=local_today(),
                                       amount_fen=TOTAL)
    with pytest.raises(ValidationFailed) as wrong:
        return_refunds.record_treasury_refund(session, world.unit.finance, world.order_id, ret.id,
                                       voucher_number=" ", refunded_on=local_today() + timedelta(days=1),
                                       amount_fen=TOTAL - 1)
    assert set(wrong.value.errors) == {"voucher_number", "refunded_on", "amount_fen"}
    assert ret.status is ReturnStatus.RECEIVED

    return_refunds.record_treasury_refund(session, world.unit.finance, world.order_id, ret.id,
                                   voucher_number="TK-2026-1", refunded_on=local_today(),
                                   amount_fen=TOTAL)
    order = order_of(session, world)
    assert (ret.status, ret.refunded_fen, ret.refund_reference) == (ReturnStatus.COMPLETED, TOTAL,
                                                                   "TK-2026-1")
    assert (order.status, order.refunded_fen, order.amount_due_fen) == (OrderStatus.RETURNED,
                                                                        TOTAL, 0)
    assert fresh(session, Payment, payment.id).refunded_fen == TOTAL
    line = line_of(session, world)
    assert (line.reserved_fen, line.committed_fen, line.spent_fen) == (0, 0, 0)
    assert running_total(session, world) == 0
    assert [s.status for s in order.steps][-6:] == [
        "return_requested", "return_agreed", "return_shipped", "return_received",
        "return_refunded", "returned"]


def test_a_partial_return_after_a_card_payment_is_refunded_through_localstripe(session,
                                                                               stripe_settings):
    world = paid_by_card(session, stripe_settings)
    (payment,) = session.scalars(select(Payment).where(Payment.order_id == world.order_id))
    ret = sent_back(session, world, 4)
    assert (line_of(session, world).spent_fen, payment.refunded_fen) == (TOTAL, 0)

    return_refunds.receive_return(session, world.supplier, world.order_id, ret.id,
                           settings=stripe_settings)

    returned = 4 * PRICE
    assert (ret.status, ret.refund_method, ret.refunded_fen) == (ReturnStatus.COMPLETED, "card",
                                                                 returned)
    assert refunded_at_gateway(stripe_settings, payment.intent_id) == returned
    assert ret.refund_reference.startswith("re_")
    order = order_of(session, world)
    assert (order.status, order.refunded_fen, order.accepted_fen, order.amount_due_fen) == (
        OrderStatus.PAID, returned, TOTAL - returned, 0)
    assert fresh(session, Payment, payment.id).refunded_fen == returned
    line = line_of(session, world)
    assert (line.committed_fen, line.spent_fen) == (0, TOTAL - returned)
    assert running_total(session, world) == TOTAL - returned
    assert stock(session, world) == 100 - QUANTITY + 4
    assert notified(session, world, "return_refunded") == {world.unit.organisation.id,
                                                           world.supplier.organisation_id}

    # The rest may still go back, but no more than was accepted.
    with pytest.raises(ValidationFailed) as too_many:
        ask(session, world, QUANTITY - 4 + 1)
    assert list(too_many.value.errors) == [f"quantities.{order.lines[0].id}"]
    second = sent_back(session, world, QUANTITY - 4)
    return_refunds.receive_return(session, world.supplier, world.order_id, second.id,
                           settings=stripe_settings)
    assert refunded_at_gateway(stripe_settings, payment.intent_id) == TOTAL
    order = order_of(session, world)
    assert (order.status, order.refunded_fen) == (OrderStatus.RETURNED, TOTAL)
    assert (line_of(session, world).spent_fen, running_total(session, world)) == (0, 0)


def test_a_card_refund_the_network_still_processes_moves_nothing_until_it_succeeds(
        session, stripe_settings, monkeypatch):
    world = paid_by_card(session, stripe_settings)
    ret = sent_back(session, world, 2)
    answers = {}

    def pending(settings, *, intent_id, amount_fen, idempotency_key):
        answers["re_pending_1"] = CardRefund("re_pending_1", "pending", amount_fen)
        return answers["re_pending_1"]

    monkeypatch.setattr(return_refunds, "create_refund", pending)
    monkeypatch.setattr(return_refunds, "retrieve_refund", lambda settings, rid: answers[rid])
    return_refunds.receive_return(session, world.supplier, world.order_id, ret.id,
                           settings=stripe_settings)
    order = order_of(session, world)
    assert (ret.status, ret.refunded_fen, order.refunded_fen) == (ReturnStatus.REFUND_PENDING, 0, 0)
    assert line_of(session, world).spent_fen == TOTAL

    assert return_refunds.check_pending_refunds(session, stripe_settings) == 1
    assert ret.status is ReturnStatus.REFUND_PENDING  # still pending: nothing moved

    answers["re_pending_1"] = CardRefund("re_pending_1", "succeeded", 2 * PRICE)
    assert return_refunds.check_pending_refunds(session, stripe_settings) == 1
    assert (ret.status, ret.refunded_fen) == (ReturnStatus.COMPLETED, 2 * PRICE)
    assert order_of(session, world).refunded_fen == 2 * PRICE
    assert line_of(session, world).spent_fen == TOTAL - 2 * PRICE


def test_a_failed_card_refund_goes_back_to_the_supplier_to_try_again(session, stripe_settings,
                                                                    monkeypatch):
    world = paid_by_card(session, stripe_settings)
    ret = sent_back(session, world, 2)
    monkeypatch.setattr(return_refunds, "create_refund", lambda settings, **kw: CardRefund(
        "re_will_fail", "pending", kw["amount_fen"]))
    monkeypatch.setattr(return_refunds, "retrieve_refund", lambda settings, rid: CardRefund(
        rid, "failed", 2 * PRICE))
    return_refunds.receive_return(session, world.supplier, world.order_id, ret.id, settings=stripe_settings)
    return_refunds.check_pending_refunds(session, stripe_settings)
    assert (ret.status, ret.refunded_fen) == (ReturnStatus.RECEIVED, 0)
    assert notified(session, world, "return_refund_failed") == {world.supplier.organisation_id}
    assert line_of(session, world).spent_fen == TOTAL

    monkeypatch.undo()
    return_refunds.retry_card_refund(session, world.supplier, world.order_id, ret.id,
                              settings=stripe_settings)
    assert (ret.status, ret.refunded_fen) == (ReturnStatus.COMPLETED, 2 * PRICE)


def test_a_refund_the_gateway_refuses_at_once_leaves_the_goods_received_and_the_money_unmoved(
        session, stripe_settings, monkeypatch):
    world = paid_by_card(session, stripe_settings)
    ret = sent_back(session, world, 2)
    keys = []

    def refused(settings, *, intent_id, amount_fen, idempotency_key):
        keys.append(idempotency_key)
        return CardRefund("re_refused", "failed", amount_fen)

    monkeypatch.setattr(return_refunds, "create_refund", refused)
    return_refunds.receive_return(session, world.supplier, world.order_id, ret.id, settings=stripe_settings)
    assert (ret.status, ret.refunded_fen, order_of(session, world).refunded_fen) == (
        ReturnStatus.RECEIVED, 0, 0)
    assert line_of(session, world).spent_fen == TOTAL
    assert order_of(session, world).steps[-1].status == "return_refund_failed"
    monkeypatch.undo()
    return_refunds.retry_card_refund(session, world.supplier, world.order_id, ret.id,
                              settings=stripe_settings)
    assert (ret.status, ret.refunded_fen) == (ReturnStatus.COMPLETED, 2 * PRICE)
    assert keys[0].endswith("-1")  # the retry went with a key of its own


def test_goods_returned_before_payment_lower_what_is_due_and_the_commitment(session):
    world = accepted_order(session, invoiced=True)
    ret = sent_back(session, world, 3)
    return_refunds.receive_return(session, world.supplier, world.order_id, ret.id, settings=None)
    order = order_of(session, world)
    assert (ret.status, ret.refund_due_fen, ret.refunded_fen) == (ReturnStatus.COMPLETED, 0, 0)
    assert (order.status, order.refunded_fen, order.amount_due_fen) == (
        OrderStatus.INVOICED, 0, TOTAL - 3 * PRICE)
    line = line_of(session, world)
    assert (line.committed_fen, line.spent_fen) == (TOTAL - 3 * PRICE, 0)
    assert running_total(session, world) == TOTAL - 3 * PRICE
    assert notified(session, world, "return_completed") == {world.unit.organisation.id}

    payments.record_treasury_payment(session, world.unit.finance, world.order_id,
                                     voucher_number="GK-R", paid_on=local_today(),
                                     amount_fen=TOTAL - 3 * PRICE, payee_account_number=ACCOUNT)
    line = line_of(session, world)
    assert order_of(session, world).status is OrderStatus.PAID
    assert (line.committed_fen, line.spent_fen) == (0, TOTAL - 3 * PRICE)


# -- refusals and disputes --------------------------------------------------------------------

def test_a_refused_return_may_be_disputed_and_the_operator_decides(session):
    world = paid_by_treasury(session)
    operator = operator_actor(session)
    ret = ask(session, world)
    with pytest.raises(ValidationFailed):
        returns.refuse_return(session, world.supplier, world.order_id, ret.id, reason=" ")
    returns.refuse_return(session, world.supplier, world.order_id, ret.id, reason="包装已拆")
    assert (ret.status, ret.supplier_note) == (ReturnStatus.REFUSED, "包装已拆")
    assert notified(session, world, "return_refused") == {world.unit.organisation.id}
    with pytest.raises(WrongState):  # nothing to ship: refused
        returns.ship_return(session, world.unit.buyer, world.order_id, ret.id, carrier="x",
                            tracking_number="y")

    with pytest.raises(PermissionDenied):  # only the unit disputes
        returns.dispute_return(session, world.supplier, world.order_id, ret.id, reason="x")
    returns.dispute_return(session, world.unit.buyer, world.order_id, ret.id, reason="受潮属实")
    assert ret.status is ReturnStatus.DISPUTED
    assert operator.organisation_id in notified(session, world, "return_disputed")
    assert [r.id for r, _o in returns.list_disputes(session, operator, waiting_only=True)] == [ret.id]

    supervisor = actor_for(make_member(session, OrganisationKind.SUPERVISOR))
    for someone in (world.unit.buyer, world.supplier, supervisor):
        with pytest.raises(PermissionDenied):
            returns.decide_dispute(session, someone, world.order_id, ret.id, agree=True, note="可以")
    stranger = make_unit(session)
    with pytest.raises(NotFound):
        returns.decide_dispute(session, stranger.buyer, world.order_id, ret.id, agree=True,
                               note="可以")
    with pytest.raises(ValidationFailed):
        returns.decide_dispute(session, operator, world.order_id, ret.id, agree=True, note="")

    returns.decide_dispute(session, operator, world.order_id, ret.id, agree=True,
                           note="照片显示受潮，同意退货")
    assert (ret.status, ret.operator_note) == (ReturnStatus.AGREED, "照片显示受潮，同意退货")
    assert notified(session, world, "return_dispute_agreed") == {
        world.unit.organisation.id, world.supplier.organisation_id}
    assert returns.list_disputes(session, operator, waiting_only=True) == []
    returns.ship_return(session, world.unit.buyer, world.order_id, ret.id, carrier="顺丰",
                        tracking_number="SF-D")
    assert ret.status is ReturnStatus.SHIPPED


def test_the_operator_may_refuse_a_disputed_return(session):
    world = paid_by_treasury(session)
    ret = ask(session, world)
    returns.refuse_return(session, world.supplier, world.order_id, ret.id, reason="人为损坏")
    returns.dispute_return(session, world.unit.buyer, world.order_id, ret.id, reason="运输损坏")
    returns.decide_dispute(session, operator_actor(session), world.order_id, ret.id, agree=False,
                           note="签收时未提出异议")
    assert ret.status is ReturnStatus.REJECTED
    assert order_of(session, world).refunded_fen == 0
    assert line_of(session, world).spent_fen == TOTAL
    # The items of a rejected return may be asked for again (within the window).
    assert ask(session, world, QUANTITY).status is ReturnStatus.REQUESTED


# -- who may act, and when ------------------------------------------------------------------

def test_each_return_step_belongs_to_one_party(session):
    world = paid_by_treasury(session)
    line_id = order_of(session, world).lines[0].id
    with pytest.raises(PermissionDenied) as supplier_asks:
        returns.request_return(session, world.supplier, world.order_id,
                               quantities={line_id: 1}, reason="x")
    assert supplier_asks.value.code == "buyer_required"
    with pytest.raises(PermissionDenied):  # the finance user pays; buyers ask for returns
        returns.request_return(session, world.unit.finance, world.order_id,
                               quantities={line_id: 1}, reason="x")
    stranger = make_unit(session)
    with pytest.raises(NotFound):
        returns.request_return(session, stranger.buyer, world.order_id,
                               quantities={line_id: 1}, reason="x")
    ret = ask(session, world)
    assert notified(session, world, "return_requested") == {world.supplier.organisation_id}
    with pytest.raises(PermissionDenied) as buyer_agrees:
        returns.agree_return(session, world.unit.buyer, world.order_id, ret.id)
    assert buyer_agrees.value.code == "supplier_required"
    with pytest.raises(WrongState) as second:
        ask(session, world, 1)
    assert second.value.code == "return_already_open"
    returns.agree_return(session, world.supplier, world.order_id, ret.id)
    with pytest.raises(PermissionDenied):
        returns.ship_return(session, world.supplier, world.order_id, ret.id, carrier="x",
                            tracking_number="y")
    with pytest.raises(WrongState) as early:
        return_refunds.receive_return(session, world.supplier, world.order_id, ret.id, settings=None)
    assert early.value.code == "return_state_conflict"
    other = accepted_order(session)
    with pytest.raises(NotFound):  # a return id of another order
        returns.agree_return(session, other.supplier, other.order_id, ret.id)


def test_a_return_is_asked_for_within_the_window_after_acceptance(session):
    world = paid_by_treasury(session)
    line_id = order_of(session, world).lines[0].id
    with pytest.raises(ValidationFailed) as empty:
        returns.request_return(session, world.unit.buyer, world.order_id, quantities={},
                               reason=" ")
    assert set(empty.value.errors) == {"reason", "quantities"}
    with frozen_clock(now() + timedelta(days=8)):
        with pytest.raises(WrongState) as late:
            ask(session, world)
        assert late.value.code == "return_window_closed"
        ret = returns.request_return(session, world.unit.buyer, world.order_id,
                                     quantities={line_id: 1}, reason="x", window_days=10)
    assert ret.status is ReturnStatus.REQUESTED


def test_goods_not_yet_accepted_cannot_be_returned_this_way(session):
    from mall.purchasing.orders import checkout
    from tests.factories.purchasing import token

    unit = make_unit(session)
    _u, _supplier, (offer,) = supplier_with_offers(session)
    (order,) = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                                 delivery_address="长沙", contact="李四", token=token(),
                                 items=[(offer, 1)]).orders
    with pytest.raises(WrongState):
        returns.request_return(session, unit.buyer, order.id,
                               quantities={order.lines[0].id: 1}, reason="x")


def test_no_receipt_while_a_card_payment_is_processing(session, stripe_settings):
    world = accepted_order(session, invoiced=True)
    ret = sent_back(session, world, 2)
    payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                         payment_method="pm_card_visa")
    with pytest.raises(WrongState) as busy:
        return_refunds.receive_return(session, world.supplier, world.order_id, ret.id,
                               settings=stripe_settings)
    assert busy.value.code == "payment_in_progress"
    assert ret.status is ReturnStatus.SHIPPED


# -- the same steps through the API and the pages --------------------------------------------

@pytest.fixture
def client(app, session):
    return app.test_client()


def test_the_api_walks_a_return_through_a_dispute_with_each_party_in_its_place(client, session):
    world = paid_by_treasury(session)
    buyer, seller = bearer(session, world.unit.approver), bearer(session, world.supplier)
    operator = operator_actor(session)
    deciding = bearer(session, operator)
    stranger = bearer(session, make_unit(session).approver)
    url = f"/api/v1/orders/{world.order_id}/returns"
    line_id = order_of(session, world).lines[0].id

    body = {"quantities": {str(line_id): 2}, "reason": "两包受潮"}
    assert client.post(url, json=body, headers=seller).status_code == 403
    assert client.post(url, json=body, headers=stranger).status_code == 404
    bad = client.post(url, json={"quantities": {str(line_id): QUANTITY + 1}, "reason": "x"},
                      headers=buyer)
    assert bad.status_code == 422 and f"quantities.{line_id}" in bad.json["errors"]
    asked = client.post(url, json=body, headers=buyer)
    assert asked.status_code == 201, asked.get_data(as_text=True)
    assert (asked.json["status"], asked.json["amount_fen"]) == ("requested", 2 * PRICE)
    steps = f"{url}/{asked.json['id']}"

    assert client.post(f"{steps}/refuse", json={"reason": "已拆封"}, headers=stranger).status_code \
        == 403  # a unit's token has no supplier role
    _user, other_supplier, _offers = supplier_with_offers(session)
    assert client.post(f"{steps}/refuse", json={"reason": "已拆封"},
                       headers=bearer(session, other_supplier)).status_code == 404
    refused = client.post(f"{steps}/refuse", json={"reason": "已拆封"}, headers=seller)
    assert (refused.json["status"], refused.json["supplier_note"]) == ("refused", "已拆封")
    disputed = client.post(f"{steps}/dispute", json={"reason": "到货即受潮"}, headers=buyer)
    assert disputed.json["status"] == "disputed"

    listed = client.get("/api/v1/return-disputes?waiting=true", headers=deciding)
    assert [(d["id"], d["order_number"]) for d in listed.json] == [
        (asked.json["id"], order_of(session, world).number)]
    assert client.get("/api/v1/return-disputes", headers=buyer).status_code == 403
    for someone in (buyer, seller):
        assert client.post(f"{steps}/decide", json={"decision": "agree", "note": "x"},
                           headers=someone).status_code == 403
    decided = client.post(f"{steps}/decide", json={"decision": "agree", "note": "受潮属实"},
                          headers=deciding)
    assert (decided.json["status"], decided.json["operator_note"]) == ("agreed", "受潮属实")

    client.post(f"{steps}/ship", json={"carrier": "顺丰", "tracking_number": "SF-A"}, headers=buyer)
    received = client.post(f"{steps}/receive", json={}, headers=seller).json
    assert (received["status"], received["refund_method"], received["refund_due_fen"],
            received["refunded_fen"]) == ("received", "treasury", 2 * PRICE, 0)
    office = client.application.test_client()  # finance users call the API from the browser
    finance = browser_headers(office, session, world.unit, Role.FINANCE)
    refund = {"voucher_number": "TK-9", "refunded_on": local_today().isoformat(),
              "amount_fen": 2 * PRICE}
    assert client.post(f"{steps}/refund-treasury", json=refund, headers=buyer).status_code == 403
    wrong = office.post(f"{steps}/refund-treasury", json={**refund, "amount_fen": 1},
                        headers=finance)
    assert wrong.json["errors"] == {"amount_fen": [f"Enter the refund due: {format_fen(2 * PRICE)}."]}
    done = office.post(f"{steps}/refund-treasury", json=refund, headers=finance)
    assert (done.json["status"], done.json["refunded_fen"]) == ("completed", 2 * PRICE)
    (shown,) = client.get(url, headers=buyer).json
    assert shown["refund_reference"] == "TK-9"
    assert client.get(url, headers=stranger).status_code == 404
    assert line_of(session, world).spent_fen == TOTAL - 2 * PRICE


def bearer(session, actor) -> dict[str, str]:
    from mall.accounts.models import User
    from mall.accounts.services import issue_token

    _token, secret = issue_token(session, actor_for(session.get(User, actor.user_id)),
                                 name="ERP", scopes=["orders:read", "orders:write"])
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def browser(app, session, actor):
    from tests.purchasing.test_purchasing_pages import _client

    return _client(app, session, actor)


def post(client, world: Accepted, action: str, data: dict):
    from tests.purchasing.test_purchasing_pages import _post

    return _post(client, world.order_id, action, data)


def test_the_order_pages_carry_a_return_from_request_to_refund(app, session):
    world = paid_by_treasury(session)
    line_id = order_of(session, world).lines[0].id
    buyer = browser(app, session, world.unit.buyer)
    page = buyer.get(f"/orders/{world.order_id}").get_data(as_text=True)
    assert 'id="form-return-request"' in page and 'id="form-return-goods"' not in page
    assert post(buyer, world, "return-goods", {"reason": "x"}).status_code == 404

    refused = post(buyer, world, "return-request", {f"quantity-{line_id}": "99", "reason": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'id="return-request-quantities-{line_id}-error"' in html
    assert 'id="return-request-reason-error"' in html and 'value="99"' in html
    assert post(buyer, world, "return-request", {f"quantity-{line_id}": "3",
                                                 "reason": "三包受潮"}).status_code == 302
    ret = session.scalar(select(OrderReturn).where(OrderReturn.order_id == world.order_id))

    seller = browser(app, session, world.supplier)
    html = seller.get(f"/orders/{world.order_id}").get_data(as_text=True)
    assert f'id="form-return-agree-{ret.id}"' in html and f'id="form-return-refuse-{ret.id}"' in html
    empty = post(seller, world, "return-refuse", {"return_id": str(ret.id), "reason": " "})
    assert empty.status_code == 422
    assert f'id="return-refuse-{ret.id}-reason-error"' in empty.get_data(as_text=True)
    assert post(seller, world, "return-agree", {"return_id": str(ret.id)}).status_code == 302
    assert post(buyer, world, "return-ship", {"return_id": str(ret.id), "carrier": "顺丰",
                                              "tracking_number": "SF-P"}).status_code == 302
    assert post(seller, world, "return-receive", {"return_id": str(ret.id)}).status_code == 302

    # Received, not refunded: the page says so, and only the finance user records the refund.
    html = buyer.get(f"/orders/{world.order_id}").get_data(as_text=True)
    assert f'id="form-return-refund-treasury-{ret.id}"' not in html
    assert "Nothing yet" in html and "refunded ¥" not in html
    finance = browser(app, session, world.unit.finance)
    html = finance.get(f"/orders/{world.order_id}").get_data(as_text=True)
    assert f'id="form-return-refund-treasury-{ret.id}"' in html
    wrong = post(finance, world, "return-refund-treasury", {
        "return_id": str(ret.id), "voucher_number": "TK-P", "refunded_on": local_today().isoformat(),
        "amount": "1.00"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and f'id="return-refund-treasury-{ret.id}-amount-error"' in html
    assert "¥89.70" in html
    assert post(finance, world, "return-refund-treasury", {
        "return_id": str(ret.id), "voucher_number": "TK-P", "refunded_on": local_today().isoformat(),
        "amount": "89.70"}).status_code == 302
    html = buyer.get(f"/orders/{world.order_id}").get_data(as_text=True)
    assert "refunded ¥89.70" in html and "TK-P" in html
    assert "Money refunded" in html  # the timeline entry


def test_the_operator_finds_disputes_on_its_page_and_decides_on_the_order_page(app, session):
    world = paid_by_treasury(session)
    ret = ask(session, world)
    returns.refuse_return(session, world.supplier, world.order_id, ret.id, reason="已拆封")
    returns.dispute_return(session, world.unit.buyer, world.order_id, ret.id, reason="到货即坏")
    session.flush()
    operator = browser(app, session, operator_actor(session))
    home = operator.get("/").get_data(as_text=True)
    assert 'href="/disputes"' in home
    listing = operator.get("/disputes?waiting=1").get_data(as_text=True)
    assert f'data-return-id="{ret.id}"' in listing and "到货即坏" in listing
    html = operator.get(f"/orders/{world.order_id}").get_data(as_text=True)
    assert f'id="form-return-decide-{ret.id}"' in html
    missing = post(operator, world, "return-decide", {"return_id": str(ret.id), "note": "x"})
    assert missing.status_code == 422
    assert f'id="return-decide-{ret.id}-decision-error"' in missing.get_data(as_text=True)
    assert post(operator, world, "return-decide", {"return_id": str(ret.id), "decision": "refuse",
                                                   "note": "签收无异议"}).status_code == 302
    assert fresh(session, OrderReturn, ret.id).status is ReturnStatus.REJECTED
    buyer = browser(app, session, world.unit.buyer)
    assert buyer.get("/disputes").status_code == 403
