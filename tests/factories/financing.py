"""Contract financing fixtures: banks, and suppliers with signed contracts."""

from __future__ import annotations

from dataclasses import dataclass

from mall.accounts.services import actor_for
from mall.core.auth import Actor, OrganisationKind
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Order
from tests.factories.accounts import make_member
from tests.factories.purchasing import Unit, make_unit, supplier_with_offers, token


@dataclass
class Deal:
    unit: Unit
    supplier: Actor
    orders: list[Order]


def make_bank(session) -> Actor:
    """A finance partner (bank) user."""
    return actor_for(make_member(session, OrganisationKind.FINANCE_PARTNER))


def confirmed_orders(session, *, count: int = 1, unit: Unit | None = None,
                     supplier=None) -> Deal:
    """``count`` orders of one supplier, each confirmed (so each has its contract)."""
    unit = unit or make_unit(session)
    if supplier is None:
        _user, supplier, offer_ids = supplier_with_offers(session, prices=(2990,), stock=10_000)
    else:
        supplier, offer_ids = supplier
    made = []
    for _ in range(count):
        cart.add_item(session, unit.buyer, offer_id=offer_ids[0], quantity=2)
        result = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                                   delivery_address="长沙市岳麓区麓山路1号",
                                   contact="李四 13800000000", token=token())
        order = result.orders[0]
        orders.confirm(session, supplier, order.id)
        made.append(order)
    return Deal(unit, supplier, made)
