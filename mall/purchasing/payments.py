"""Paying orders: official card (公务卡) through Stripe, treasury transfer (国库集中支付)
recorded by the unit's finance user, refunds when goods go back.

A card payment is "processing" until Stripe says it succeeded: by a signed webhook
(duplicates acknowledged and ignored, a late "failed" never undoes a success) or, if
the webhook never comes, by the reconciliation job asking Stripe. Our own idempotency
key goes with every call, so a retried request never pays twice at Stripe.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import Actor, Role
from mall.core.clock import local_today, now
from mall.core.errors import ValidationFailed
from mall.purchasing import orders as order_service
from mall.purchasing.models import Order, OrderStatus, Payment, PaymentMethod, WebhookReceipt
from mall.purchasing.stripe_gateway import (
    StripeSettings,
    WebhookEvent,
    create_card_payment,
    refund,
    retrieve_payment,
)

PAYABLE = (OrderStatus.ACCEPTED, OrderStatus.INVOICED)
SUCCEEDED = "succeeded"
_FINAL = {SUCCEEDED, "canceled", "failed"}


def _payable(session: Session, actor: Actor, order_id: int, roles) -> Order:
    order = order_service.get_order(session, actor, order_id)
    order_service._as_buyer(actor, order, roles)
    order_service._expect(order, *PAYABLE)
    pending = session.scalar(select(func.count()).select_from(Payment).where(
        Payment.order_id == order.id, Payment.status.not_in(list(_FINAL))))
    if pending:
        raise order_service.WrongState("A payment of this order is still being processed.",
                                       code="payment_in_progress")
    if order.amount_due_fen <= 0:
        raise order_service.WrongState("Nothing is left to pay on this order.")
    return order


def pay_by_card(session: Session, actor: Actor, order_id: int, settings: StripeSettings, *,
                payment_method: str) -> Payment:
    """Charge the unit's official card for what is due; paid once Stripe confirms."""
    order = _payable(session, actor, order_id, order_service.PAYER_ROLES)
    if not payment_method or len(payment_method) > 100:
        raise ValidationFailed(errors={"payment_method": ["Enter the card details."]})
    attempt = session.scalar(select(func.count()).select_from(Payment)
                             .where(Payment.order_id == order.id)) + 1
    moment = now()
    payment = Payment(order_id=order.id, method=PaymentMethod.CARD, amount_fen=order.amount_due_fen,
                      status="pending", idempotency_key=f"mall-pay-{order.number}-{attempt}",
                      recorded_by=actor.user_id, created_at=moment, updated_at=moment)
    session.add(payment)
    session.flush()
    card = create_card_payment(settings, amount_fen=payment.amount_fen, order_number=order.number,
                               idempotency_key=payment.idempotency_key,
                               payment_method=payment_method, confirm=True)
    payment.intent_id = card.intent_id
    # Succeeded or not, the webhook (or reconciliation) is what marks the order paid.
    payment.status = "processing" if card.status == SUCCEEDED else card.status
    payment.updated_at = now()
    record_event(session, action="payment.card_started", object_type="order", object_id=order.id,
                 actor=actor, data={"intent_id": card.intent_id, "amount_fen": payment.amount_fen})
    return payment


def record_treasury_payment(session: Session, actor: Actor, order_id: int, *, voucher_number: str,
                            paid_on: date, amount_fen: int) -> Payment:
    """The unit's finance user records a treasury transfer with its voucher."""
    order = _payable(session, actor, order_id, (Role.FINANCE,))
    errors = {}
    if not voucher_number.strip():
        errors["voucher_number"] = ["Enter the payment voucher number."]
    if paid_on > local_today():
        errors["paid_on"] = ["The payment date cannot be in the future."]
    if amount_fen != order.amount_due_fen:
        errors["amount_fen"] = [f"The amount due is {order.amount_due_fen} fen."]
    if errors:
        raise ValidationFailed(errors=errors)
    moment = now()
    payment = Payment(order_id=order.id, method=PaymentMethod.TREASURY, amount_fen=amount_fen,
                      status=SUCCEEDED, voucher_number=voucher_number.strip(), paid_on=paid_on,
                      idempotency_key=f"mall-treasury-{order.number}-{voucher_number.strip()}",
                      recorded_by=actor.user_id, created_at=moment, updated_at=moment)
    session.add(payment)
    try:
        session.flush()
    except IntegrityError:
        raise ValidationFailed(errors={"voucher_number": ["This voucher is already recorded."]}) \
            from None
    order_service.mark_paid(session, order, actor, amount_fen=amount_fen,
                            note=f"treasury voucher {payment.voucher_number}")
    return payment


def handle_webhook(session: Session, event: WebhookEvent) -> str:
    """Apply a verified Stripe event once; returns what happened (for the log)."""
    if session.scalar(select(WebhookReceipt.id).where(WebhookReceipt.event_id == event.id)):
        return "duplicate"
    payment = (session.scalar(select(Payment).where(Payment.intent_id == event.intent_id))
               if event.intent_id else None)
    if payment is None:
        return "unknown"  # not ours, or not committed yet: reconciliation catches up
    try:
        with session.begin_nested():
            session.add(WebhookReceipt(event_id=event.id, event_type=event.type,
                                       received_at=now()))
    except IntegrityError:
        return "duplicate"
    if event.type == "payment_intent.succeeded":
        return _apply_status(session, payment, SUCCEEDED)
    if event.type == "payment_intent.payment_failed":
        return _apply_status(session, payment, "failed")
    return "ignored"


def _apply_status(session: Session, payment: Payment, status: str) -> str:
    if payment.status in _FINAL:
        return "already final"  # e.g. "failed" arriving after "succeeded": ignored
    payment.status, payment.updated_at = status, now()
    order = session.get(Order, payment.order_id)
    record_event(session, action=f"payment.{status}", object_type="order", object_id=order.id,
                 data={"intent_id": payment.intent_id, "amount_fen": payment.amount_fen})
    if status == SUCCEEDED:
        payment.paid_on = local_today()
        order_service.mark_paid(session, order, None, amount_fen=payment.amount_fen,
                                note=f"card {payment.intent_id}")
    return status


def reconcile(session: Session, settings: StripeSettings, *, older_than_seconds: int = 30,
              limit: int = 100) -> int:
    """Ask Stripe about card payments whose webhook has not come; apply the answer."""
    cutoff = now() - timedelta(seconds=older_than_seconds)
    payments = list(session.scalars(select(Payment).where(
        Payment.method == PaymentMethod.CARD, Payment.intent_id.is_not(None),
        Payment.status.not_in(list(_FINAL)), Payment.updated_at < cutoff).limit(limit)))
    for payment in payments:
        card = retrieve_payment(settings, payment.intent_id)
        if card.status == SUCCEEDED:
            _apply_status(session, payment, SUCCEEDED)
        elif card.status in ("canceled", "requires_payment_method"):
            _apply_status(session, payment, "failed")
        else:
            payment.updated_at = now()
    return len(payments)


def return_goods(session: Session, actor: Actor, order_id: int, *, reason: str,
                 settings: StripeSettings | None) -> Order:
    """Goods go back after acceptance or payment: card payments are refunded, stock and
    budget return."""
    order = order_service.get_order(session, actor, order_id)
    order_service._as_buyer(actor, order)
    order_service._expect(order, OrderStatus.ACCEPTED, OrderStatus.INVOICED, OrderStatus.PAID)
    order_service._require_reason(reason)
    for payment in session.scalars(select(Payment).where(
            Payment.order_id == order.id, Payment.status == SUCCEEDED)):
        left = payment.amount_fen - payment.refunded_fen
        if left <= 0:
            continue
        if payment.method is PaymentMethod.CARD:
            refund(settings, intent_id=payment.intent_id, amount_fen=left,
                   idempotency_key=f"mall-refund-{payment.idempotency_key}")
        # A treasury transfer is paid back by the supplier outside the mall; recorded here.
        payment.refunded_fen += left
        order.refunded_fen += left
        payment.updated_at = now()
    kept = order.accepted_fen if order.accepted_fen is not None else order.total_fen
    order_service._release(session, order, lines=[
        (ln.offer_id, ln.accepted_quantity if ln.accepted_quantity is not None else ln.quantity)
        for ln in order.lines], amount_fen=kept)
    order.budget_state = "released"
    order_service._step(session, order, actor, OrderStatus.RETURNED, note=reason.strip(),
                        data={"refunded_fen": order.refunded_fen})
    order_service.notify(session, order.supplier_id, order, "order_returned_goods",
                         reason=reason.strip())
    return order


def payments_of(session: Session, order: Order) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.order_id == order.id)
                                .order_by(Payment.id)))
