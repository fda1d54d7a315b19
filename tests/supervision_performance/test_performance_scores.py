"""Supplier performance: the month's counts and score of a hand-made set of orders, each
component worked out by hand beside the assertion."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bidding_rounds import challenges, closing
from bidding_rounds.models import Complaint, ComplaintRemedy, ComplaintStatus, Quote
from catalog.models import Offer, Product
from mall.core.clock import frozen_clock
from mall.core.jobs import REGISTRY
from mall.purchasing.contracts import services as contracts
from mall.purchasing.orders import cart, checkout, jobs
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.returns import request_return
from mall.purchasing.payments import services as payments
from supervision.performance.jobs import refresh_scores
from supervision.performance.models import SupplierMonth
from supervision.performance.services import components, compute_month, score_of
from supervision.prices.models import CaseStatus, PriceCase
from tests.factories.purchasing import make_unit, supplier_with_offers, token
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds
from tests.factories.suppliers import operator_actor

MARCH = date(2026, 3, 1)
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, Monday 2 March


@pytest.fixture
def clock():
    with frozen_clock(START) as cell:
        yield cell


def _order(session, unit, offer_id, quantity=2):
    cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=quantity)
    return checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                             delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000",
                             token=token(), delivery_days=7).orders[0]


def _signed(session, unit, supplier, order):
    contracts.sign(session, supplier, order.id)
    contracts.sign(session, unit.buyer, order.id)


def _month(session, supplier) -> SupplierMonth:
    return session.scalar(select(SupplierMonth).where(
        SupplierMonth.supplier_id == supplier.organisation_id, SupplierMonth.month == MARCH))


def test_the_score_of_a_hand_made_month(session, clock):
    unit = make_unit(session)
    _user, supplier, (offer_id,) = supplier_with_offers(session, prices=(2990,), stock=1000)
    fast, slow, declined, withdrawn, lapsed = (_order(session, unit, offer_id) for _ in range(5))

    clock[0] = START + timedelta(hours=12)  # confirmed in 12 hours
    orders.confirm(session, supplier, fast.id)
    _signed(session, unit, supplier, fast)
    orders.decline(session, supplier, declined.id, reason="缺货")  # counts against it
    orders.cancel(session, unit.buyer, withdrawn.id, reason="需求取消")  # the buyer's: not counted
    clock[0] = START + timedelta(hours=36)  # confirmed in 36 hours
    orders.confirm(session, supplier, slow.id)
    _signed(session, unit, supplier, slow)
    slow_signed = clock[0]
    clock[0] = START + timedelta(hours=73)  # the fifth lapses
    assert jobs.cancel_unconfirmed(session) == 1

    clock[0] = START + timedelta(days=2)  # delivered 1.5 days after signing: on time
    orders.ship(session, supplier, fast.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, unit.buyer, fast.id)
    orders.accept(session, unit.buyer, fast.id, result="pass")
    orders.invoice(session, supplier, fast.id, invoice_number="E-1")
    payments.record_treasury_payment(session, unit.finance, fast.id, voucher_number="GK-1",
                                     paid_on=fast.invoiced_at.date(), amount_fen=fast.total_fen,
                                     payee_account_number="6230901000000001")
    orders.rate(session, unit.buyer, fast.id, quality=5, delivery=4, service=5)
    request_return(session, unit.buyer, fast.id, quantities={fast.lines[0].id: 1},
                   reason="包装破损")
    clock[0] = slow_signed + timedelta(days=7, hours=1)  # an hour past the 7 days promised
    orders.ship(session, supplier, slow.id, carrier="顺丰", tracking_number="SF2")
    orders.receive(session, unit.buyer, slow.id)
    orders.accept(session, unit.buyer, slow.id, result="partial",
                  quantities={slow.lines[0].id: 1}, reasons="一包受潮")
    offer = session.get(Offer, offer_id)
    category_id = session.get(Product, offer.product_id).category_id
    session.add(PriceCase(offer_id=offer_id, supplier_id=supplier.organisation_id,
                          product_id=offer.product_id, category_id=category_id,
                          opened_at=clock[0], status=CaseStatus.FROZEN, reasons=[],
                          price_fen=offer.price_fen, peers=0))
    session.add(PriceCase(offer_id=offer_id, supplier_id=supplier.organisation_id,
                          product_id=offer.product_id, category_id=category_id,
                          opened_at=clock[0], status=CaseStatus.DISMISSED, reasons=[],
                          price_fen=offer.price_fen, peers=0))  # found justified: not counted

    assert refresh_scores(session, today=date(2026, 3, 20)) >= 1
    row = _month(session, supplier)
    assert (row.confirmed, row.not_confirmed) == (2, 2)
    assert row.confirm_seconds == (12 + 36) * 3600
    assert (row.delivered, row.delivered_on_time) == (2, 1)
    assert (row.acceptances, row.acceptances_passed) == (2, 1)
    assert (row.returns, row.ratings, row.rating_points) == (1, 1, 14)
    assert (row.price_violations, row.challenges_upheld, row.complaints_upheld) == (1, 0, 0)
    values = {c.key: c.value for c in components(row)}
    assert values["confirmation"] == 50  # 2 of 4
    assert values["confirm_time"] == 100  # 24 hours on average: full marks
    assert values["delivery"] == 50 and values["acceptance"] == 50
    assert values["returns"] == 50  # 1 return for 2 acceptances
    assert values["ratings"] == pytest.approx((14 / 3 - 1) / 4 * 100)  # 91.67
    # (15·50 + 5·100 + 25·50 + 25·50 + 10·50 + 20·91.67) / 100 = 60.83 → 61, less 5 for the
    # frozen price case.
    assert row.score == score_of(row) == 56


def test_a_month_is_computed_again_in_place_and_other_months_are_apart(session, clock):
    unit = make_unit(session)
    _user, supplier, (offer_id,) = supplier_with_offers(session, prices=(2990,), stock=1000)
    order = _order(session, unit, offer_id)
    orders.decline(session, supplier, order.id, reason="缺货")
    compute_month(session, month=MARCH)
    assert _month(session, supplier).score == 0  # one refusal, nothing else: 0 % confirmed
    clock[0] = START + timedelta(days=1)
    second = _order(session, unit, offer_id)
    clock[0] = START + timedelta(days=1, hours=6)
    orders.confirm(session, supplier, second.id)
    compute_month(session, month=MARCH)
    rows = session.scalars(select(SupplierMonth).where(
        SupplierMonth.supplier_id == supplier.organisation_id)).all()
    assert len(rows) == 1 and (rows[0].confirmed, rows[0].not_confirmed) == (1, 1)
    compute_month(session, month=date(2026, 4, 1))
    assert session.scalar(select(SupplierMonth).where(
        SupplierMonth.supplier_id == supplier.organisation_id,
        SupplierMonth.month == date(2026, 4, 1))) is None  # nothing happened in April


def test_upheld_challenges_and_complaints_that_struck_a_quote_cost_its_supplier_points(session, clock):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(4)]
    bidding_round = paper_round(session, unit, deadline=START + timedelta(hours=2))
    for bidder, price in zip(bidders, (7_000, 8_000, 9_000, 9_500), strict=True):
        quote(session, bidder, bidding_round, price)
    clock[0] = bidding_round.deadline
    closing.close_due_rounds(session)
    operator = operator_actor(session)
    quotes = {q.supplier_id: q for q in session.scalars(select(Quote).where(
        Quote.round_id == bidding_round.id))}
    struck = challenges.file_challenge(session, bidders[2].actor, bidding_round.id,
                                       grounds="第一名报价低于成本",
                                       target_quote_id=quotes[bidders[0].id].id)
    dismissed = challenges.file_challenge(session, bidders[3].actor, bidding_round.id,
                                          grounds="第二名资质存疑",
                                          target_quote_id=quotes[bidders[1].id].id)
    challenges.answer_challenge(session, operator, struck.id, decision="upheld",
                                answer="质疑成立。", strike_quote_id=quotes[bidders[0].id].id)
    challenges.answer_challenge(session, operator, dismissed.id, decision="dismissed",
                                answer="质疑不成立。")
    compute_month(session, month=MARCH)
    rows = {row.supplier_id: row for row in session.scalars(select(SupplierMonth).where(
        SupplierMonth.month == MARCH))}
    assert rows[bidders[0].id].challenges_upheld == 1
    assert rows[bidders[0].id].score == 100 - 5  # nothing else to judge: 100, less 5
    assert bidders[1].id not in rows  # a dismissed challenge costs nothing

    # The dismissed challenger complains to the supervisor, who upholds it and strikes the
    # quote (the complaint is written as the complaints service would leave it).
    session.add(Complaint(challenge_id=dismissed.id, round_id=bidding_round.id,
                          supplier_id=bidders[3].id, filed_by_id=bidders[3].actor.user_id,
                          grounds="第二名资质造假", filed_at=clock[0], decide_by=clock[0],
                          status=ComplaintStatus.UPHELD, remedy=ComplaintRemedy.STRIKE,
                          struck_quote_id=quotes[bidders[1].id].id, decided_at=clock[0]))
    compute_month(session, month=MARCH)
    complained = session.scalar(select(SupplierMonth).where(
        SupplierMonth.supplier_id == bidders[1].id, SupplierMonth.month == MARCH))
    assert (complained.complaints_upheld, complained.score) == (1, 100 - 10)


def test_the_hourly_job_computes_the_last_month_again_in_its_first_days(session, clock):
    assert REGISTRY["supervision.performance"].seconds == 3600
    unit = make_unit(session)
    _user, supplier, (offer_id,) = supplier_with_offers(session, prices=(2990,), stock=1000)
    order = _order(session, unit, offer_id)
    orders.decline(session, supplier, order.id, reason="缺货")  # in March
    refresh_scores(session, today=date(2026, 4, 6))  # too late for March
    assert _month(session, supplier) is None
    refresh_scores(session, today=date(2026, 4, 5))
    assert _month(session, supplier).not_confirmed == 1
