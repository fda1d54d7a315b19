"""Paying orders: official card (公务卡) through Stripe, treasury transfer (国库集中支付)
recorded by the unit's finance user (refunds of returned goods: mall.purchasing.orders.returns).

Payment follows the contract: only an accepted order whose invoice is recorded is paid, and
one attempt at a time (a card payment processing or waiting for its 3-D Secure check blocks
another card or a treasury transfer until it ends, fails or is cancelled).

A card payment is "processing" until Stripe says it succeeded: by a signed webhook
(duplicates acknowledged and ignored, a late "failed" never undoes a success) or, if
the webhook never comes, by the reconciliation job asking Stripe. Our own idempotency
key goes with every call, so a retried request never pays twice at Stripe.

A payment's status moves by one conditional UPDATE, so the webhook and the reconciliation
job (another process) racing for the same payment apply it once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import UNIT_STAFF, Actor, Role
from mall.core.clock import local_today, now
from mall.core.db import claiming, rowcount
from mall.core.errors import FieldMessage, NotFound, ValidationFailed
from mall.core.money import POSITIVE_AMOUNT, format_fen, within
from mall.i18n_messages import N_
from mall.purchasing.contracts.document import PayeeAccount
from mall.purchasing.contracts.payee import PayeeLocked, current_payee
from mall.purchasing.orders import services as order_service
from mall.purchasing.orders import steps as order_steps
from mall.purchasing.orders.models import Order, OrderStatus
from mall.purchasing.orders.schemas import EmptySchema
from mall.purchasing.orders.steps import Party, step
from mall.purchasing.payments.models import Payment, PaymentMethod, WebhookReceipt
from mall.purchasing.payments.schemas import CardPaymentSchema, TreasuryPaymentSchema
from mall.purchasing.payments.stripe_gateway import (
    PaymentGatewayError,
    StripeSettings,
    WebhookEvent,
    cancel_payment,
    create_card_payment,
    retrieve_payment,
)

log = logging.getLogger(__name__)

PAYABLE = (OrderStatus.INVOICED,)  # accepted, then invoiced: payment follows the invoice
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"
PROCESSING = "processing"
REQUIRES_ACTION = "requires_action"  # the card's bank wants its 3-D Secure check in the browser
FINAL_STATUSES = {SUCCEEDED, CANCELED, FAILED}
# What a status may replace: a late "failed" never undoes a success, but money Stripe reports
# taken after a failure (a retried 3-D Secure authentication) is money taken.
_REPLACEABLE = {SUCCEEDED: ("pending", "processing", REQUIRES_ACTION, FAILED),
                FAILED: ("pending", "processing", REQUIRES_ACTION),
                CANCELED: (REQUIRES_ACTION,),
                PROCESSING: (REQUIRES_ACTION,)}  # checked by the bank, now with the card network
# A 3-D Secure check not finished within this time is abandoned: the reconciliation job
# cancels its PaymentIntent, so the order can be paid another way.
VERIFICATION_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class CardVerification:
    """What the buyer's browser needs to finish a card payment's 3-D Secure check
    (``stripe.confirmCardPayment(client_secret)``); no secret once nothing is left to check."""

    payment_id: int
    intent_id: str
    status: str
    client_secret: str | None


def refuse_while_in_progress(session: Session, order: Order) -> None:
    """One payment attempt at a time: refuse while a card payment is processing or waits for
    its 3-D Secure check (it ends by itself, by the buyer cancelling it, or after
    VERIFICATION_TIMEOUT by the reconciliation job)."""
    unfinished = set(session.scalars(select(Payment.status).where(
        Payment.order_id == order.id, Payment.status.not_in(list(FINAL_STATUSES)))))
    if REQUIRES_ACTION in unfinished:
        raise order_steps.WrongState(
            N_("A card payment of this order waits for the bank's check; finish or cancel it "
               "first."), code="payment_in_progress")
    if unfinished:
        raise order_steps.WrongState(N_("A payment of this order is still being processed."),
                                     code="payment_in_progress")


def _require_payable(session: Session, order: Order) -> None:
    """Payment follows the invoice, one attempt at a time, while something is due."""
    if order.status is OrderStatus.ACCEPTED:
        raise order_steps.WrongState(
            N_("The supplier's invoice is not recorded yet; the contract has payment follow "
               "the invoice."), code="invoice_required")
    order_steps.expect(order, *PAYABLE)
    refuse_while_in_progress(session, order)
    if order.amount_due_fen <= 0:
        raise order_steps.WrongState("Nothing is left to pay on this order.")


@step("pay-card", party=Party.BUYER, roles=UNIT_STAFF, schema=CardPaymentSchema)
def _pay_by_card(session: Session, actor: Actor, order: Order, data: dict, *,
                 stripe: StripeSettings, **_context) -> Payment:
    """Pay by official card through Stripe; the order shows as paid once Stripe confirms.

    A declined card raises ``payment_failed`` with the attempt recorded as failed: the caller
    keeps that record (commits despite the error), so the next attempt gets a new idempotency
    key. Any other gateway error leaves nothing behind, and a retry with the same card sends
    the same key, so a charge Stripe made before the connection broke is not made twice.
    """
    payment_method = data.get("payment_method") or ""
    if not payment_method or len(payment_method) > 100:  # before any unfinished check is dropped
        raise ValidationFailed(errors={"payment_method": ["Enter the card details."]})
    payee = current_payee(session, order)
    if payee.locked:
        raise PayeeLocked(
            N_("The contract's payee account is locked to a lender's repayment account "
               "(%(bank)s, %(number)s): pay by treasury transfer into it, not by card."),
            params={"bank": payee.bank, "number": payee.account_number})
    _require_payable(session, order)
    attempt = session.scalars(select(func.count()).select_from(Payment)
                              .where(Payment.order_id == order.id)).one() + 1
    # Stripe refuses a key reused with other parameters: another card is another request.
    card_digest = hashlib.sha256(payment_method.encode()).hexdigest()[:12]
    moment = now()
    payment = Payment(order_id=order.id, method=PaymentMethod.CARD, amount_fen=order.amount_due_fen,
                      status="pending", payee_account_number=payee.account_number or None,
                      idempotency_key=f"mall-pay-{order.number}-{attempt}-{card_digest}",
                      recorded_by=actor.user_id, created_at=moment, updated_at=moment)
    session.add(payment)
    session.flush()
    try:
        card = create_card_payment(stripe, amount_fen=payment.amount_fen,
                                   order_number=order.number,
                                   idempotency_key=payment.idempotency_key,
                                   payment_method=payment_method, confirm=True)
    except PaymentGatewayError as error:
        if error.code == "payment_failed":
            error.keeps_changes = True
            payment.status, payment.updated_at = FAILED, now()
            record_event(session, action="payment.card_declined", object_type="order",
                         object_id=order.id, actor=actor,
                         data={"amount_fen": payment.amount_fen, "gateway_code": error.gateway_code})
        raise
    payment.intent_id = card.intent_id
    # Succeeded or not, the webhook (or reconciliation) is what marks the order paid.
    payment.status = "processing" if card.status == SUCCEEDED else card.status
    payment.updated_at = now()
    record_event(session, action="payment.card_started", object_type="order", object_id=order.id,
                 actor=actor, data={"intent_id": card.intent_id, "amount_fen": payment.amount_fen})
    return payment


def pay_by_card(session: Session, actor: Actor, order_id: int, settings: StripeSettings, *,
                payment_method: str) -> Payment:
    return order_steps.transition(session, actor, order_id, "pay-card",
                                  {"payment_method": payment_method}, stripe=settings)


def card_verification(session: Session, actor: Actor, order_id: int,
                      settings: StripeSettings) -> CardVerification:
    """The 3-D Secure check of the order's card payment, for the buyer's browser to finish.

    The client secret is asked from the gateway each time rather than stored. If the gateway
    says the payment moved on meanwhile (paid, failed, cancelled), that is applied here, as
    the reconciliation job would, and no secret is returned.
    """
    order = order_steps.get_order(session, actor, order_id)
    order_steps.as_buyer(actor, order, UNIT_STAFF)
    payment = session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.status == REQUIRES_ACTION).order_by(Payment.id.desc()))
    if payment is None:
        raise NotFound("No card payment of this order waits for verification.",
                       code="no_verification_pending")
    card = retrieve_payment(settings, payment.card_intent_id)
    if card.status == REQUIRES_ACTION:
        return CardVerification(payment.id, payment.card_intent_id, REQUIRES_ACTION,
                                card.client_secret)
    _apply_gateway_status(session, payment, card.status)
    return CardVerification(payment.id, payment.card_intent_id, payment.status, None)


@step("cancel-card-check", party=Party.BUYER, roles=UNIT_STAFF, schema=EmptySchema)
def _cancel_card_verification(session: Session, actor: Actor, order: Order, data: dict, *,
                              stripe: StripeSettings, **_context) -> Payment:
    """The buyer gives up a 3-D Secure check: its intent is cancelled at the gateway first, so
    it cannot be completed (and charged) later, and the order may be paid another way. One the
    gateway says is paid or failed meanwhile gets that status instead."""
    payment = session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.status == REQUIRES_ACTION).order_by(Payment.id.desc()))
    if payment is None:
        raise NotFound(N_("No card payment of this order waits for verification."),
                       code="no_verification_pending")
    _cancel_verification(session, payment, stripe, actor)
    return payment


def cancel_card_verification(session: Session, actor: Actor, order_id: int,
                             settings: StripeSettings) -> Payment:
    return order_steps.transition(session, actor, order_id, "cancel-card-check", {}, stripe=settings)


def _cancel_verification(session: Session, payment: Payment, settings: StripeSettings,
                         actor: Actor | None) -> None:
    card = retrieve_payment(settings, payment.card_intent_id)
    if card.status in (REQUIRES_ACTION, "requires_payment_method", "requires_confirmation"):
        card = cancel_payment(settings, payment.card_intent_id,
                              idempotency_key=f"mall-cancel-{payment.idempotency_key}")
    _apply_gateway_status(session, payment, card.status, actor=actor)


def _apply_gateway_status(session: Session, payment: Payment, gateway_status: str, *,
                          actor: Actor | None = None) -> None:
    """Bring a payment in line with what the gateway reports for its PaymentIntent."""
    if gateway_status == SUCCEEDED:
        _apply_status(session, payment, SUCCEEDED)
    elif gateway_status == CANCELED and payment.status == REQUIRES_ACTION:
        _apply_status(session, payment, CANCELED, actor=actor)
    elif gateway_status in (CANCELED, "requires_payment_method"):
        _apply_status(session, payment, FAILED)
    elif gateway_status == PROCESSING and payment.status == REQUIRES_ACTION:
        _apply_status(session, payment, PROCESSING)
    else:
        payment.updated_at = now()


@step("pay-treasury", party=Party.BUYER, roles=(Role.FINANCE,), schema=TreasuryPaymentSchema)
def _record_treasury_payment(session: Session, actor: Actor, order: Order, data: dict,
                             **_context) -> Payment:
    """The unit's finance user records a treasury transfer with its voucher (支付凭证号), which
    pays one order: a number the unit already recorded is refused."""
    _require_payable(session, order)
    voucher_number, paid_on, amount_fen = data["voucher_number"], data["paid_on"], data["amount_fen"]
    errors = {}
    voucher_number = voucher_number.strip()
    if not voucher_number:
        errors["voucher_number"] = ["Enter the payment voucher number."]
    elif session.scalar(select(Payment.id).join(Order, Order.id == Payment.order_id).where(
            Order.buyer_org_id == order.buyer_org_id, Payment.method == PaymentMethod.TREASURY,
            Payment.voucher_number == voucher_number).limit(1)):
        errors["voucher_number"] = ["This voucher is already recorded."]
    if paid_on > local_today():
        errors["paid_on"] = ["The payment date cannot be in the future."]
    if not within(amount_fen, POSITIVE_AMOUNT) or amount_fen != order.amount_due_fen:
        errors["amount_fen"] = [FieldMessage(N_("Enter the amount due: %(amount)s."),
                                                 amount=format_fen(order.amount_due_fen))]
    account_number = "".join(data["payee_account_number"].split())
    payee = current_payee(session, order)
    wrong_account = False
    if not 8 <= len(account_number) <= 40 or not account_number.isdecimal():
        errors["payee_account_number"] = [N_("Enter the account number (8 to 40 digits).")]
    # An order whose supplier recorded no account (none to compare with) takes the one named.
    elif payee.account_number and account_number != payee.account_number:
        errors["payee_account_number"] = [wrong_account_message(payee)]
        wrong_account = True
    if errors:
        raise ValidationFailed(errors=errors,
                               code="wrong_payee_account" if wrong_account else None)
    moment = now()
    payment = Payment(order_id=order.id, method=PaymentMethod.TREASURY, amount_fen=amount_fen,
                      status=SUCCEEDED, voucher_number=voucher_number, paid_on=paid_on,
                      payee_account_number=account_number,
                      idempotency_key=f"mall-treasury-{order.number}-{voucher_number}",
                      recorded_by=actor.user_id, created_at=moment, updated_at=moment)
    try:
        with session.begin_nested():  # on PostgreSQL a failed INSERT would spoil the transaction
            session.add(payment)
    except IntegrityError:
        raise ValidationFailed(errors={"voucher_number": ["This voucher is already recorded."]}) \
            from None
    order_service.mark_paid(session, order, actor, amount_fen=amount_fen,
                            note=f"treasury voucher {payment.voucher_number}")
    return payment


def wrong_account_message(payee: PayeeAccount) -> FieldMessage:
    """Why a treasury transfer naming another account is refused: the account to pay into."""
    if payee.locked:
        return FieldMessage(N_("The contract's payee account is locked to a lender's repayment "
                               "account: pay into %(bank)s, %(name)s, %(number)s."),
                            bank=payee.bank, name=payee.account_name, number=payee.account_number)
    return FieldMessage(N_("Pay into the contract's payee account: %(bank)s, %(name)s, "
                           "%(number)s."),
                        bank=payee.bank, name=payee.account_name, number=payee.account_number)


def record_treasury_payment(session: Session, actor: Actor, order_id: int, *, voucher_number: str,
                            paid_on: date, amount_fen: int, payee_account_number: str) -> Payment:
    """Record a treasury transfer into ``payee_account_number``, which must be the contract's
    current payee account (``wrong_payee_account``)."""
    return order_steps.transition(session, actor, order_id, "pay-treasury", {
        "voucher_number": voucher_number, "paid_on": paid_on, "amount_fen": amount_fen,
        "payee_account_number": payee_account_number})


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
        return _apply_status(session, payment, FAILED)
    return "ignored"


def _apply_status(session: Session, payment: Payment, status: str, *,
                  actor: Actor | None = None) -> str:
    """Move a payment to ``status`` once: whoever loses the conditional UPDATE (a second
    webhook, the reconciliation job) changes nothing."""
    claimed = session.execute(update(Payment).where(
        Payment.id == payment.id, Payment.status.in_(_REPLACEABLE[status]),
    ).values(status=status, updated_at=now()).execution_options(synchronize_session=False))
    session.refresh(payment)
    if rowcount(claimed) != 1:
        return "already final"  # e.g. "failed" arriving after "succeeded": ignored
    order = session.get_one(Order, payment.order_id)
    record_event(session, action=f"payment.{status}", object_type="order", object_id=order.id,
                 actor=actor, data={"intent_id": payment.intent_id, "amount_fen": payment.amount_fen})
    if status == SUCCEEDED:
        payment.paid_on = local_today()
        order_service.mark_paid(session, order, None, amount_fen=payment.amount_fen,
                                note=f"card {payment.intent_id}")
    return status


def reconcile(session: Session, settings: StripeSettings, *, older_than_seconds: int = 30,
              limit: int = 100) -> int:
    """Ask Stripe about card payments whose webhook has not come; apply the answer.

    Rows are claimed with SKIP LOCKED (PostgreSQL), so two schedulers share the work; a payment
    the gateway cannot answer for is retried on a later run and does not stop the others.
    """
    cutoff = now() - timedelta(seconds=older_than_seconds)
    payments = list(session.scalars(claiming(select(Payment).where(
        Payment.method == PaymentMethod.CARD, Payment.intent_id.is_not(None),
        Payment.status.not_in(list(FINAL_STATUSES)), Payment.updated_at < cutoff)
        .order_by(Payment.id).limit(limit), session)))
    for payment in payments:
        try:
            card = retrieve_payment(settings, payment.card_intent_id)
        except PaymentGatewayError as error:
            log.warning("reconciling payment %s (%s): %s", payment.id, payment.intent_id, error.code)
            payment.updated_at = now()
            continue
        if card.status == REQUIRES_ACTION and payment.created_at < now() - VERIFICATION_TIMEOUT:
            try:
                _cancel_verification(session, payment, settings, None)
            except PaymentGatewayError as error:
                log.warning("abandoning payment %s (%s): %s", payment.id, payment.intent_id,
                            error.code)
                payment.updated_at = now()
            continue
        _apply_gateway_status(session, payment, card.status)
    return len(payments)


def payments_of(session: Session, order: Order) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.order_id == order.id)
                                .order_by(Payment.id)))
