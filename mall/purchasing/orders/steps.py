"""The order-step registry: every step of an order (and of a return of its goods) is
declared once, with the states it starts from, who takes it and its input schema, and is
taken through one path, ``transition``, that the pages and the API both call:

    transition(session, actor, order_id, "confirm", data, **context)

takes the order's row lock, checks the organisation and the role, checks the state, runs
the step's effect and, when the effect answers ``Moved``, records the step on the order's
timeline and in the audit trail and sends its notifications. Effects that move the order
more than once (a confirmation that issues a settlement order) record their further steps
with ``record_step``. The effects live in their services (orders, contracts, payments,
returns) and register with ``@step``; this module imports none of them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import (
    BUYERS,
    OVERSIGHT_STAFF,
    SUPPLIER_STAFF,
    UNIT_STAFF,
    Actor,
    OrganisationKind,
    Role,
)
from mall.core.clock import now
from mall.core.errors import MallError, NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.core.outbox import emit
from mall.purchasing.orders.models import Order, OrderStatus, OrderStep
from mall.purchasing.orders.notifications import notify

S = OrderStatus
PAYMENT_DAYS = 30  # 财库〔2019〕38号: pay within 30 days of the invoice
# Who may read orders: the unit's staff, the supplier's staff, the operator and the supervisor.
ORDER_READERS = (*UNIT_STAFF, *SUPPLIER_STAFF, *OVERSIGHT_STAFF)


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


def as_buyer(actor: Actor, order: Order, roles=BUYERS) -> None:
    if actor.organisation_id != order.buyer_org_id:
        if actor.organisation_id == order.supplier_id or actor.is_oversight:
            raise PermissionDenied("Only the purchasing unit does this.", code="buyer_required")
        raise NotFound()
    actor.require_role(*roles)


def as_supplier(actor: Actor, order: Order, roles=SUPPLIER_STAFF) -> None:
    if actor.organisation_id != order.supplier_id:
        if actor.organisation_id == order.buyer_org_id or actor.is_oversight:
            raise PermissionDenied("Only the supplier does this.", code="supplier_required")
        raise NotFound()
    actor.require_role(*roles)


def expect(order: Order, *states: OrderStatus) -> None:
    if order.status not in states:
        raise WrongState(f"Order {order.number} is {order.status.value}; this step needs "
                         f"{' or '.join(s.value for s in states)}.")


ORDER_CHANGED = "order.changed"  # outbox topic: the financing feed and its webhooks read it


def order_changed(session: Session, order: Order, step_name: str) -> None:
    """Tell the outbox an order moved (``step_name``: the timeline entry, or
    ``payee_changed``), in the caller's transaction: no query, one row written with the rest."""
    emit(session, ORDER_CHANGED, {"order_id": order.id, "step": step_name,
                                  "status": order.status.value})


def record_step(session: Session, order: Order, actor: Actor | None, status: OrderStatus, *,
          note: str | None = None, deadline=None, data: dict | None = None) -> None:
    """Move the order to ``status``: its timeline entry, the change event and the audit event
    (apply_move, and the effects that move an order more than once)."""
    order.status = status
    order.steps.append(OrderStep(status=status.value, at=now(), note=note, deadline=deadline,
                                 user_id=actor.user_id if actor else None))
    order_changed(session, order, status.value)
    session.flush()
    record_event(session, action=f"order.{status.value}", object_type="order", object_id=order.id,
                 actor=actor, data={"number": order.number, "note": note, **(data or {})})


def require_reason(reason: str) -> None:
    """A reason is given, in plain text (line breaks allowed, no other control characters)."""
    if not (reason or "").strip():
        raise ValidationFailed(errors={"reason": ["Give a reason."]})
    check_text("reason", reason, multiline=True)


# -- the registry --------------------------------------------------------------------------

class Party(enum.StrEnum):
    """Whose side takes a step."""

    BUYER = "buyer"  # the purchasing unit that placed the order
    SUPPLIER = "supplier"  # the supplier the order went to
    PARTY = "party"  # either of the two (signing: the contracts service decides which)
    OPERATOR = "operator"  # the mall's operator (a disputed return)


@dataclass(frozen=True)
class Moved:
    """What a step's effect did to the order: the status it moved to, what the timeline and
    the audit trail say, and who is told (organisation id, notification kind, parameters)."""

    status: OrderStatus
    note: str | None = None
    deadline: datetime | None = None
    data: dict | None = None
    tell: tuple[tuple[int, str, dict], ...] = ()
    before: str | None = None  # a timeline entry of its own before the move (approved)


Effect = Callable[..., Any]


@dataclass(frozen=True)
class Step:
    name: str
    party: Party
    roles: tuple[Role, ...]
    states: tuple[OrderStatus, ...]  # empty: the effect checks (the state of a return)
    schema: type[Schema]
    effect: Effect
    doc: str
    on_return: bool = False  # a step of one return of the order's goods (data["return_id"])


STEPS: dict[str, Step] = {}


def step(name: str, *, party: Party, roles: tuple[Role, ...], schema: type[Schema],
         states: tuple[OrderStatus, ...] = (), on_return: bool = False) -> Callable[[Effect], Effect]:
    """Declare an effect as the step ``name``; its docstring documents the step."""

    def register(effect: Effect) -> Effect:
        if name in STEPS:
            raise RuntimeError(f"order step {name} declared twice")
        STEPS[name] = Step(name=name, party=party, roles=roles, states=states, schema=schema,
                           effect=effect, doc=" ".join((effect.__doc__ or "").split()),
                           on_return=on_return)
        return effect

    return register


def admit(actor: Actor, order: Order, declared: Step) -> None:
    """Whether the actor's organisation and role may take the step on this order."""
    if declared.party is Party.BUYER:
        as_buyer(actor, order, declared.roles)
    elif declared.party is Party.SUPPLIER:
        as_supplier(actor, order, declared.roles)
    elif declared.party is Party.PARTY:
        if actor.organisation_id not in (order.buyer_org_id, order.supplier_id):
            if actor.is_oversight:
                raise PermissionDenied("Only the parties to the order do this.",
                                       code="party_required")
            raise NotFound()
        actor.require_role(*declared.roles)
    else:
        actor.require_role(*declared.roles)


def transition(session: Session, actor: Actor, order_id: int, name: str, data: dict,
               **context: Any) -> Any:
    """Take the step ``name`` of an order: the one path of every order step (module doc).

    ``data`` is the step's input as its schema loaded it; ``context`` carries what the
    effect needs from the application's settings (``stripe``, ``window_days``). Answers
    the order, or what the effect returns when it is not a move (a payment, a return).
    """
    declared = STEPS.get(name)
    if declared is None:
        raise NotFound()
    order = get_order(session, actor, order_id, lock=True)
    admit(actor, order, declared)
    if declared.states:
        expect(order, *declared.states)
    outcome = declared.effect(session, actor, order, data, **context)
    if not isinstance(outcome, Moved):
        return order if outcome is None else outcome
    apply_move(session, order, actor, outcome)
    return order


def apply_move(session: Session, order: Order, actor: Actor | None, moved: Moved) -> None:
    """Record what an effect answered: the timeline entries, the audit event and the
    notifications (``transition``, and the sweeps that move an order with no one acting)."""
    if moved.before:
        order.steps.append(OrderStep(status=moved.before, at=now(),
                                     user_id=actor.user_id if actor else None))
    record_step(session, order, actor, moved.status, note=moved.note, deadline=moved.deadline,
                data=moved.data)
    for organisation_id, kind, params in moved.tell:
        notify(session, organisation_id, order, kind, **params)
