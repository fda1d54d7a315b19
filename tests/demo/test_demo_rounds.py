"""The demo's bidding rounds: both modes, every state, each made through the services, the
open ones still sealed, and seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from bidding_rounds import awards, quotes, rounds
from bidding_rounds.models import AwardOutcome, BiddingRound, RoundMode, RoundStatus
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.clock import now
from mall.demo.seed import seed_demo
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts.models import Contract, Notice, NoticeKind
from mall.purchasing.orders.models import Order, PurchaseMode
from suppliers.models import FrameworkAgreement

PASSWORD = "Demo-Password-1"


def _actor(session, login):
    return actor_for(session.scalars(select(User).where(User.login == login)).one())


def _by_state(session) -> dict[tuple[RoundStatus, RoundMode], list[BiddingRound]]:
    found: dict[tuple[RoundStatus, RoundMode], list[BiddingRound]] = {}
    for bidding_round in session.scalars(select(BiddingRound).order_by(BiddingRound.id)):
        found.setdefault((bidding_round.status, bidding_round.mode), []).append(bidding_round)
    return found


def test_the_demo_has_rounds_in_every_state_and_both_modes(session):
    seed_demo(session, offers=300, seed=12, password=PASSWORD, echo=lambda _m: None)
    found = _by_state(session)
    assert sorted((s.value, m.value, len(r)) for (s, m), r in found.items()) == [
        ("awarded", "framework", 1), ("confirmed", "quick", 1), ("failed", "quick", 1),
        ("open", "framework", 1), ("open", "quick", 1)]
    agreements = session.scalars(select(FrameworkAgreement)).all()
    assert len(agreements) == 2 and all(len(a.members) >= 3 for a in agreements)

    # Open rounds: due in about a day, quoted, and sealed to the buyer and the operator.
    buyer, operator = _actor(session, "unit01-buyer"), _actor(session, "operator")
    for bidding_round in found[RoundStatus.OPEN, RoundMode.QUICK] + \
            found[RoundStatus.OPEN, RoundMode.FRAMEWORK]:
        assert 20 * 3600 < (bidding_round.deadline - now()).total_seconds() < 25 * 3600
        assert bidding_round.quote_count >= 2 and rounds.is_sealed(bidding_round)
        for actor in (buyer, operator):
            seen = rounds.get_round(session, actor, bidding_round.id)
            assert rounds.ranked_quotes(session, seen) == []
        kinds = [n.kind for n in session.scalars(select(Notice).where(
            Notice.reference == bidding_round.number))]
        assert kinds == [NoticeKind.ROUND]
    (open_quick,) = found[RoundStatus.OPEN, RoundMode.QUICK]
    assert open_quick.quote_count == 3

    # supplier1 may quote in both open rounds, and has the awarded round to confirm.
    supplier1 = _actor(session, "supplier1")
    open_ids = {r.round.id for r in quotes.opportunities(session, supplier1)}
    assert open_ids == {r.id for r in found[RoundStatus.OPEN, RoundMode.QUICK]
                        + found[RoundStatus.OPEN, RoundMode.FRAMEWORK]}
    (waiting,) = awards.awards_to_confirm(session, supplier1)
    (awarded,) = found[RoundStatus.AWARDED, RoundMode.FRAMEWORK]
    assert waiting[0].id == awarded.id and waiting[1].outcome is AwardOutcome.PENDING
    assert waiting[1].confirm_by > now()

    # The failed round gave its budget back; the confirmed one is an order with its contract.
    (failed,) = found[RoundStatus.FAILED, RoundMode.QUICK]
    assert failed.failure_reason == "too_few_quotes" and failed.reserved_fen == 0
    (confirmed,) = found[RoundStatus.CONFIRMED, RoundMode.QUICK]
    order = session.get_one(Order, confirmed.order_id)
    assert order.purchase_mode is PurchaseMode.QUICK
    assert session.scalar(select(Contract).where(Contract.order_id == order.id)) is not None
    ranked = rounds.ranked_quotes(session, confirmed)
    assert ranked[0].sme_deducted and ranked[0].total_fen > min(q.total_fen for q in ranked)
    line = session.get_one(BudgetLine, failed.budget_line_id)
    session.refresh(line)
    held = line.reserved_fen + line.committed_fen  # the confirmed order's contract commits it
    assert held == sum(r.reserved_fen for r in session.scalars(select(BiddingRound)
                                    .where(BiddingRound.budget_line_id == line.id))) + sum(
        o.total_fen for o in session.scalars(select(Order).where(
            Order.budget_line_id == line.id)))


def test_seeding_twice_adds_no_round(session):
    seed_demo(session, offers=30, seed=13, password=PASSWORD, echo=lambda _m: None)
    seed_demo(session, offers=30, seed=13, password=PASSWORD, echo=lambda _m: None)
    assert session.scalar(select(func.count()).select_from(BiddingRound)) == 5
    assert session.scalar(select(func.count()).select_from(FrameworkAgreement)) == 2
