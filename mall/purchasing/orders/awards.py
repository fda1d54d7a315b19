"""A bidding round's confirmed award becomes an order (bidding_rounds calls this): at the
quoted prices, to the winning supplier, paid from the budget the round reserved, and from
then on the same lifecycle as a direct purchase (contract or settlement order, delivery,
acceptance, payment, returns).

The order is made as the round's outcome: no stock is taken (the supplier quoted), no
internal approval is asked (the round was the unit's decision), and its amounts count in the
unit's bidding totals, not against the direct-purchase limit (mall.purchasing.budget.limits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import Actor
from mall.core.clock import local_today, now
from mall.purchasing.budget import limits
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.orders.checkout import CONFIRM_HOURS, claim_token
from mall.purchasing.orders.models import Order, OrderLine, OrderStatus, OrderStep, PurchaseMode
from mall.purchasing.orders.steps import order_changed
from mall.purchasing.registry import transition

NUMBER_PREFIXES = {PurchaseMode.QUICK: "QB", PurchaseMode.FRAMEWORK: "FB"}


@dataclass(frozen=True)
class AwardLine:
    """One item of the award at its quoted price; an item named on a blank form has no
    product and no offer."""

    category_code: str
    title: str
    brand: str
    model: str
    unit: str
    quantity: int
    unit_price_fen: int
    product_id: int | None = None
    offer_id: int | None = None

    @property
    def amount_fen(self) -> int:
        return self.quantity * self.unit_price_fen


def place_award_order(session: Session, supplier_actor: Actor, *, reference: str,
                      mode: PurchaseMode, buyer_org_id: int, buyer_user_id: int,
                      budget_line_id: int, reserved_fen: int, lines: Sequence[AwardLine],
                      delivery_address: str, contact: str, delivery_days: int,
                      secret: bool = False, award_key: str = "") -> Order:
    """Make the order of the round ``reference`` whose award ``supplier_actor`` confirms, and
    confirm it as that supplier (its contract or settlement order follows as for any order).

    Of the ``reserved_fen`` the round held on the budget line the order keeps its total
    reserved and the rest is released. Once per award (``award_key`` tells the awards of one
    round apart: after an upheld challenge cancels the first order, the next in rank gets
    its own): a replay returns the first order."""
    prefix = NUMBER_PREFIXES.get(mode)
    if prefix is None:
        raise ValueError(f"an award order comes from a bidding round, not from {mode}")
    if not lines or any(ln.quantity <= 0 or ln.unit_price_fen < 0 for ln in lines):
        raise ValueError(f"award {reference} needs lines of positive quantity and price")
    total = sum(ln.amount_fen for ln in lines)
    if total > reserved_fen:
        raise ValueError(f"award {reference} of {total} fen exceeds the {reserved_fen} reserved")
    checkout_id, replay = claim_token(session, buyer_user_id,
                                      f"award:{reference}:{award_key}"[:80], None)
    if replay is not None:
        if len(replay) != 1:
            raise ValueError(f"award {reference} has {len(replay)} orders")
        return replay[0]
    line = session.get_one(BudgetLine, budget_line_id)
    if line.organisation_id != buyer_org_id:
        raise ValueError(f"budget line {budget_line_id} is not the buying unit's")
    moment = now()
    order = Order(
        number=f"{prefix}{local_today():%Y%m%d}{checkout_id:07d}01", checkout_id=checkout_id,
        purchase_mode=mode, buyer_org_id=buyer_org_id, buyer_user_id=buyer_user_id,
        supplier_id=supplier_actor.organisation_id, budget_line_id=line.id,
        fiscal_year=line.fiscal_year, total_fen=total, budget_state="reserved",
        delivery_address=delivery_address.strip(), delivery_days=delivery_days,
        contact=contact.strip(), secret=secret, submitted_at=moment, status=OrderStatus.SENT,
        reference=reference,
        confirm_by=moment + timedelta(hours=CONFIRM_HOURS))
    order.lines = [OrderLine(
        offer_id=ln.offer_id, product_id=ln.product_id, category_code=ln.category_code,
        title=ln.title, brand=ln.brand, model=ln.model, unit=ln.unit, quantity=ln.quantity,
        unit_price_fen=ln.unit_price_fen) for ln in lines]
    # The note names the round; the order page words it ("awarded in bidding round …").
    order.steps = [OrderStep(status="submitted", at=moment, user_id=buyer_user_id, note=reference),
                   OrderStep(status=OrderStatus.SENT.value, at=moment, deadline=order.confirm_by)]
    session.add(order)
    session.flush()
    if reserved_fen > total:
        budget.move(session, line.id, reserved_fen - total, "reserved", "released")
    by_category: dict[str, int] = {}
    for ln in lines:
        by_category[ln.category_code] = by_category.get(ln.category_code, 0) + ln.amount_fen
    limits.add_bidding_spend(session, buyer_org_id, line.fiscal_year, by_category)
    record_event(session, action="order.submitted", object_type="order", object_id=order.id,
                 actor_user_id=buyer_user_id, actor_organisation_id=buyer_org_id,
                 data={"number": order.number, "total_fen": total,
                       "supplier_id": order.supplier_id, "mode": mode.value, "round": reference})
    order_changed(session, order, "submitted")
    return transition(session, supplier_actor, order.id, "confirm", {})
