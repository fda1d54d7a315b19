"""Refunds of returned goods: the supplier's receipt of the goods sends a card refund through
the gateway at once or waits for the unit's finance user to record a treasury refund; the
return completes when the money is back (then budget and running totals move). The steps
before the receipt are in mall.purchasing.orders.returns."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.core.auth import SUPPLIER_STAFF, Actor, Role
from mall.core.clock import local_today, now
from mall.core.errors import FieldMessage, ValidationFailed
from mall.core.inputs import check_text
from mall.core.money import format_fen
from mall.i18n_messages import N_
from mall.purchasing.budget import services as budget
from mall.purchasing.orders.checkout import give_back_stock, remove_spend
from mall.purchasing.orders.models import (
    Order,
    OrderReturn,
    OrderStatus,
)
from mall.purchasing.orders.notifications import notify
from mall.purchasing.orders.returns import (
    R,
    ReturnStateConflict,
    get_return,
    record_return_step,
)
from mall.purchasing.orders.schemas import EmptySchema, TreasuryRefundSchema
from mall.purchasing.orders.steps import Party, record_step, step, transition
from mall.purchasing.payments.models import Payment, PaymentMethod
from mall.purchasing.payments.services import SUCCEEDED, refuse_while_in_progress
from mall.purchasing.payments.stripe_gateway import (
    CardRefund,
    PaymentGatewayError,
    StripeSettings,
    create_refund,
    retrieve_refund,
)


@step("return-receive", party=Party.SUPPLIER, roles=SUPPLIER_STAFF, schema=EmptySchema, on_return=True)
def _receive_return(session: Session, actor: Actor, order: Order, data: dict, **context) -> OrderReturn:
    """The supplier confirms the goods came back: stock returns, and the money paid for them
    is refunded (by card through the gateway at once; by treasury transfer, recorded by the
    unit's finance user). An order not paid yet simply owes less."""
    return_id = data["return_id"]
    settings = context.get("stripe")
    ret = get_return(session, order, return_id, R.SHIPPED)
    # A payment still processing would land after the refund is worked out.
    refuse_while_in_progress(session, order)
    give_back_stock(session, order, [(row["offer_id"], row["quantity"]) for row in ret.lines])
    ret.status, ret.received_by, ret.received_at = R.RECEIVED, actor.user_id, now()
    net_paid = order.paid_fen - order.refunded_fen
    kept_after = (order.accepted_fen if order.accepted_fen is not None
                  else order.total_fen) - ret.amount_fen
    ret.refund_due_fen = max(0, min(ret.amount_fen, net_paid - kept_after))
    record_return_step(session, order, ret, actor, "return_received", refund_due_fen=ret.refund_due_fen)
    if ret.refund_due_fen == 0:
        _complete(session, order, ret, actor, refunds={})
        return ret
    cards = _refundable_cards(session, order, ret.refund_due_fen)
    if cards:
        ret.refund_method = PaymentMethod.CARD.value
        _refund_by_card(session, order, ret, actor, cards, settings)
    else:
        ret.refund_method = PaymentMethod.TREASURY.value
        amount = format_fen(ret.refund_due_fen)
        notify(session, order.buyer_org_id, order, "return_refund_due", amount=amount)
        notify(session, order.supplier_id, order, "return_refund_owed", amount=amount)
    return ret


def receive_return(session: Session, actor: Actor, order_id: int, return_id: int, *,
                   settings: StripeSettings | None) -> OrderReturn:
    return transition(session, actor, order_id, "return-receive", {"return_id": return_id}, stripe=settings)


@step("return-refund-card", party=Party.SUPPLIER, roles=SUPPLIER_STAFF, schema=EmptySchema, on_return=True)
def _retry_card_refund(session: Session, actor: Actor, order: Order, data: dict, **context) -> OrderReturn:
    """The supplier tries the card refund again after the gateway refused or failed it."""
    return_id = data["return_id"]
    settings = context.get("stripe")
    ret = get_return(session, order, return_id, R.RECEIVED)
    if ret.refund_method != PaymentMethod.CARD.value:
        raise ReturnStateConflict(N_("This refund is made by treasury transfer."),
                                  code="refund_not_by_card")
    _refund_by_card(session, order, ret, actor,
                    _refundable_cards(session, order, ret.refund_due_fen), settings)
    return ret


def retry_card_refund(session: Session, actor: Actor, order_id: int, return_id: int, *,
                      settings: StripeSettings) -> OrderReturn:
    return transition(session, actor, order_id, "return-refund-card",
                      {"return_id": return_id}, stripe=settings)


def _refundable_cards(session: Session, order: Order,
                      due_fen: int | None = None) -> list[tuple[Payment, int]]:
    """The order's card payments with money left to refund; given ``due_fen``, the first
    one that covers it alone (one refund per return: a refund never half succeeds)."""
    paid = session.scalars(select(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.CARD,
        Payment.status == SUCCEEDED, Payment.intent_id.is_not(None)).order_by(Payment.id))
    cards = [(p, p.amount_fen - p.refunded_fen) for p in paid if p.amount_fen > p.refunded_fen]
    if due_fen is None:
        return cards
    return [(p, left) for p, left in cards if left >= due_fen][:1]


def _refund_by_card(session: Session, order: Order, ret: OrderReturn, actor: Actor | None,
                    cards: list[tuple[Payment, int]], settings: StripeSettings | None) -> None:
    """Refund what is due through the gateway, from the card payment that covers it.

    The idempotency key names the return, the payment and the attempt, so a request retried
    after a broken connection never refunds twice at Stripe.
    """
    if settings is None:
        raise PaymentGatewayError("the card gateway is not configured",
                                  code="payment_gateway_unavailable")
    attempt = len([s for s in order.steps if s.status == "return_refund_failed"]) + 1
    left = ret.refund_due_fen
    refunds: dict[int, CardRefund] = {}
    for payment, available in cards:
        if left <= 0:
            break
        amount = min(left, available)
        refunds[payment.id] = create_refund(
            settings, intent_id=payment.card_intent_id, amount_fen=amount,
            idempotency_key=f"mall-return-{ret.id}-{payment.id}-{attempt}")
        left -= amount
    ret.refund_reference = ",".join(r.refund_id for r in refunds.values())[:200]
    statuses = {r.status for r in refunds.values()}
    if statuses <= {SUCCEEDED}:
        _complete(session, order, ret, actor, refunds={p: r.amount_fen for p, r in refunds.items()})
    elif statuses & {"failed", "canceled"}:
        # Kept as received: the supplier tries again, with a new idempotency key.
        _refund_failed(session, order, ret, actor)
    else:  # pending at the card network: the reconciliation job finishes it
        ret.status = R.REFUND_PENDING
        record_return_step(session, order, ret, actor, "return_refund_pending",
                           reference=ret.refund_reference)


@step("return-refund-treasury", party=Party.BUYER, roles=(Role.FINANCE,),
      schema=TreasuryRefundSchema, on_return=True)
def _record_treasury_refund(session: Session, actor: Actor, order: Order,
                            data: dict, **context) -> OrderReturn:
    """The unit's finance user records the supplier's refund of a treasury payment (voucher
    number, date, amount) once the money is back; only then do budget and totals move."""
    return_id = data["return_id"]
    voucher_number = data["voucher_number"]
    refunded_on = data["refunded_on"]
    amount_fen = data["amount_fen"]
    ret = get_return(session, order, return_id, R.RECEIVED)
    if ret.refund_method != PaymentMethod.TREASURY.value:
        raise ReturnStateConflict(N_("This refund is made by card through the gateway."),
                                  code="refund_not_by_treasury")
    errors: dict[str, list[str]] = {}
    voucher = (voucher_number or "").strip()
    if not voucher:
        errors["voucher_number"] = [N_("Enter the refund voucher number.")]
    elif len(voucher) > 60:
        errors["voucher_number"] = [N_("Keep it under 60 characters.")]
    else:
        check_text("voucher_number", voucher, errors=errors)
        if "voucher_number" not in errors and session.scalar(
                select(OrderReturn.id).join(Order, Order.id == OrderReturn.order_id).where(
                    Order.buyer_org_id == order.buyer_org_id,
                    OrderReturn.refund_method == PaymentMethod.TREASURY.value,
                    OrderReturn.refund_reference == voucher).limit(1)):
            errors["voucher_number"] = [N_("This voucher is already recorded.")]
    if refunded_on is None:
        errors["refunded_on"] = [N_("Not a valid date.")]
    elif refunded_on > local_today():
        errors["refunded_on"] = [N_("The refund date cannot be in the future.")]
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) \
            or amount_fen != ret.refund_due_fen:
        # The pages name the amount in the user's language; the API gets it in fen.
        errors["amount_fen"] = [FieldMessage(N_("Enter the refund due: %(amount)s."),
                                                 amount=format_fen(ret.refund_due_fen))]
    if errors:
        raise ValidationFailed(errors=errors)
    ret.refund_reference, ret.refunded_on = voucher, refunded_on
    treasury = session.scalars(select(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.TREASURY,
        Payment.status == SUCCEEDED).order_by(Payment.id))
    shares, left = {}, amount_fen
    for payment in treasury:  # shown per payment; any rest stays on the order's total
        share = min(left, payment.amount_fen - payment.refunded_fen)
        if share > 0:
            shares[payment.id] = share
            left -= share
    _complete(session, order, ret, actor, refunds=shares, extra_fen=left)
    return ret


def record_treasury_refund(session: Session, actor: Actor, order_id: int, return_id: int, *,
                           voucher_number: str, refunded_on: date, amount_fen: int) -> OrderReturn:
    return transition(session, actor, order_id, "return-refund-treasury",
                      {"return_id": return_id, "voucher_number": voucher_number,
                       "refunded_on": refunded_on, "amount_fen": amount_fen})


def _complete(session: Session, order: Order, ret: OrderReturn, actor: Actor | None, *,
              refunds: dict[int, int], extra_fen: int = 0) -> None:
    """The money is back (or none was paid): the return is done, and now the budget line and
    the unit's running totals move, by the refunded amount (an unpaid order by what it no
    longer owes)."""
    refunded = sum(refunds.values()) + extra_fen
    for payment_id, amount in refunds.items():
        payment = session.get_one(Payment, payment_id)
        payment.refunded_fen += amount
        payment.updated_at = now()
    ret.refunded_fen = refunded
    ret.refunded_by = actor.user_id if actor else None
    if ret.refunded_on is None and refunded:
        ret.refunded_on = local_today()
    ret.status, ret.completed_at = R.COMPLETED, now()
    order.refunded_fen += refunded
    kept = order.accepted_fen if order.accepted_fen is not None else order.total_fen
    order.accepted_fen = kept - ret.amount_fen
    # Paid: the spent money came back; unpaid: the commitment shrinks by what is not owed.
    moved = refunded if order.budget_state == "spent" else ret.amount_fen
    if moved and order.budget_state in ("reserved", "committed", "spent"):
        budget.move(session, order.budget_line_id, moved, order.budget_state, "released")
    by_category: dict[str, int] = {}
    for row in ret.lines:
        by_category[row["category_code"]] = by_category.get(row["category_code"], 0) + row["amount_fen"]
    remove_spend(session, order, by_category)
    data: dict[str, Any] = {"refunded_fen": refunded, "method": ret.refund_method,
            "reference": ret.refund_reference}
    if refunded:
        record_return_step(session, order, ret, actor, "return_refunded", note=format_fen(refunded), **data)
        for organisation_id in (order.buyer_org_id, order.supplier_id):
            notify(session, organisation_id, order, "return_refunded", amount=format_fen(refunded))
    else:
        record_return_step(session, order, ret, actor, "return_completed", **data)
        notify(session, order.buyer_org_id, order, "return_completed",
               amount=format_fen(ret.amount_fen))
    if order.accepted_fen <= 0:  # everything accepted went back
        order.budget_state = "released"
        order.pay_by = None
        record_step(session, order, actor, OrderStatus.RETURNED, note=ret.reason,
                    data={"refunded_fen": order.refunded_fen, "return_id": ret.id})


# -- the card refunds the network is still working on -----------------------------------------

def check_pending_refunds(session: Session, settings: StripeSettings, *, limit: int = 100) -> int:
    """Ask the gateway about card refunds it answered "pending": finish those that succeeded;
    one that failed goes back to the supplier to try again. Returns how many were asked."""
    from mall.core.db import claiming

    pending = list(session.scalars(claiming(select(OrderReturn).where(
        OrderReturn.status == R.REFUND_PENDING).order_by(OrderReturn.id).limit(limit), session)))
    for ret in pending:
        order = session.get_one(Order, ret.order_id, with_for_update=True, populate_existing=True)
        try:
            found = [retrieve_refund(settings, rid) for rid in (ret.refund_reference or "").split(",")
                     if rid]
        except PaymentGatewayError:
            continue  # asked again on the next run
        statuses = {r.status for r in found}
        if found and statuses <= {SUCCEEDED}:
            by_payment = _refunds_by_payment(session, order, found)
            _complete(session, order, ret, None, refunds=by_payment)
        elif statuses & {"failed", "canceled"}:
            _refund_failed(session, order, ret, None)
    return len(pending)


def _refund_failed(session: Session, order: Order, ret: OrderReturn, actor: Actor | None) -> None:
    """The gateway did not refund: nothing moves, and the supplier is asked to try again."""
    ret.status = R.RECEIVED
    record_return_step(session, order, ret, actor, "return_refund_failed", reference=ret.refund_reference)
    notify(session, order.supplier_id, order, "return_refund_failed",
           amount=format_fen(ret.refund_due_fen))


def _refunds_by_payment(session: Session, order: Order, found: list[CardRefund]) -> dict[int, int]:
    """The card payment the return's refund was drawn from, and how much came back to it."""
    shares: dict[int, int] = {}
    left = sum(r.amount_fen for r in found)
    for payment, available in _refundable_cards(session, order, left):
        share = min(left, available)
        if share > 0:
            shares[payment.id] = share
            left -= share
    return shares
