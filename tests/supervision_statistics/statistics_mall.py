"""A small mall whose statistics are worked out by hand: two units in two provinces, an SME
and a large supplier, direct purchases in March and April 2026, a bidding round awarded and
one failed, a challenge; then the facts counted by the job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bidding_rounds import awards, challenges, closing
from mall.core.auth import Actor
from mall.core.clock import frozen_clock
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Order
from supervision.statistics import aggregates
from suppliers.listings import save_offers
from suppliers.models import SizeClass
from tests.factories.purchasing import Unit, make_unit, token
from tests.factories.rounds import Bidder, make_bidder, paper_round, quote
from tests.factories.suppliers import offer_input

MARCH = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # Tuesday 10 March 2026, 10:00 in Beijing
APRIL = datetime(2026, 4, 14, 2, 0, tzinfo=UTC)


@dataclass
class Mall:
    clock: list[datetime]
    hunan: Unit  # 430100, Changsha: the suppliers' province
    beijing: Unit  # 110100
    sme: Bidder  # medium-sized: an SME
    large: Bidder
    sme_offer: int
    large_offer: int
    deals: list[Order] = field(default_factory=list)


def buy(session, mall: Mall, unit: Unit, offer_id: int, quantity: int, supplier: Actor,
        *, confirm: bool = True) -> Order:
    """One direct purchase through the cart and checkout, confirmed by the supplier."""
    cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=quantity)
    order = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                              delivery_address="长沙市岳麓区麓山路1号",
                              contact="李四 13800000000", token=token()).orders[0]
    if confirm:
        orders.confirm(session, supplier, order.id)
        mall.deals.append(order)
    return order


def offer(session, bidder: Bidder, price_fen: int, reference: int) -> int:
    report = save_offers(session, bidder.actor, supplier_id=bidder.id, items=[
        offer_input(price_fen=price_fen, reference=reference, stock=1_000)])
    offer_id = report.results[0].offer_id
    assert offer_id, report
    return offer_id


@pytest.fixture
def clock():
    with frozen_clock(MARCH) as cell:
        yield cell


@pytest.fixture
def mall(session, clock) -> Mall:
    """The hand-worked set (see tests' docstrings for its figures), counted by the job."""
    return build(session, clock)


def build(session, clock: list[datetime]) -> Mall:
    """Make the hand-worked set with the clock frozen at MARCH; the job counts it in APRIL."""
    hunan = make_unit(session, region_code="430100")
    beijing = make_unit(session, region_code="110100")
    sme = make_bidder(session, size=SizeClass.MEDIUM)
    large = make_bidder(session, size=SizeClass.LARGE)
    built = Mall(clock, hunan, beijing, sme, large, offer(session, sme, 2_990, 3_290),
                 offer(session, large, 5_000, 6_000))
    # March: three direct deals, one order the supplier never confirmed.
    buy(session, built, hunan, built.sme_offer, 10, sme.actor)  # 29,900 of 32,900
    buy(session, built, hunan, built.large_offer, 4, large.actor)  # 20,000 of 24,000
    buy(session, built, beijing, built.sme_offer, 5, sme.actor)  # 14,950 of 16,450
    buy(session, built, hunan, built.large_offer, 1, large.actor, confirm=False)
    # March: a quick round awarded to the SME at 100 x 70.00 under a ceiling of 10,000.00,
    # challenged by a bidder; and a round with one quote only, which fails.
    others = [make_bidder(session, size=SizeClass.LARGE) for _ in range(2)]
    awarded = paper_round(session, hunan, ceiling_fen=1_000_000, quantity=100,
                          deadline=MARCH + timedelta(hours=2))
    for bidder, price in zip((sme, *others), (7_000, 8_000, 9_000), strict=True):
        quote(session, bidder, awarded, price)
    failing = paper_round(session, hunan, ceiling_fen=500_000, quantity=50,
                          deadline=MARCH + timedelta(hours=2))
    quote(session, others[0], failing, 6_000)
    clock[0] = MARCH + timedelta(hours=2)
    closing.close_due_rounds(session)
    built.deals.append(awards.confirm_award(session, sme.actor, awarded.id))
    challenges.file_challenge(session, others[1].actor, awarded.id, grounds="评审程序有误")
    # April: one more direct deal.
    clock[0] = APRIL
    buy(session, built, hunan, built.large_offer, 2, large.actor)  # 10,000 of 12,000
    aggregates.refresh(session)
    return built
