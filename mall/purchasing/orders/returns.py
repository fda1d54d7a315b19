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

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import BUYERS, SUPPLIER_STAFF, Actor, OrganisationKind, Role
from mall.core.clock import format_local, now
from mall.core.errors import NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.core.money import format_fen
from mall.i18n_messages import N_
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
from mall.purchasing.orders.schemas import (
    DisputeDecisionSchema,
    EmptySchema,
    ReturnCreateSchema,
    ReturnNoteSchema,
    ReturnShipSchema,
)
from mall.purchasing.orders.steps import Party, WrongState, order_changed, step, transition

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


def get_return(session: Session, order: Order, return_id: int, *states: ReturnStatus) -> OrderReturn:
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

def required_text(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(errors={field: [message]})
    if len(text) > MAX_TEXT:
        raise ValidationFailed(errors={field: [N_("Keep it under 500 characters.")]})
    check_text(field, text, multiline=True)
    return text


def record_return_step(session: Session, order: Order, ret: OrderReturn, actor: Actor | None, kind: str,
            *, note: str | None = None, **data) -> None:
    """A return step on the order's timeline (the order's own status stays) and in the audit."""
    order.steps.append(OrderStep(status=kind, at=now(), note=note,
                                 user_id=actor.user_id if actor else None))
    order_changed(session, order, kind)
    session.flush()
    record_event(session, action=f"order.{kind}", object_type="order", object_id=order.id,
                 actor=actor, data={"number": order.number, "return_id": ret.id, "note": note,
                                    **data})


@step("return-request", party=Party.BUYER, roles=BUYERS, schema=ReturnCreateSchema)
def _request_return(session: Session, actor: Actor, order: Order, data: dict, **context) -> OrderReturn:
    """The unit asks to send accepted goods back (items, quantities, reason) within the window."""
    quantities = data["quantities"]
    reason = data["reason"]
    window_days = context.get("window_days", DEFAULT_WINDOW_DAYS)
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
        text = required_text(reason, "reason", N_("Say why the goods go back."))
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
    record_return_step(session, order, ret, actor, "return_requested", note=text, amount_fen=amount,
            lines=rows)
    notify(session, order.supplier_id, order, "return_requested", amount=format_fen(amount),
           reason=text)
    return ret


def request_return(session: Session, actor: Actor, order_id: int, *, quantities: dict[int, int],
                   reason: str, window_days: int = DEFAULT_WINDOW_DAYS) -> OrderReturn:
    return transition(session, actor, order_id, "return-request",
                      {"quantities": quantities, "reason": reason}, window_days=window_days)


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


@step("return-agree", party=Party.SUPPLIER, roles=SUPPLIER_STAFF, schema=EmptySchema, on_return=True)
def _agree_return(session: Session, actor: Actor, order: Order, data: dict, **context) -> OrderReturn:
    """The supplier agrees: the unit sends the goods back next."""
    return_id = data["return_id"]
    ret = get_return(session, order, return_id, R.REQUESTED)
    ret.status = R.AGREED
    ret.supplier_decided_by, ret.supplier_decided_at = actor.user_id, now()
    record_return_step(session, order, ret, actor, "return_agreed")
    notify(session, order.buyer_org_id, order, "return_agreed")
    return ret


def agree_return(session: Session, actor: Actor, order_id: int, return_id: int) -> OrderReturn:
    return transition(session, actor, order_id, "return-agree", {"return_id": return_id})


@step("return-refuse", party=Party.SUPPLIER, roles=SUPPLIER_STAFF, schema=ReturnNoteSchema, on_return=True)
def _refuse_return(session: Session, actor: Actor, order: Order, data: dict, **context) -> OrderReturn:
    """The supplier refuses with a reason; the unit may take it to the operator."""
    ret = get_return(session, order, data["return_id"], R.REQUESTED)
    text = required_text(data["reason"], "reason", N_("Give a reason."))
    ret.status, ret.supplier_note = R.REFUSED, text
    ret.supplier_decided_by, ret.supplier_decided_at = actor.user_id, now()
    record_return_step(session, order, ret, actor, "return_refused", note=text)
    notify(session, order.buyer_org_id, order, "return_refused", reason=text)
    return ret


def refuse_return(session: Session, actor: Actor, order_id: int, return_id: int, *,
                  reason: str) -> OrderReturn:
    return transition(session, actor, order_id, "return-refuse", {"return_id": return_id, "reason": reason})


@step("return-dispute", party=Party.BUYER, roles=BUYERS, schema=ReturnNoteSchema, on_return=True)
def _dispute_return(session: Session, actor: Actor, order: Order, data: dict, **context) -> OrderReturn:
    """The unit asks the operator to decide a refused return."""
    ret = get_return(session, order, data["return_id"], R.REFUSED)
    text = required_text(data["reason"], "reason", N_("Say why the operator should allow the return."))
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
    record_return_step(session, order, ret, actor, "return_disputed", note=text)
    for operator_id in session.scalars(select(Organisation.id).where(
            Organisation.kind == OrganisationKind.OPERATOR)):
        notify(session, operator_id, order, "return_disputed", reason=text)
    return ret


def dispute_return(session: Session, actor: Actor, order_id: int, return_id: int, *,
                   reason: str) -> OrderReturn:
    return transition(session, actor, order_id, "return-dispute", {"return_id": return_id, "reason": reason})


@step("return-decide", party=Party.OPERATOR, roles=(Role.OPERATOR,),
      schema=DisputeDecisionSchema, on_return=True)
def _decide_dispute(session: Session, actor: Actor, order: Order, data: dict, **context) -> OrderReturn:
    """The operator (trading centre) decides a disputed return, with a note to both parties."""
    return_id = data["return_id"]
    agree = data["decision"] == "agree"
    note = data["note"]
    if actor.organisation_kind is not OrganisationKind.OPERATOR:
        raise PermissionDenied(N_("Only the operator decides disputes."), code="operator_required")
    actor.require_role(Role.OPERATOR)
    ret = get_return(session, order, return_id, R.DISPUTED)
    text = required_text(note, "note", N_("Explain the decision to both parties."))
    ret.status = R.AGREED if agree else R.REJECTED
    ret.operator_note, ret.operator_decided_by, ret.operator_decided_at = text, actor.user_id, now()
    kind = "return_dispute_agreed" if agree else "return_dispute_rejected"
    record_return_step(session, order, ret, actor, kind, note=text)
    for organisation_id in (order.buyer_org_id, order.supplier_id):
        notify(session, organisation_id, order, kind, note=text)
    return ret


def decide_dispute(session: Session, actor: Actor, order_id: int, return_id: int, *,
                   agree: bool, note: str) -> OrderReturn:
    return transition(session, actor, order_id, "return-decide",
                      {"return_id": return_id, "decision": "agree" if agree else "refuse", "note": note})


@step("return-ship", party=Party.BUYER, roles=BUYERS, schema=ReturnShipSchema, on_return=True)
def _ship_return(session: Session, actor: Actor, order: Order, data: dict, **context) -> OrderReturn:
    """The unit sends the agreed goods back (carrier and tracking number)."""
    return_id = data["return_id"]
    carrier = data["carrier"]
    tracking_number = data["tracking_number"]
    ret = get_return(session, order, return_id, R.AGREED)
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
    record_return_step(session, order, ret, actor, "return_shipped",
                       note=f"{ret.carrier} {ret.tracking_number}")
    notify(session, order.supplier_id, order, "return_shipped", carrier=ret.carrier,
           tracking=ret.tracking_number)
    return ret


def ship_return(session: Session, actor: Actor, order_id: int, return_id: int, *, carrier: str,
                tracking_number: str) -> OrderReturn:
    return transition(session, actor, order_id, "return-ship",
                      {"return_id": return_id, "carrier": carrier, "tracking_number": tracking_number})
