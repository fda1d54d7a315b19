"""Anti-splitting fixtures: a unit buying under a budget project, by bidding-round awards of
exact amounts and by direct purchase, and the supervisor and operator who read the alerts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.auth import Actor, OrganisationKind, Role
from mall.purchasing.budget import services as budget
from mall.purchasing.orders import checkout
from mall.purchasing.orders.awards import AwardLine, place_award_order
from mall.purchasing.orders.models import Order, PurchaseMode
from tests.factories.accounts import make_member
from tests.factories.purchasing import Unit, make_unit, supplier_with_offers, token
from tests.factories.suppliers import PAPER

THRESHOLD = 200_000_000  # the default open-tender threshold, 200万元
_rounds = itertools.count(1)


@dataclass
class World:
    unit: Unit
    supplier: Actor
    offer_id: int
    price_fen: int


def make_world(session, *, price_fen: int = 100_000) -> World:
    """A unit with a budget of 1,000万元 for project 2026-BG-001 and a supplier of paper."""
    unit = make_unit(session, amount_fen=1_000_000_000)
    _user, supplier, (offer_id,) = supplier_with_offers(session, prices=(price_fen,),
                                                        stock=10_000)
    return World(unit, supplier, offer_id, price_fen)


def project_line(session, world: World, project_code: str) -> int:
    """Another budget line of the unit, for another project."""
    line = budget.create_budget_line(session, world.unit.finance, fiscal_year=checkout.fiscal_year(),
                                     project_code=project_code, project_name="信息化建设",
                                     category_code="A00000000", amount_fen=1_000_000_000)
    return line.id


def award(session, world: World, amount_fen: int, *, mode: PurchaseMode = PurchaseMode.QUICK,
          code: str = PAPER, line_id: int | None = None) -> Order:
    """A bidding round's award of ``amount_fen`` in ``code`` (one item), as the winner confirms
    it: the purchasing service makes and confirms the order."""
    line_id = line_id or world.unit.line_id
    budget.reserve(session, line_id, amount_fen)
    n = next(_rounds)
    return place_award_order(
        session, world.supplier, reference=f"JJ20261201{n:07d}", mode=mode,
        buyer_org_id=world.unit.organisation.id, buyer_user_id=world.unit.buyer.user_id,
        budget_line_id=line_id, reserved_fen=amount_fen,
        lines=[AwardLine(category_code=code, title="A4复印纸 70g", brand="得力", model="ZB-1",
                         unit="批", quantity=1, unit_price_fen=amount_fen)],
        delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000", delivery_days=10)


def buy(session, world: World, quantity: int) -> Order:
    """A direct purchase of ``quantity`` of the supplier's offer."""
    result = checkout.checkout(session, world.unit.buyer, budget_line_id=world.unit.line_id,
                               delivery_address="长沙市岳麓区麓山路1号",
                               contact="李四 13800000000", token=token(),
                               items=[(world.offer_id, quantity)])
    return result.orders[0]


def oversight(session, kind: OrganisationKind, login: str) -> tuple[User, Actor]:
    """A supervisor (监管) or operator user, English pages."""
    role = Role.SUPERVISOR if kind is OrganisationKind.SUPERVISOR else Role.OPERATOR
    user = make_member(session, kind, roles=[role], login=login)
    user.preferred_locale = "en"
    session.flush()
    return user, actor_for(user)
