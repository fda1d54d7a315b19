"""Acceptance experts: a pool of experts for paper, and an order whose goods were received."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.auth import Actor
from mall.purchasing.contracts import services as contracts
from mall.purchasing.experts import pool
from mall.purchasing.experts.models import ExpertProfile
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Order
from tests.factories.accounts import PASSWORD
from tests.factories.purchasing import Unit, make_unit, supplier_with_offers, token
from tests.factories.suppliers import operator_actor

_serial = itertools.count(1)
PAPER_CODES = "A0504"  # office paper (A05040101) and toner


@dataclass
class Deal:
    unit: Unit
    supplier: Actor
    order: Order


def add_experts(session, operator: Actor, count: int, *, codes: str = PAPER_CODES,
                employer_credit_code: str = "") -> list[ExpertProfile]:
    """``count`` experts of ``codes`` with unique names and logins."""
    made = []
    for _ in range(count):
        n = next(_serial)
        made.append(pool.add_expert(
            session, operator, login=f"expert-t{n}", name=f"专家甲{n}", password=PASSWORD,
            employer_name="湖南大学", employer_credit_code=employer_credit_code,
            category_codes=codes, email=f"expert{n}@example.cn"))
    return made


def expert_actor(session, profile: ExpertProfile) -> Actor:
    return actor_for(session.get(User, profile.user_id))


def placed_order(session, *, quantity: int = 4) -> Deal:
    """An order of paper, sent to its supplier."""
    unit = make_unit(session)
    _user, supplier, (offer_id,) = supplier_with_offers(session, prices=(2990,), stock=1_000)
    cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=quantity)
    order = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                              delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000",
                              token=token()).orders[0]
    return Deal(unit, supplier, order)


def signed(session, deal: Deal) -> Deal:
    orders.confirm(session, deal.supplier, deal.order.id)
    contracts.sign(session, deal.supplier, deal.order.id)
    contracts.sign(session, deal.unit.buyer, deal.order.id)
    return deal


def delivered(session, deal: Deal) -> Deal:
    orders.ship(session, deal.supplier, deal.order.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, deal.unit.buyer, deal.order.id)
    return deal


def operator(session) -> Actor:
    return operator_actor(session)
