"""Bidding rounds through their services: publication and budget, sealed quotes, closing at the
deadline with the SME deduction, failure, award and confirmation into an order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bidding_rounds import awards, closing, rounds
from bidding_rounds.models import RoundStatus
from bidding_rounds.quotes import NotEligible, RelatedSupplierQuoted
from mall.core.clock import frozen_clock, now
from mall.core.errors import Conflict, ValidationFailed
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts.models import Contract, Notice, NoticeKind
from mall.purchasing.orders.models import Order, OrderStatus
from suppliers.models import SizeClass
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds


def _line(session, unit) -> BudgetLine:
    line = session.get_one(BudgetLine, unit.line_id)
    session.refresh(line)
    return line


def _notices(session, reference: str) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.reference == reference)
                                .order_by(Notice.id)))


def test_a_round_reserves_its_ceiling_and_publishes_its_notice_at_once(session):
    unit = unit_for_rounds(session)
    bidding_round = paper_round(session, unit, ceiling_fen=800_000)
    assert bidding_round.status is RoundStatus.OPEN
    assert bidding_round.number.startswith("JJ")
    assert _line(session, unit).reserved_fen == 800_000
    assert bidding_round.deadline - bidding_round.published_at == timedelta(hours=24)
    (notice,) = _notices(session, bidding_round.number)
    assert notice.kind is NoticeKind.ROUND and notice.published_at is not None
    assert notice.body["ceiling_fen"] == 800_000 and notice.body["items"][0]["quantity"] == 100
    assert "quotes" not in notice.body


def test_the_deadline_is_never_under_an_hour(session):
    unit = unit_for_rounds(session)
    with pytest.raises(ValidationFailed) as refused:
        paper_round(session, unit, deadline=now() + timedelta(minutes=59))
    assert "deadline" in refused.value.errors
    assert _line(session, unit).reserved_fen == 0


def test_three_quotes_the_sme_deduction_changes_the_winner_and_the_award_becomes_an_order(session):
    unit = unit_for_rounds(session)
    large = make_bidder(session, size=SizeClass.LARGE)
    medium = make_bidder(session, size=SizeClass.MEDIUM)
    small = make_bidder(session, size=SizeClass.SMALL)
    start = now()
    with frozen_clock(start) as clock:
        bidding_round = paper_round(session, unit, ceiling_fen=1_000_000, sme_deduction_pct=10)
        quote(session, large, bidding_round, 9_000)
        quote(session, medium, bidding_round, 9_400)
        clock[0] = start + timedelta(minutes=5)
        quote(session, small, bidding_round, 9_900, sme_goods=True)  # 990,000 -> 891,000
        clock[0] = start + timedelta(minutes=10)
        quote(session, medium, bidding_round, 9_300)  # revised: the last one counts
        assert bidding_round.quote_count == 3
        assert rounds.ranked_quotes(session, bidding_round) == []  # sealed
        assert closing.close_due_rounds(session) == 0  # not due yet

        clock[0] = bidding_round.deadline
        with pytest.raises(Conflict):
            quote(session, large, bidding_round, 8_000)
        assert closing.close_due_rounds(session) == 1
        assert closing.close_due_rounds(session) == 0  # closed once
        session.refresh(bidding_round)
        assert bidding_round.status is RoundStatus.AWARDED
        ranked = rounds.ranked_quotes(session, bidding_round)
        assert [q.supplier_id for q in ranked] == [small.id, large.id, medium.id]
        assert [q.evaluated_fen for q in ranked] == [891_000, 900_000, 930_000]
        assert ranked[0].total_fen == 990_000  # the contract is at the real price
        result = [n for n in _notices(session, bidding_round.number)
                  if n.kind is NoticeKind.ROUND_RESULT]
        assert len(result) == 1 and len(result[0].body["quotes"]) == 3

        order = awards.confirm_award(session, small.actor, bidding_round.id)
    assert bidding_round.status is RoundStatus.CONFIRMED and bidding_round.order_id == order.id
    assert order.total_fen == 990_000 and order.status is OrderStatus.CONFIRMED
    assert [ln.unit_price_fen for ln in order.lines] == [9_900]
    assert session.scalar(select(Contract).where(Contract.order_id == order.id)) is not None
    line = _line(session, unit)
    assert line.reserved_fen == 990_000  # the order's amount; the rest of the ceiling went back


def test_fewer_than_three_quotes_fail_the_round_and_release_the_budget(session):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(2)]
    with frozen_clock(now()) as clock:
        bidding_round = paper_round(session, unit, ceiling_fen=500_000)
        for bidder in bidders:
            quote(session, bidder, bidding_round, 4_000)
        clock[0] = bidding_round.deadline + timedelta(seconds=1)
        closing.close_due_rounds(session)
    session.refresh(bidding_round)
    assert bidding_round.status is RoundStatus.FAILED
    assert bidding_round.failure_reason == "too_few_quotes"
    assert _line(session, unit).reserved_fen == 0
    kinds = [n.kind for n in _notices(session, bidding_round.number)]
    assert kinds == [NoticeKind.ROUND, NoticeKind.ROUND_FAILED]


def test_the_award_passes_to_the_runner_up_after_72_hours_and_after_a_decline(session):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(3)]
    with frozen_clock(now()) as clock:
        bidding_round = paper_round(session, unit)
        for bidder, price in zip(bidders, (7_000, 8_000, 9_000), strict=True):
            quote(session, bidder, bidding_round, price)
        clock[0] = bidding_round.deadline
        closing.close_due_rounds(session)
        clock[0] += timedelta(hours=72, seconds=1)
        with pytest.raises(Conflict):
            awards.confirm_award(session, bidders[0].actor, bidding_round.id)
        assert awards.lapse_due_awards(session) == 1
        awards.decline_award(session, bidders[1].actor, bidding_round.id, reason="无法供货")
        order = awards.confirm_award(session, bidders[2].actor, bidding_round.id)
    assert order.supplier_id == bidders[2].id and order.total_fen == 900_000
    kinds = [n.kind for n in _notices(session, bidding_round.number)]
    assert kinds.count(NoticeKind.AWARD_CHANGED) == 2


def test_a_related_supplier_is_refused_and_an_ineligible_one_too(session):
    unit = unit_for_rounds(session)
    first = make_bidder(session, legal_representative="张三")
    related = make_bidder(session, legal_representative="张 三")
    elsewhere = make_bidder(session, regions=("110000",))
    bidding_round = paper_round(session, unit)
    quote(session, first, bidding_round, 5_000)
    with pytest.raises(RelatedSupplierQuoted):
        quote(session, related, bidding_round, 4_900)
    with pytest.raises(NotEligible) as refused:
        quote(session, elsewhere, bidding_round, 4_900)
    assert "430100" in str(refused.value.errors["round"][0])
    assert bidding_round.quote_count == 1


def test_a_quote_above_the_ceiling_is_refused_with_its_reason(session):
    unit = unit_for_rounds(session)
    bidder = make_bidder(session)
    bidding_round = paper_round(session, unit, ceiling_fen=100_000, quantity=10)
    with pytest.raises(ValidationFailed) as refused:
        quote(session, bidder, bidding_round, 10_001)
    assert refused.value.code == "above_ceiling"
    assert bidding_round.quote_count == 0


def test_cancelling_an_open_round_releases_its_budget(session):
    unit = unit_for_rounds(session)
    bidding_round = paper_round(session, unit, ceiling_fen=300_000)
    rounds.cancel_round(session, unit.buyer, bidding_round.id, reason="需求变更")
    assert bidding_round.status is RoundStatus.CANCELLED
    assert _line(session, unit).reserved_fen == 0
    orders = session.scalars(select(Order).where(Order.buyer_org_id == unit.organisation.id))
    assert list(orders) == []


def test_a_pending_challenge_holds_the_confirmation_of_the_award(session):
    from bidding_rounds import challenges

    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(3)]
    with frozen_clock(now()) as clock:
        bidding_round = paper_round(session, unit)
        for bidder, price in zip(bidders, (7_000, 8_000, 9_000), strict=True):
            quote(session, bidder, bidding_round, price)
        clock[0] = bidding_round.deadline
        closing.close_due_rounds(session)
        challenges.file_challenge(session, bidders[2].actor, bidding_round.id,
                                  grounds="第一名的报价低于成本，请核查。")
        with pytest.raises(Conflict) as held:
            awards.confirm_award(session, bidders[0].actor, bidding_round.id)
    assert held.value.code == "challenge_pending"
    assert bidding_round.status is RoundStatus.AWARDED and bidding_round.order_id is None


def test_an_item_naming_an_unknown_or_unrelated_product_is_refused(session):
    from bidding_rounds.rounds import ItemInput, RoundInput, create_round
    from catalog.models import Offer
    from tests.factories.purchasing import supplier_with_offers
    from tests.factories.suppliers import DESKTOP

    unit = unit_for_rounds(session)
    paper_round(session, unit)  # enables the category
    _user, _actor, (offer_id,) = supplier_with_offers(session, code=DESKTOP)
    desktop = session.get_one(Offer, offer_id).product_id
    for product_id in (99_999_999, desktop):  # none, and a computer named on a paper item
        data = RoundInput(mode="quick", items=[ItemInput(
            category_code="A05040101", name="A4复印纸", quantity=10, unit="箱",
            product_id=product_id)], budget_line_id=unit.line_id, ceiling_fen=100_000,
            delivery_address="长沙", contact="王敏 13800001111")
        with pytest.raises(ValidationFailed) as refused:
            create_round(session, unit.buyer, data)
        assert "items.0.product_id" in refused.value.errors


def test_rounds_under_way_count_towards_the_open_tender_threshold(session):
    from mall.purchasing.budget.limits import OpenTenderRequired

    unit = unit_for_rounds(session, amount_fen=10**10)
    paper_round(session, unit, ceiling_fen=150_000_000)  # ¥1,500,000 reserved
    with pytest.raises(OpenTenderRequired):
        paper_round(session, unit, ceiling_fen=60_000_000)  # together past ¥2,000,000
    assert _line(session, unit).reserved_fen == 150_000_000  # nothing of the second held


def test_the_same_form_token_publishes_one_round_and_a_rerun_needs_a_failed_round(session):
    unit = unit_for_rounds(session)
    first = paper_round(session, unit, token="form-token-1")
    again = paper_round(session, unit, token="form-token-1")
    assert again.id == first.id
    assert _line(session, unit).reserved_fen == first.ceiling_fen
    with pytest.raises(ValidationFailed) as refused:
        paper_round(session, unit, rerun_of_id=first.id)  # still open
    assert "rerun_of_id" in refused.value.errors
