"""Payment follows the contract: an order is paid (by card or treasury transfer) only once it
is accepted and its invoice recorded, and one payment attempt at a time — a card payment
waiting for its 3-D Secure check blocks any other until it ends or the buyer cancels it, and
the order page shows the waiting check instead of a second card form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mall.core.clock import local_today
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Notification, Order, OrderStatus
from mall.purchasing.orders.steps import WrongState
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.models import Payment
from tests.purchasing.test_card_verification import three_d_secure_card
from tests.purchasing.test_payments import TOTAL, accepted_order, bearer, fresh
from tests.purchasing.test_purchasing_pages import _client, _html, _post

# The supplier recorded no account: a treasury transfer names the one it paid into.
ACCOUNT = "6230901000000001"


def attempts(session, order_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Payment)
                          .where(Payment.order_id == order_id))


def test_an_accepted_order_is_not_paid_before_its_invoice_is_recorded(session, stripe_settings):
    world = accepted_order(session, invoiced=False)
    for attempt in (
            lambda: payments.pay_by_card(session, world.unit.buyer, world.order_id,
                                         stripe_settings, payment_method="pm_card_visa"),
            lambda: payments.record_treasury_payment(session, world.unit.finance, world.order_id,
                                                     voucher_number="GK-1", paid_on=local_today(),
                                                     amount_fen=TOTAL,
                                                     payee_account_number=ACCOUNT)):
        with pytest.raises(WrongState) as refused:
            attempt()
        assert refused.value.code == "invoice_required"
    assert attempts(session, world.order_id) == 0  # nothing reached the card gateway

    orders.invoice(session, world.supplier, world.order_id, invoice_number="E-1")
    payment = payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                                   payment_method="pm_card_visa")
    assert payment.status == "processing"


def test_the_api_refuses_payment_before_the_invoice(app, session, card_app):
    world = accepted_order(session, invoiced=False)
    client = app.test_client()
    answer = client.post(f"/api/v1/orders/{world.order_id}/pay-card",
                         json={"payment_method": "pm_card_visa"},
                         headers=bearer(session, world.unit.approver))
    assert answer.status_code == 409 and answer.json["code"] == "invoice_required"
    assert "invoice" in answer.json["detail"]
    assert fresh(session, Order, world.order_id).status is OrderStatus.ACCEPTED


def test_money_arriving_for_an_order_not_invoiced_is_recorded_as_unexpected(session):
    world = accepted_order(session, invoiced=False)
    order = fresh(session, Order, world.order_id)
    orders.mark_paid(session, order, None, amount_fen=TOTAL, note="late card")
    order = fresh(session, Order, world.order_id)
    assert (order.status, order.paid_fen, order.budget_state) == (OrderStatus.ACCEPTED, TOTAL,
                                                                  "committed")
    assert session.scalar(select(func.count()).select_from(Notification).where(
        Notification.order_id == order.id, Notification.kind == "payment_unexpected")) == 2


def test_the_order_page_offers_no_payment_before_the_invoice(app, session):
    world = accepted_order(session, invoiced=False)
    for actor in (world.unit.buyer, world.unit.finance):
        html = _html(_client(app, session, actor).get(f"/orders/{world.order_id}"))
        assert 'id="form-pay-card"' not in html and 'id="form-pay-treasury"' not in html
    refused = _post(_client(app, session, world.unit.finance), world.order_id, "pay-treasury",
                    {"voucher_number": "GK-1", "amount": "299.00",
                     "paid_on": local_today().isoformat(), "payee_account_number": ACCOUNT})
    assert refused.status_code == 409 and 'id="action-error"' in _html(refused)
    assert "invoice" in _html(refused)


def test_while_a_3d_secure_check_waits_the_page_shows_it_and_no_second_form(
        app, session, card_app, stripe_settings):
    world = accepted_order(session, invoiced=True)
    payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                         payment_method=three_d_secure_card(stripe_settings))
    session.flush()
    buyer = _client(app, session, world.unit.buyer)
    html = _html(buyer.get(f"/orders/{world.order_id}"))
    assert 'id="card-verification"' in html and 'id="form-pay-card"' not in html
    assert 'id="form-cancel-card-check"' in html
    finance = _client(app, session, world.unit.finance)
    assert 'id="form-pay-treasury"' not in _html(finance.get(f"/orders/{world.order_id}"))
    second = _post(buyer, world.order_id, "pay-card", {"payment_method": "pm_card_visa"})
    assert second.status_code == 409 and "bank" in _html(second)
    assert attempts(session, world.order_id) == 1

    assert _post(buyer, world.order_id, "cancel-card-check").status_code == 302
    html = _html(buyer.get(f"/orders/{world.order_id}"))
    assert 'id="card-verification"' not in html and 'id="form-pay-card"' in html
    assert 'id="form-pay-treasury"' in _html(finance.get(f"/orders/{world.order_id}"))
