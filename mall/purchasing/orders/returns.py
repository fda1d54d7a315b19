"""Returns of accepted goods (退货), agreed by both parties, refunded when the money is back.

    requested → agreed → shipped → received → completed (card refund, or the supplier's
    treasury refund recorded by the unit's finance user; nothing to refund if unpaid)
    requested → refused → disputed → agreed (operator) … or rejected (operator)

The unit asks within RETURN_WINDOW_DAYS of the acceptance, naming items, quantities and a
reason; the supplier agrees or refuses with a reason; on a refusal the unit may ask the
operator (the trading centre) to decide. Once agreed the unit sends the goods back and the
supplier confirms their receipt (stock returns then). The money comes back by a card refund
through the gateway or by the supplier's treasury refund, and only then do the budget line
and the unit's running totals move, by the refunded amount. An unpaid order owes less instead.

Every step takes the order's row lock, writes a timeline entry and an audit event, and tells
the party that acts next.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import format_local, local_today, now
from mall.core.errors import NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.core.money import format_fen
from mall.i18n_messages import N_
from mall.purchasing.budget import services as budget
from mall.purchasing.orders.checkout import restock
from mall.purchasing.orders.models import (
    OPEN_RETURN_STATUSES,
    Acceptance,
    Order,
    OrderReturn,
    OrderStatus,
    OrderStep,
    ReturnStatus,
)
from mall.purchasing.orders.notifications import notify
from mall.purchasing.orders.steps import (
    WrongState,
    as_buyer,
    as_supplier,
    get_order,
    record_step,
)
from mall.purchasing.payments.models import Payment, PaymentMethod
from mall.purchasing.payments.services import SUCCEEDED, refuse_while_in_progress
from mall.purchasing.payments.stripe_gateway import (
    CardRefund,
    PaymentGatewayError,
    StripeSettings,
    create_refund,
    retrieve_refund,
)

R = ReturnStatus
DEFAULT_WINDOW_DAYS = 7
RETURNABLE = (OrderStatus.ACCEPTED, OrderStatus.INVOICED, OrderStatus.PAID, OrderStatus.RATED)
# Returns whose goods are not (or no longer) on their way back.
_NOT_COUNTED = (R.REFUSED, R.REJECTED)
MAX_TEXT = 500


class ReturnStateConflict(WrongState):
    code = "return_state_conflict"


# -- lookups ----------------------------------------------------------------------------------

def returns_of(session: Session, order: Order) -> list[OrderReturn]:
    """An order's returns, oldest first."""
    return list(session.scalars(select(OrderReturn).where(OrderReturn.order_id == order.id)
                                .order_by(OrderReturn.id)))


def _get(session: Session, order: Order, return_id: int, *states: ReturnStatus) -> OrderReturn:
    found = session.get(OrderReturn, return_id, populate_existing=True)
    if found is None or found.order_id != order.id:
        raise NotFound()
    if states and found.status not in states:
        raise ReturnStateConflict(
            N_("This return is %(status)s; this step needs it %(needed)s."),
            params={"status": found.status.value,
                    "needed": " / ".join(s.value for s in states)})
    return found


def list_disputes(session: Session, actor: Actor, *, waiting_only: bool = False,
                  limit: int = 200) -> list[tuple[OrderReturn, Order]]:
    """Returns the unit took to the operator: those waiting for a decision first."""
    if not actor.is_oversight:
        raise PermissionDenied(code="operator_required")
    actor.require_role(Role.OPERATOR, Role.SUPERVISOR)
    query = (select(OrderReturn, Order).join(Order, Order.id == OrderReturn.order_id)
             .where(OrderReturn.disputed_at.is_not(None)))
    if waiting_only:
        query = query.where(OrderReturn.status == R.DISPUTED)
    query = query.order_by((OrderReturn.status == R.DISPUTED).desc(), OrderReturn.disputed_at.desc())
    return [(row[0], row[1]) for row in session.execute(query.limit(limit)).all()]


def returnable_quantities(session: Session, order: Order, *,
                          leaving_out: OrderReturn | None = None) -> dict[int, int]:
    """Line id → how many accepted items are not yet in a return (refused ones do not count)."""
    taken: dict[int, int] = {}
    for other in returns_of(session, order):
        if other.status in _NOT_COUNTED or other is leaving_out:
            continue
        for row in other.lines:
            taken[row["line_id"]] = taken.get(row["line_id"], 0) + row["quantity"]
    return {line.id: max(0, (line.accepted_quantity if line.accepted_quantity is not None
                             else line.quantity) - taken.get(line.id, 0))
            for line in order.lines}


def window_closes(session: Session, order: Order, window_days: int):
    """When the unit can no longer ask for a return (None: not accepted yet)."""
    acceptance = session.scalar(select(Acceptance).where(Acceptance.order_id == order.id))
    if acceptance is None:
        return None
    return acceptance.created_at + timedelta(days=window_days)


# -- the steps --------------------------------------------------------------------------------

def _text(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(errors={field: [message]})
    if len(text) > MAX_TEXT:
        raise ValidationFailed(errors={field: [N_("Keep it under 500 characters.")]})
    check_text(field, text, multiline=True)
    return text


def _record(session: Session, order: Order, ret: OrderReturn, actor: Actor | None, kind: str,
            *, note: str | None = None, **data) -> None:
    """A return step on the order's timeline (the order's own status stays) and in the audit."""
    order.steps.append(OrderStep(status=kind, at=now(), note=note,
                                 user_id=actor.user_id if actor else None))
    session.flush()
    record_event(session, action=f"order.{kind}", object_type="order", object_id=order.id,
                 actor=actor, data={"number": order.number, "return_id": ret.id, "note": note,
                                    **data})


def request_return(session: Session, actor: Actor, order_id: int, *, quantities: dict[int, int],
                   reason: str, window_days: int = DEFAULT_WINDOW_DAYS) -> OrderReturn:
    """The unit asks to send accepted goods back (items, quantities, reason) within the window."""
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order)
    if order.status not in RETURNABLE:
        raise WrongState(N_("Only accepted goods can be returned."), code="order_state_conflict")
    closes = window_closes(session, order, window_days)
    if closes is None or now() > closes:
        raise WrongState(N_("Returns could be asked for until %(deadline)s."),
                         code="return_window_closed",
                         params={"deadline": format_local(closes) if closes else "—"})
    if any(r.status in OPEN_RETURN_STATUSES for r in returns_of(session, order)):
        raise ReturnStateConflict(N_("Another return of this order is still open."),
                                  code="return_already_open")
    errors: dict[str, list[str]] = {}
    try:
        text = _text(reason, "reason", N_("Say why the goods go back."))
    except ValidationFailed as exc:
        errors.update(exc.errors)
        text = ""
    rows, amount = _chosen_lines(session, order, quantities, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    moment = now()
    ret = OrderReturn(order_id=order.id, status=R.REQUESTED, lines=rows, amount_fen=amount,
                      reason=text, requested_by=actor.user_id, requested_at=moment,
                      refund_due_fen=0, refunded_fen=0)
    session.add(ret)
    session.flush()
    _record(session, order, ret, actor, "return_requested", note=text, amount_fen=amount,
            lines=rows)
    notify(session, order.supplier_id, order, "return_requested", amount=format_fen(amount),
           reason=text)
    return ret


def _chosen_lines(session: Session, order: Order, quantities: dict[int, int],
                  errors: dict, *, leaving_out: OrderReturn | None = None) -> tuple[list, int]:
    left = returnable_quantities(session, order, leaving_out=leaving_out)
    by_id = {line.id: line for line in order.lines}
    rows, amount = [], 0
    for key, quantity in (quantities or {}).items():
        line_id = int(key)
        line = by_id.get(line_id)
        if line is None:
            errors[f"quantities.{key}"] = [N_("No such line on this order.")]
        elif isinstance(quantity, bool) or not isinstance(quantity, int) \
                or not 0 <= quantity <= left[line_id]:
            errors[f"quantities.{line_id}"] = [N_("Enter 0 up to the quantity you may still return.")]
        elif quantity:
            rows.append({"line_id": line.id, "offer_id": line.offer_id, "title": line.title,
                         "category_code": line.category_code, "quantity": quantity,
                         "unit_price_fen": line.unit_price_fen,
                         "amount_fen": quantity * line.unit_price_fen})
            amount += quantity * line.unit_price_fen
    if not rows and not any(k.startswith("quantities.") for k in errors):
        errors["quantities"] = [N_("Choose at least one item to return.")]
    return rows, amount


def agree_return(session: Session, actor: Actor, order_id: int, return_id: int) -> OrderReturn:
    """The supplier agrees: the unit sends the goods back next."""
    order = get_order(session, actor, order_id, lock=True)
    as_supplier(actor, order)
    ret = _get(session, order, return_id, R.REQUESTED)
    ret.status = R.AGREED
    ret.supplier_decided_by, ret.supplier_decided_at = actor.user_id, now()
    _record(session, order, ret, actor, "return_agreed")
    notify(session, order.buyer_org_id, order, "return_agreed")
    return ret


def refuse_return(session: Session, actor: Actor, order_id: int, return_id: int, *,
                  reason: str) -> OrderReturn:
    """The supplier refuses with a reason; the unit may take it to the operator."""
    order = get_order(session, actor, order_id, lock=True)
    as_supplier(actor, order)
    ret = _get(session, order, return_id, R.REQUESTED)
    text = _text(reason, "reason", N_("Give a reason."))
    ret.status, ret.supplier_note = R.REFUSED, text
    ret.supplier_decided_by, ret.supplier_decided_at = actor.user_id, now()
    _record(session, order, ret, actor, "return_refused", note=text)
    notify(session, order.buyer_org_id, order, "return_refused", reason=text)
    return ret


def dispute_return(session: Session, actor: Actor, order_id: int, return_id: int, *,
                   reason: str) -> OrderReturn:
    """The unit asks the operator to decide a refused return."""
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order)
    ret = _get(session, order, return_id, R.REFUSED)
    text = _text(reason, "reason", N_("Say why the operator should allow the return."))
    if any(r.status in OPEN_RETURN_STATUSES for r in returns_of(session, order)):
        raise ReturnStateConflict(N_("Another return of this order is still open."),
                                  code="return_already_open")
    errors: dict[str, list[str]] = {}
    _chosen_lines(session, order, {row["line_id"]: row["quantity"] for row in ret.lines}, errors,
                  leaving_out=ret)  # the items may have gone back by a later return
    if errors:
        raise ReturnStateConflict(N_("These items were returned meanwhile."),
                                  code="return_items_taken")
    ret.status, ret.dispute_reason, ret.disputed_at = R.DISPUTED, text, now()
    _record(session, order, ret, actor, "return_disputed", note=text)
    for operator_id in session.scalars(select(Organisation.id).where(
            Organisation.kind == OrganisationKind.OPERATOR)):
        notify(session, operator_id, order, "return_disputed", reason=text)
    return ret


def decide_dispute(session: Session, actor: Actor, order_id: int, return_id: int, *,
                   agree: bool, note: str) -> OrderReturn:
    """The operator (trading centre) decides a disputed return, with a note to both parties."""
    order = get_order(session, actor, order_id, lock=True)
    if actor.organisation_kind is not OrganisationKind.OPERATOR:
        raise PermissionDenied(N_("Only the operator decides disputes."), code="operator_required")
    actor.require_role(Role.OPERATOR)
    ret = _get(session, order, return_id, R.DISPUTED)
    text = _text(note, "note", N_("Explain the decision to both parties."))
    ret.status = R.AGREED if agree else R.REJECTED
    ret.operator_note, ret.operator_decided_by, ret.operator_decided_at = text, actor.user_id, now()
    kind = "return_dispute_agreed" if agree else "return_dispute_rejected"
    _record(session, order, ret, actor, kind, note=text)
    for organisation_id in (order.buyer_org_id, order.supplier_id):
        notify(session, organisation_id, order, kind, note=text)
    return ret


def ship_return(session: Session, actor: Actor, order_id: int, return_id: int, *, carrier: str,
                tracking_number: str) -> OrderReturn:
    """The unit sends the agreed goods back (carrier and tracking number)."""
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order)
    ret = _get(session, order, return_id, R.AGREED)
    errors: dict[str, list[str]] = {}
    for field, value, message in (("carrier", carrier, N_("Enter the carrier.")),
                                  ("tracking_number", tracking_number,
                                   N_("Enter the tracking number."))):
        if not (value or "").strip():
            errors[field] = [message]
        elif len(value.strip()) > 60:
            errors[field] = [N_("Keep it under 60 characters.")]
        else:
            check_text(field, value, errors=errors)
    if errors:
        raise ValidationFailed(errors=errors)
    ret.carrier, ret.tracking_number = carrier.strip(), tracking_number.strip()
    ret.status, ret.shipped_at = R.SHIPPED, now()
    _record(session, order, ret, actor, "return_shipped", note=f"{ret.carrier} {ret.tracking_number}")
    notify(session, order.supplier_id, order, "return_shipped", carrier=ret.carrier,
           tracking=ret.tracking_number)
    return ret


def receive_return(session: Session, actor: Actor, order_id: int, return_id: int, *,
                   settings: StripeSettings | None) -> OrderReturn:
    """The supplier confirms the goods came back: stock returns, and the money paid for them
    is refunded (by card through the gateway at once; by treasury transfer, recorded by the
    unit's finance user). An order not paid yet simply owes less."""
    order = get_order(session, actor, order_id, lock=True)
    as_supplier(actor, order)
    ret = _get(session, order, return_id, R.SHIPPED)
    # A payment still processing would land after the refund is worked out.
    refuse_while_in_progress(session, order)
    restock(session, [(row["offer_id"], row["quantity"]) for row in ret.lines])
    ret.status, ret.received_by, ret.received_at = R.RECEIVED, actor.user_id, now()
    net_paid = order.paid_fen - order.refunded_fen
    kept_after = (order.accepted_fen if order.accepted_fen is not None
                  else order.total_fen) - ret.amount_fen
    ret.refund_due_fen = max(0, min(ret.amount_fen, net_paid - kept_after))
    _record(session, order, ret, actor, "return_received", refund_due_fen=ret.refund_due_fen)
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


def retry_card_refund(session: Session, actor: Actor, order_id: int, return_id: int, *,
                      settings: StripeSettings) -> OrderReturn:
    """The supplier tries the card refund again after the gateway refused or failed it."""
    order = get_order(session, actor, order_id, lock=True)
    as_supplier(actor, order)
    ret = _get(session, order, return_id, R.RECEIVED)
    if ret.refund_method != PaymentMethod.CARD.value:
        raise ReturnStateConflict(N_("This refund is made by treasury transfer."),
                                  code="refund_not_by_card")
    _refund_by_card(session, order, ret, actor,
                    _refundable_cards(session, order, ret.refund_due_fen), settings)
    return ret


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
            settings, intent_id=payment.intent_id, amount_fen=amount,
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
        _record(session, order, ret, actor, "return_refund_pending", reference=ret.refund_reference)


def record_treasury_refund(session: Session, actor: Actor, order_id: int, return_id: int, *,
                           voucher_number: str, refunded_on: date, amount_fen: int) -> OrderReturn:
    """The unit's finance user records the supplier's refund of a treasury payment (voucher
    number, date, amount) once the money is back; only then do budget and totals move."""
    order = get_order(session, actor, order_id, lock=True)
    as_buyer(actor, order, (Role.FINANCE,))
    ret = _get(session, order, return_id, R.RECEIVED)
    if ret.refund_method != PaymentMethod.TREASURY.value:
        raise ReturnStateConflict(N_("This refund is made by card through the gateway."),
                                  code="refund_not_by_treasury")
    errors: dict[str, list[str]] = {}
    voucher = (voucher_number or "").strip()
    if not voucher:
        errors["voucher_number"] = [N_("Enter the refund voucher number.")]
    elif len(voucher) > 60:
        errors["voucher_number"] = [N_("Keep it under 60 characters.")]
    elif check_text("voucher_number", voucher, errors=errors) or "voucher_number" in errors:
        pass
    elif session.scalar(select(OrderReturn.id).join(Order, Order.id == OrderReturn.order_id).where(
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
        errors["amount_fen"] = [f"The refund due is {ret.refund_due_fen} fen."]
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


def _complete(session: Session, order: Order, ret: OrderReturn, actor: Actor | None, *,
              refunds: dict[int, int], extra_fen: int = 0) -> None:
    """The money is back (or none was paid): the return is done, and now the budget line and
    the unit's running totals move, by the refunded amount (an unpaid order by what it no
    longer owes)."""
    refunded = sum(refunds.values()) + extra_fen
    for payment_id, amount in refunds.items():
        payment = session.get(Payment, payment_id)
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
    budget.remove_from_running_totals(session, order.buyer_org_id, order.fiscal_year, by_category)
    data = {"refunded_fen": refunded, "method": ret.refund_method,
            "reference": ret.refund_reference}
    if refunded:
        _record(session, order, ret, actor, "return_refunded", note=format_fen(refunded), **data)
        for organisation_id in (order.buyer_org_id, order.supplier_id):
            notify(session, organisation_id, order, "return_refunded", amount=format_fen(refunded))
    else:
        _record(session, order, ret, actor, "return_completed", **data)
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
        order = session.get(Order, ret.order_id, with_for_update=True, populate_existing=True)
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
    _record(session, order, ret, actor, "return_refund_failed", reference=ret.refund_reference)
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
