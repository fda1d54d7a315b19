"""The order lifecycle: each transition is a service function that checks who acts, moves
stock and budget, records the step on the order's timeline and in the audit trail, and
tells the other party (docs/domain.md: The direct-purchase flow, Deadlines).

    pending_approval → sent → confirmed → supplier_signed → signed → shipped → delivered
      → accepted → invoiced → paid → rated;  cancelled / returned release what was held.

Payment follows the invoice (mall.purchasing.payments.services); accepted goods go back through a
return both parties agree to (mall.purchasing.orders.returns).

A small order without centrally procured items is settled by a settlement order (结算单)
instead of a contract: at confirmation it goes straight from confirmed to signed.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import format_local, local_today, now
from mall.core.errors import PermissionDenied, ValidationFailed
from mall.core.money import AMOUNT, PRICE, format_fen, require, within
from mall.i18n_messages import N_
from mall.purchasing.budget import services as budget
from mall.purchasing.contracts.models import NoticeKind
from mall.purchasing.contracts.notices import record_notice
from mall.purchasing.contracts.services import create_contract, issue_settlement, paperwork_for
from mall.purchasing.orders.checkout import CONFIRM_HOURS, restock
from mall.purchasing.orders.models import Acceptance, AcceptanceResult, Order, OrderStep, Paperwork, Rating
from mall.purchasing.orders.notifications import notify
from mall.purchasing.orders.steps import (
    PAYMENT_DAYS,
    S,
    WrongState,
    as_buyer,
    as_supplier,
    expect,
    get_order,
    record_step,
    require_reason,
)

RAISE_REFUSED = N_("A confirmed price may be lowered, never raised.")
BUYER_ROLES = (Role.BUYER, Role.APPROVER)
SUPPLIER_ROLES = (Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR)
PAYER_ROLES = (Role.FINANCE, Role.BUYER, Role.APPROVER)


# -- approval -----------------------------------------------------------------------------

def set_approval_threshold(session: Session, actor: Actor, amount_fen: int | None) -> None:
    """A unit's approver sets the amount above which orders need internal approval."""
    from mall.purchasing.budget.models import UnitSettings

    actor.require_role(Role.APPROVER)
    if actor.organisation_kind is not OrganisationKind.PURCHASING_UNIT:
        raise PermissionDenied(code="buyer_required")
    if amount_fen is not None:
        require(amount_fen, AMOUNT, "approval_above_fen")
    settings = session.get(UnitSettings, actor.organisation_id)
    if settings is None:
        settings = UnitSettings(organisation_id=actor.organisation_id)
        session.add(settings)
    settings.approval_above_fen = amount_fen
    session.flush()
    record_event(session, action="unit_settings.approval", object_type="organisation",
                 object_id=actor.organisation_id, actor=actor, data={"approval_above_fen": amount_fen})


def approve(session: Session, actor: Actor, order_id: int) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order, (Role.APPROVER,))
    expect(order, S.PENDING_APPROVAL)
    if actor.user_id == order.buyer_user_id:
        raise PermissionDenied(N_("Another approver of the unit must approve your own order."),
                               code="own_order_approval")
    order.steps.append(OrderStep(status="approved", at=now(), user_id=actor.user_id))
    order.confirm_by = now() + timedelta(hours=CONFIRM_HOURS)
    record_step(session, order, actor, S.SENT, deadline=order.confirm_by)
    notify(session, order.supplier_id, order, "order_received")
    notify(session, order.buyer_org_id, order, "order_approved")
    return order


def return_to_buyer(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    """The approver refuses: the order is cancelled and everything it held is released."""
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order, (Role.APPROVER,))
    expect(order, S.PENDING_APPROVAL)
    require_reason(reason)
    _release(session, order)
    order.cancel_reason = reason
    record_step(session, order, actor, S.CANCELLED, note=f"returned by approver: {reason}")
    notify(session, order.buyer_org_id, order, "order_returned", reason=reason)
    return order


# -- supplier confirmation and contract ---------------------------------------------------

def confirm(session: Session, actor: Actor, order_id: int,
            prices: dict[int, int] | None = None) -> Order:
    """The supplier confirms, optionally lowering line prices (never raising them). A small
    order without centrally procured items is then settled by a settlement order, ready to
    ship; any other gets its contract to sign."""
    order = get_order(session, actor, order_id, lock=True)
    as_supplier(actor, order)
    expect(order, S.SENT)
    if order.confirm_by is not None and order.confirm_by <= now():
        raise WrongState(N_("The 72 hours to confirm this order have passed; it is being cancelled."),
                         code="confirmation_deadline_passed")
    prices = prices or {}
    lines = {line.id: line for line in order.lines}
    errors = {}
    for line_id, price in prices.items():
        line = lines.get(int(line_id))
        if line is None:
            errors[f"prices.{line_id}"] = [N_("No such line on this order.")]
        elif not within(price, PRICE):
            errors[f"prices.{line_id}"] = [PRICE.message]
        elif price > line.unit_price_fen:
            errors[f"prices.{line_id}"] = [RAISE_REFUSED]
    if errors:
        raised = any(m == [RAISE_REFUSED] for m in errors.values())
        raise ValidationFailed(RAISE_REFUSED if raised else "",
                               errors=errors, code="price_raise_refused" if raised else None)
    savings: dict[str, int] = {}
    for line_id, price in prices.items():
        line = lines[int(line_id)]
        saving = (line.unit_price_fen - price) * line.quantity
        savings[line.category_code] = savings.get(line.category_code, 0) + saving
        line.unit_price_fen = price
    before = order.total_fen
    order.total_fen = sum(line.amount_fen for line in order.lines)
    saved = before - order.total_fen
    if saved:  # the lower price frees budget and room under the limit
        budget.move(session, order.budget_line_id, saved, "reserved", "released")
        budget.remove_from_running_totals(session, order.buyer_org_id, order.fiscal_year, savings)
    order.confirm_by = None
    record_step(session, order, actor, S.CONFIRMED, data={"total_fen": order.total_fen, "saved_fen": saved})
    order.paperwork = paperwork_for(session, order)
    record_notice(session, order, NoticeKind.RESULT)
    if order.paperwork is Paperwork.SETTLEMENT:
        issue_settlement(session, order, actor)
    else:
        create_contract(session, order)
        notify(session, order.buyer_org_id, order, "order_confirmed")
    return order


def decline(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    as_supplier(actor, order)
    expect(order, S.SENT)
    require_reason(reason)
    return _cancel(session, order, actor, f"declined by supplier: {reason}")


def cancel(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    """The buyer withdraws an order the supplier has not confirmed yet."""
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order)
    expect(order, S.PENDING_APPROVAL, S.SENT)
    require_reason(reason)
    return _cancel(session, order, actor, reason)


def _cancel(session: Session, order: Order, actor: Actor | None, reason: str) -> Order:
    _release(session, order)
    order.cancel_reason = reason
    order.confirm_by = None
    record_step(session, order, actor, S.CANCELLED, note=reason)
    for organisation_id in (order.buyer_org_id, order.supplier_id):
        notify(session, organisation_id, order, "order_cancelled", reason=reason)
    return order


def _release(session: Session, order: Order, lines: list[tuple[int, int]] | None = None,
             amount_fen: int | None = None) -> None:
    """Give back stock, budget and running total: of the whole order, or of the given
    (offer id, quantity) pairs, valued at the order's line prices."""
    whole = lines is None
    if whole:
        lines = [(ln.offer_id, ln.quantity) for ln in order.lines]
    by_offer = {ln.offer_id: ln for ln in order.lines}
    by_category: dict[str, int] = {}
    for offer_id, quantity in lines:
        line = by_offer[offer_id]
        by_category[line.category_code] = (by_category.get(line.category_code, 0)
                                           + quantity * line.unit_price_fen)
    amount = sum(by_category.values())
    if amount_fen is not None and amount_fen != amount:
        raise ValueError(f"release of {amount_fen} fen does not match the lines ({amount})")
    restock(session, lines)
    if order.budget_state in ("reserved", "committed", "spent") and amount:
        budget.move(session, order.budget_line_id, amount, order.budget_state, "released")
    if amount:
        budget.remove_from_running_totals(session, order.buyer_org_id, order.fiscal_year,
                                          by_category)
    if whole:
        order.budget_state = "released"


# -- delivery, acceptance, invoice ----------------------------------------------------------

def ship(session: Session, actor: Actor, order_id: int, *, carrier: str, tracking_number: str) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    as_supplier(actor, order)
    expect(order, S.SIGNED)
    errors = {}
    if not carrier.strip():
        errors["carrier"] = ["Enter the carrier."]
    if not tracking_number.strip():
        errors["tracking_number"] = ["Enter the tracking number."]
    if errors:
        raise ValidationFailed(errors=errors)
    order.carrier, order.tracking_number = carrier.strip(), tracking_number.strip()
    record_step(session, order, actor, S.SHIPPED, note=f"{order.carrier} {order.tracking_number}")
    notify(session, order.buyer_org_id, order, "order_shipped", carrier=order.carrier,
           tracking=order.tracking_number)
    return order


def receive(session: Session, actor: Actor, order_id: int) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order)
    expect(order, S.SHIPPED)
    record_step(session, order, actor, S.DELIVERED)
    notify(session, order.supplier_id, order, "order_delivered")
    return order


def accept(session: Session, actor: Actor, order_id: int, *, result: str,
           quantities: dict[int, int] | None = None, reasons: str = "",
           accepted_on: date | None = None) -> Order:
    """The acceptance record (验收书): pass, partial with accepted quantities, or reject."""
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order)
    expect(order, S.DELIVERED)
    try:
        outcome = AcceptanceResult(result)
    except ValueError:
        raise ValidationFailed(errors={"result": ["Choose pass, partial or reject."]}) from None
    quantities = {int(k): v for k, v in (quantities or {}).items()}
    errors = {}
    accepted = {}
    for line in order.lines:
        if outcome is AcceptanceResult.PASS:
            accepted[line.id] = line.quantity
        elif outcome is AcceptanceResult.REJECT:
            accepted[line.id] = 0
        else:
            value = quantities.get(line.id, line.quantity)
            if not isinstance(value, int) or not 0 <= value <= line.quantity:
                errors[f"quantities.{line.id}"] = [N_("Enter 0 up to the quantity ordered.")]
            accepted[line.id] = value
    if outcome is not AcceptanceResult.PASS and not reasons.strip():
        errors["reasons"] = ["Say why the goods were not accepted in full."]
    if outcome is AcceptanceResult.PARTIAL and all(
            accepted[ln.id] == ln.quantity for ln in order.lines):
        errors["quantities"] = ["A partial acceptance keeps back at least one item."]
    if outcome is AcceptanceResult.PARTIAL and not errors and not any(accepted.values()):
        outcome = AcceptanceResult.REJECT  # nothing accepted: the goods all go back
    if errors:
        raise ValidationFailed(errors=errors)
    for line in order.lines:
        line.accepted_quantity = accepted[line.id]
    order.accepted_fen = sum(ln.unit_price_fen * accepted[ln.id] for ln in order.lines)
    session.add(Acceptance(
        order_id=order.id, result=outcome, reasons=reasons.strip() or None,
        accepted_on=accepted_on or local_today(), user_id=actor.user_id, created_at=now(),
        lines=[{"line_id": ln.id, "title": ln.title, "ordered": ln.quantity,
                "accepted": accepted[ln.id]} for ln in order.lines]))
    kept_back = order.total_fen - order.accepted_fen
    if kept_back:  # goods sent back: stock and the unspent budget return
        _release(session, order, lines=[(ln.offer_id, ln.quantity - accepted[ln.id])
                                        for ln in order.lines], amount_fen=kept_back)
    if outcome is AcceptanceResult.REJECT:
        order.budget_state = "released"
        record_step(session, order, actor, S.RETURNED, note=reasons.strip(), data={"result": outcome.value})
        notify(session, order.supplier_id, order, "order_returned_goods", reason=reasons.strip())
        return order
    record_step(session, order, actor, S.ACCEPTED, note=reasons.strip() or None,
          data={"result": outcome.value, "accepted_fen": order.accepted_fen})
    notify(session, order.supplier_id, order, "order_accepted", result=outcome.value)
    return order


def invoice(session: Session, actor: Actor, order_id: int, *, invoice_number: str) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    as_supplier(actor, order)
    expect(order, S.ACCEPTED, S.PAID)
    if not invoice_number.strip():
        raise ValidationFailed(errors={"invoice_number": ["Enter the e-invoice number."]})
    order.invoice_number = invoice_number.strip()
    if order.status is S.PAID:  # paid before payment had to wait for the invoice (old orders)
        if order.invoiced_at is not None:
            raise WrongState(N_("This order is invoiced already."), code="already_invoiced")
        order.invoiced_at = now()
        order.steps.append(OrderStep(status=S.INVOICED.value, at=order.invoiced_at,
                                     user_id=actor.user_id, note=order.invoice_number))
        record_event(session, action="order.invoice_recorded", object_type="order",
                     object_id=order.id, actor=actor, data={"invoice": order.invoice_number})
        return order
    order.invoiced_at = now()
    order.pay_by = order.invoiced_at + timedelta(days=PAYMENT_DAYS)
    record_step(session, order, actor, S.INVOICED, deadline=order.pay_by, note=order.invoice_number)
    notify(session, order.buyer_org_id, order, "order_invoiced", invoice=order.invoice_number,
           pay_by=format_local(order.pay_by))
    return order


def mark_paid(session: Session, order: Order, actor: Actor | None, *, amount_fen: int,
              note: str) -> None:
    """Record money received for an order (a payment service calls this once it succeeded).

    Money that arrives for an order not waiting for it (not invoiced, returned, cancelled,
    already paid: a late card success) is still recorded, so the overpayment shows, and the
    unit and the supplier are told to settle the refund.
    """
    session.refresh(order, with_for_update=True)
    if order.status is not S.INVOICED or order.amount_due_fen < amount_fen:
        session.execute(update(Order).where(Order.id == order.id)
                        .values(paid_fen=Order.paid_fen + amount_fen)
                        .execution_options(synchronize_session=False))
        record_event(session, action="payment.unexpected", object_type="order", object_id=order.id,
                     actor=actor, data={"amount_fen": amount_fen, "status": order.status.value,
                                        "note": note})
        for organisation_id in (order.buyer_org_id, order.supplier_id):
            notify(session, organisation_id, order, "payment_unexpected",
                   amount=format_fen(amount_fen))
        return
    session.execute(update(Order).where(Order.id == order.id)
                    .values(paid_fen=Order.paid_fen + amount_fen)
                    .execution_options(synchronize_session=False))
    session.refresh(order, ["paid_fen"])
    if order.status is S.INVOICED and order.amount_due_fen <= 0:
        budget.move(session, order.budget_line_id, order.accepted_fen or order.total_fen,
                    "committed", "spent")
        order.budget_state = "spent"
        record_step(session, order, actor, S.PAID, note=note, data={"paid_fen": order.paid_fen})
        notify(session, order.supplier_id, order, "order_paid")


def rate(session: Session, actor: Actor, order_id: int, *, quality: int, delivery: int,
         service: int, comment: str = "") -> Rating:
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order)
    expect(order, S.PAID)
    errors = {name: ["Give 1 to 5 stars."] for name, value in
              (("quality", quality), ("delivery", delivery), ("service", service))
              if not isinstance(value, int) or not 1 <= value <= 5}
    if errors:
        raise ValidationFailed(errors=errors)
    rating = Rating(order_id=order.id, supplier_id=order.supplier_id, quality=quality,
                    delivery=delivery, service=service, comment=comment.strip() or None,
                    user_id=actor.user_id, created_at=now())
    session.add(rating)
    record_step(session, order, actor, S.RATED, data={"quality": quality, "delivery": delivery,
                                                "service": service})
    notify(session, order.supplier_id, order, "order_rated")
    return rating
