"""What every step of an order shares: who may see an order and act on it, the state check,
and how a step is recorded (on the order's timeline and in the audit trail). The steps
themselves are in mall.purchasing.orders.services (and the contract steps in contracts)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import now
from mall.core.errors import MallError, NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.purchasing.orders.models import Order, OrderStatus, OrderStep

S = OrderStatus
PAYMENT_DAYS = 30  # 财库〔2019〕38号: pay within 30 days of the invoice
BUYER_ROLES = (Role.BUYER, Role.APPROVER)
SUPPLIER_ROLES = (Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR)
PAYER_ROLES = (Role.FINANCE, Role.BUYER, Role.APPROVER)


class WrongState(MallError):
    code = "order_state_conflict"
    status = 409
    title = "The order is not at this step"


# -- who may see and act ------------------------------------------------------------------

def get_order(session: Session, actor: Actor, order_id: int, *, lock: bool = False) -> Order:
    """An order its buyer unit, its supplier or oversight may see; others get 404.

    ``lock`` (every transition) takes the order's row lock and re-reads it, so that two
    steps on one order (a cancel and a confirmation, the 72-hour job and the supplier)
    run one after the other and the second sees the first's status.
    """
    order = (session.get(Order, order_id, with_for_update=True, populate_existing=True)
             if lock else session.get(Order, order_id))
    if order is None or not (actor.organisation_id in (order.buyer_org_id, order.supplier_id)
                             or actor.is_oversight):
        raise NotFound()
    return order


def get_by_number(session: Session, actor: Actor, number: str) -> Order:
    order = session.scalar(select(Order).where(Order.number == number))
    if order is None:
        raise NotFound()
    return get_order(session, actor, order.id)


def list_orders(session: Session, actor: Actor, *, status: str | None = None,
                limit: int = 50, offset: int = 0) -> list[Order]:
    query = select(Order)
    if actor.organisation_kind is OrganisationKind.SUPPLIER:
        query = query.where(Order.supplier_id == actor.organisation_id)
    elif actor.organisation_kind is OrganisationKind.PURCHASING_UNIT:
        query = query.where(Order.buyer_org_id == actor.organisation_id)
    elif not actor.is_oversight:
        return []
    if status:
        query = query.where(Order.status == status)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit).offset(offset)))


def as_buyer(actor: Actor, order: Order, roles=BUYER_ROLES) -> None:
    if actor.organisation_id != order.buyer_org_id:
        if actor.organisation_id == order.supplier_id or actor.is_oversight:
            raise PermissionDenied("Only the purchasing unit does this.", code="buyer_required")
        raise NotFound()
    actor.require_role(*roles)


def as_supplier(actor: Actor, order: Order) -> None:
    if actor.organisation_id != order.supplier_id:
        if actor.organisation_id == order.buyer_org_id or actor.is_oversight:
            raise PermissionDenied("Only the supplier does this.", code="supplier_required")
        raise NotFound()
    actor.require_role(*SUPPLIER_ROLES)


def expect(order: Order, *states: OrderStatus) -> None:
    if order.status not in states:
        raise WrongState(f"Order {order.number} is {order.status.value}; this step needs "
                         f"{' or '.join(s.value for s in states)}.")


def record_step(session: Session, order: Order, actor: Actor | None, status: OrderStatus, *,
          note: str | None = None, deadline=None, data: dict | None = None) -> None:
    order.status = status
    order.steps.append(OrderStep(status=status.value, at=now(), note=note, deadline=deadline,
                                 user_id=actor.user_id if actor else None))
    session.flush()
    record_event(session, action=f"order.{status.value}", object_type="order", object_id=order.id,
                 actor=actor, data={"number": order.number, "note": note, **(data or {})})


def require_reason(reason: str) -> None:
    """A reason is given, in plain text (line breaks allowed, no other control characters)."""
    if not (reason or "").strip():
        raise ValidationFailed(errors={"reason": ["Give a reason."]})
    check_text("reason", reason, multiline=True)
