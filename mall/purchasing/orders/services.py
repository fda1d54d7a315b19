"""The order lifecycle: the effects of the order steps (declared with ``@step``, taken
through ``mall.purchasing.orders.steps.transition``), which move stock and budget and say
what the timeline records and whom to tell (docs/domain.md: The direct-purchase flow,
Deadlines). The plain functions below each effect are the same steps called from Python.

    pending_approval → sent → confirmed → supplier_signed → signed → shipped → delivered
      → accepted → invoiced → paid → rated;  cancelled / returned release what was held.

Payment follows the invoice (mall.purchasing.payments.services); accepted goods go back through a
return both parties agree to (mall.purchasing.orders.returns).

A small order without centrally procured items is settled by a settlement order (结算单)
instead of a contract: at confirmation it goes straight from confirmed to signed.
"""

from __future__ import annotations

from datetime import date, timedelta

from blinker import Namespace
from sqlalchemy import update
from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import BUYERS, SUPPLIER_STAFF, Actor, OrganisationKind, Role
from mall.core.clock import format_local, local_today, now
from mall.core.errors import PermissionDenied, ValidationFailed
from mall.core.money import AMOUNT, PRICE, format_fen, require, within
from mall.i18n_messages import N_
from mall.purchasing.budget import services as budget
from mall.purchasing.contracts.models import NoticeKind
from mall.purchasing.contracts.notices import record_notice
from mall.purchasing.contracts.services import create_contract, issue_settlement, paperwork_for
from mall.purchasing.orders.checkout import CONFIRM_HOURS, give_back_stock, remove_spend
from mall.purchasing.orders.models import (
    Acceptance,
    AcceptanceResult,
    Order,
    OrderStep,
    Paperwork,
    PurchaseMode,
    Rating,
)
from mall.purchasing.orders.notifications import notify
from mall.purchasing.orders.schemas import (
    AcceptSchema,
    ConfirmSchema,
    EmptySchema,
    InvoiceSchema,
    RateSchema,
    ReasonSchema,
    ShipSchema,
)
from mall.purchasing.orders.steps import (
    PAYMENT_DAYS,
    Moved,
    Party,
    S,
    WrongState,
    apply_move,
    order_changed,
    record_step,
    require_reason,
    step,
    transition,
)

RAISE_REFUSED = N_("A confirmed price may be lowered, never raised.")


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



@step("approve", party=Party.BUYER, roles=(Role.APPROVER,), states=(S.PENDING_APPROVAL,),
      schema=EmptySchema)
def _approve(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved:
    """The unit's approver approves an order above its approval amount: it goes to the supplier."""
    if actor.user_id == order.buyer_user_id:
        raise PermissionDenied(N_("Another approver of the unit must approve your own order."),
                               code="own_order_approval")
    order.confirm_by = now() + timedelta(hours=CONFIRM_HOURS)
    return Moved(S.SENT, deadline=order.confirm_by, before="approved",
                 tell=((order.supplier_id, "order_received", {}),
                       (order.buyer_org_id, "order_approved", {})))


def approve(session: Session, actor: Actor, order_id: int) -> Order:
    return transition(session, actor, order_id, "approve", {})


@step("return", party=Party.BUYER, roles=(Role.APPROVER,), states=(S.PENDING_APPROVAL,),
      schema=ReasonSchema)
def _return_to_buyer(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved:
    """The approver returns the order: it is cancelled and everything it held is released."""
    reason = data.get("reason", "")
    require_reason(reason)
    _release(session, order)
    order.cancel_reason = reason
    return Moved(S.CANCELLED, note=f"returned by approver: {reason}",
                 tell=((order.buyer_org_id, "order_returned", {"reason": reason}),))


def return_to_buyer(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    return transition(session, actor, order_id, "return", {"reason": reason})


# -- supplier confirmation and contract ---------------------------------------------------

@step("confirm", party=Party.SUPPLIER, roles=SUPPLIER_STAFF, states=(S.SENT,), schema=ConfirmSchema)
def _confirm(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Order:
    """The supplier confirms, optionally lowering (never raising) line prices. A small order
    without centrally procured items is then settled by a settlement order, ready to ship;
    any other gets its contract to sign."""
    if order.confirm_by is not None and order.confirm_by <= now():
        raise WrongState(N_("The 72 hours to confirm this order have passed; it is being cancelled."),
                         code="confirmation_deadline_passed")
    prices = {int(k): v for k, v in (data.get("prices") or {}).items()}
    lines = {line.id: line for line in order.lines}
    errors = {}
    for line_id, price in prices.items():
        line = lines.get(line_id)
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
        line = lines[line_id]
        saving = (line.unit_price_fen - price) * line.quantity
        savings[line.category_code] = savings.get(line.category_code, 0) + saving
        line.unit_price_fen = price
    before = order.total_fen
    order.total_fen = sum(line.amount_fen for line in order.lines)
    saved = before - order.total_fen
    if saved:  # the lower price frees budget and room under the limit
        budget.move(session, order.budget_line_id, saved, "reserved", "released")
        remove_spend(session, order, savings)
    order.confirm_by = None
    record_step(session, order, actor, S.CONFIRMED, data={"total_fen": order.total_fen, "saved_fen": saved})
    order.paperwork = paperwork_for(session, order)
    if order.purchase_mode is PurchaseMode.DIRECT:  # a round's award has its round's notice
        record_notice(session, order, NoticeKind.RESULT)
    if order.paperwork is Paperwork.SETTLEMENT:
        issue_settlement(session, order, actor)
    else:
        create_contract(session, order)
        notify(session, order.buyer_org_id, order, "order_confirmed")
    return order


def confirm(session: Session, actor: Actor, order_id: int,
            prices: dict[int, int] | None = None) -> Order:
    return transition(session, actor, order_id, "confirm", {"prices": prices or {}})


@step("decline", party=Party.SUPPLIER, roles=SUPPLIER_STAFF, states=(S.SENT,), schema=ReasonSchema)
def _decline(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved:
    """The supplier declines the order, with a reason; everything it held is released."""
    reason = data.get("reason", "")
    require_reason(reason)
    return cancelled(session, order, f"declined by supplier: {reason}")


def decline(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    return transition(session, actor, order_id, "decline", {"reason": reason})


@step("cancel", party=Party.BUYER, roles=BUYERS, states=(S.PENDING_APPROVAL, S.SENT),
      schema=ReasonSchema)
def _cancel(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved:
    """The buyer withdraws an order the supplier has not confirmed yet, with a reason."""
    reason = data.get("reason", "")
    require_reason(reason)
    return cancelled(session, order, reason)


def cancel(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    return transition(session, actor, order_id, "cancel", {"reason": reason})


def cancelled(session: Session, order: Order, reason: str) -> Moved:
    """Release what the order held; the move to cancelled that tells both parties."""
    _release(session, order)
    order.cancel_reason = reason
    order.confirm_by = None
    return Moved(S.CANCELLED, note=reason,
                 tell=tuple((organisation_id, "order_cancelled", {"reason": reason})
                            for organisation_id in (order.buyer_org_id, order.supplier_id)))


def cancel_unconfirmed(session: Session, order: Order, reason: str) -> None:
    """The 72-hour job cancels an order its supplier did not confirm (no one acts)."""
    apply_move(session, order, None, cancelled(session, order, reason))


def _release(session: Session, order: Order, lines: list[tuple[int, int]] | None = None,
             amount_fen: int | None = None) -> None:
    """Give back stock, budget and running total: of the whole order, or of the given
    (line id, quantity) pairs, valued at the order's line prices. A bidding round's award
    took no stock and gives back its bidding total; a direct purchase its direct total."""
    whole = lines is None
    by_id = {ln.id: ln for ln in order.lines}
    if lines is None:
        lines = [(ln.id, ln.quantity) for ln in order.lines]
    by_category: dict[str, int] = {}
    for line_id, quantity in lines:
        line = by_id[line_id]
        by_category[line.category_code] = (by_category.get(line.category_code, 0)
                                           + quantity * line.unit_price_fen)
    amount = sum(by_category.values())
    if amount_fen is not None and amount_fen != amount:
        raise ValueError(f"release of {amount_fen} fen does not match the lines ({amount})")
    give_back_stock(session, order, [(by_id[line_id].offer_id, quantity)
                                     for line_id, quantity in lines])
    if order.budget_state in ("reserved", "committed", "spent") and amount:
        budget.move(session, order.budget_line_id, amount, order.budget_state, "released")
    if amount:
        remove_spend(session, order, by_category)
    if whole:
        order.budget_state = "released"



# -- delivery, acceptance, invoice ----------------------------------------------------------

@step("ship", party=Party.SUPPLIER, roles=SUPPLIER_STAFF, states=(S.SIGNED,), schema=ShipSchema)
def _ship(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved:
    """The supplier ships the goods, with the carrier and the tracking number."""
    carrier, tracking_number = data.get("carrier", "").strip(), data.get("tracking_number", "").strip()
    errors = {}
    if not carrier:
        errors["carrier"] = ["Enter the carrier."]
    if not tracking_number:
        errors["tracking_number"] = ["Enter the tracking number."]
    if errors:
        raise ValidationFailed(errors=errors)
    order.carrier, order.tracking_number = carrier, tracking_number
    return Moved(S.SHIPPED, note=f"{carrier} {tracking_number}",
                 tell=((order.buyer_org_id, "order_shipped",
                        {"carrier": carrier, "tracking": tracking_number}),))


def ship(session: Session, actor: Actor, order_id: int, *, carrier: str, tracking_number: str) -> Order:
    return transition(session, actor, order_id, "ship",
                      {"carrier": carrier, "tracking_number": tracking_number})


@step("receive", party=Party.BUYER, roles=BUYERS, states=(S.SHIPPED,), schema=EmptySchema)
def _receive(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved:
    """The buyer records the goods as received; acceptance follows."""
    return Moved(S.DELIVERED, tell=((order.supplier_id, "order_delivered", {}),))


def receive(session: Session, actor: Actor, order_id: int) -> Order:
    return transition(session, actor, order_id, "receive", {})


_signals = Namespace()
acceptance_requested = _signals.signal("order-acceptance-requested")
"""Sent before an order's acceptance is recorded (sender: the order). Keyword arguments:
``session``, ``actor`` and ``panel`` (the id of the expert draw whose panel records it; None
when the buyer does). A receiver refuses by raising a MallError: mall.purchasing.experts
connects to it so that the buyer cannot accept alone while a panel of experts is required."""


@step("accept", party=Party.BUYER, roles=BUYERS, states=(S.DELIVERED,), schema=AcceptSchema)
def _accept(session: Session, actor: Actor, order: Order, data: dict, *,
            panel: int | None = None, **_context) -> Moved:
    """The acceptance record (验收书): pass, partial (with the quantities accepted) or reject."""
    acceptance_requested.send(order, session=session, actor=actor, panel=panel)
    reasons = data.get("reasons") or ""
    accepted_on: date | None = data.get("accepted_on")
    try:
        outcome = AcceptanceResult(data.get("result", ""))
    except ValueError:
        raise ValidationFailed(errors={"result": ["Choose pass, partial or reject."]}) from None
    quantities = {int(k): v for k, v in (data.get("quantities") or {}).items()}
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
        _release(session, order, lines=[(ln.id, ln.quantity - accepted[ln.id])
                                        for ln in order.lines], amount_fen=kept_back)
    if outcome is AcceptanceResult.REJECT:
        order.budget_state = "released"
        return Moved(S.RETURNED, note=reasons.strip(), data={"result": outcome.value},
                     tell=((order.supplier_id, "order_returned_goods", {"reason": reasons.strip()}),))
    return Moved(S.ACCEPTED, note=reasons.strip() or None,
                 data={"result": outcome.value, "accepted_fen": order.accepted_fen},
                 tell=((order.supplier_id, "order_accepted", {"result": outcome.value}),))


def accept(session: Session, actor: Actor, order_id: int, *, result: str,
           quantities: dict[int, int] | None = None, reasons: str = "",
           accepted_on: date | None = None) -> Order:
    return transition(session, actor, order_id, "accept",
                      {"result": result, "quantities": quantities or {}, "reasons": reasons,
                       "accepted_on": accepted_on})



@step("invoice", party=Party.SUPPLIER, roles=SUPPLIER_STAFF, states=(S.ACCEPTED, S.PAID),
      schema=InvoiceSchema)
def _invoice(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved | None:
    """The supplier records its e-invoice; payment is due within 30 days of it."""
    invoice_number = data.get("invoice_number", "").strip()
    if not invoice_number:
        raise ValidationFailed(errors={"invoice_number": ["Enter the e-invoice number."]})
    order.invoice_number = invoice_number
    if order.status is S.PAID:  # paid before payment had to wait for the invoice (old orders)
        if order.invoiced_at is not None:
            raise WrongState(N_("This order is invoiced already."), code="already_invoiced")
        order.invoiced_at = now()
        order.steps.append(OrderStep(status=S.INVOICED.value, at=order.invoiced_at,
                                     user_id=actor.user_id, note=order.invoice_number))
        order_changed(session, order, S.INVOICED.value)
        record_event(session, action="order.invoice_recorded", object_type="order",
                     object_id=order.id, actor=actor, data={"invoice": order.invoice_number})
        return None
    order.invoiced_at = now()
    order.pay_by = order.invoiced_at + timedelta(days=PAYMENT_DAYS)
    return Moved(S.INVOICED, deadline=order.pay_by, note=order.invoice_number,
                 tell=((order.buyer_org_id, "order_invoiced",
                        {"invoice": order.invoice_number, "pay_by": format_local(order.pay_by)}),))


def invoice(session: Session, actor: Actor, order_id: int, *, invoice_number: str) -> Order:
    return transition(session, actor, order_id, "invoice", {"invoice_number": invoice_number})


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



@step("rate", party=Party.BUYER, roles=BUYERS, states=(S.PAID,), schema=RateSchema)
def _rate(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved:
    """The buyer rates the supplier: quality, delivery and service, 1 to 5 stars each."""
    quality, delivery, service = (data.get(k) for k in ("quality", "delivery", "service"))
    errors = {name: ["Give 1 to 5 stars."] for name, value in
              (("quality", quality), ("delivery", delivery), ("service", service))
              if not isinstance(value, int) or not 1 <= value <= 5}
    if errors:
        raise ValidationFailed(errors=errors)
    session.add(Rating(order_id=order.id, supplier_id=order.supplier_id, quality=quality,
                       delivery=delivery, service=service,
                       comment=(data.get("comment") or "").strip() or None,
                       user_id=actor.user_id, created_at=now()))
    return Moved(S.RATED, data={"quality": quality, "delivery": delivery, "service": service},
                 tell=((order.supplier_id, "order_rated", {}),))


def rate(session: Session, actor: Actor, order_id: int, *, quality: int, delivery: int,
         service: int, comment: str = "") -> Order:
    return transition(session, actor, order_id, "rate", {"quality": quality, "delivery": delivery,
                                                         "service": service, "comment": comment})
