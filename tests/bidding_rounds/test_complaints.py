"""Complaints (投诉) to the supervisor after a challenge: the filing period of 15 working days on
the statutory calendar, who may complain and how often, the supervisor's decision within 30
working days with its remedies, the suspension holding the contract's signing, the reminders
and the published decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import bidding_rounds.complaint_views  # noqa: F401  (the pages, before the app is built)
from bidding_rounds import awards, challenges, closing, complaint_reads, complaint_reminders
from bidding_rounds import complaints as service
from bidding_rounds.holds import AwardSuspended, refuse_while_suspended
from bidding_rounds.models import (
    AwardOutcome,
    BiddingRound,
    Complaint,
    ComplaintRemedy,
    ComplaintStatus,
    Quote,
    QuoteStatus,
    RoundStatus,
)
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import frozen_clock
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.models import Notice, NoticeKind
from mall.purchasing.orders.models import Notification, Order, OrderStatus
from tests.factories.accounts import make_member
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds
from tests.factories.suppliers import operator_actor

# Monday 14 September 2026, 10:00 in Beijing. The challenge's answer is due on 22 September
# (Sunday 20 September is an adjusted working day); the complaint period then runs across the
# Mid-Autumn day (25 September) and National Day (1-7 October, Saturday 10 October worked).
START = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with frozen_clock(START) as cell:
        yield cell


def _supervisor(session):
    return actor_for(make_member(session, OrganisationKind.SUPERVISOR, roles=[Role.SUPERVISOR]))


def _quote_of(session, bidding_round, bidder) -> Quote:
    return session.scalars(select(Quote).where(Quote.round_id == bidding_round.id,
                                               Quote.supplier_id == bidder.id)).one()


def _answered(session, clock, *, count=4, answer=True, start=START):
    """A closed round whose second in rank challenged the winner's quote; answered (dismissed)
    two days later unless ``answer`` is false."""
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(count)]
    bidding_round = paper_round(session, unit, deadline=start + timedelta(hours=2))
    for bidder, price in zip(bidders, (7_000, 8_000, 9_000, 9_500), strict=False):
        quote(session, bidder, bidding_round, price)
    clock[0] = bidding_round.deadline
    closing.close_due_rounds(session)
    session.refresh(bidding_round)
    challenge = challenges.file_challenge(
        session, bidders[1].actor, bidding_round.id, grounds="第一名的产品不是原厂正品",
        target_quote_id=_quote_of(session, bidding_round, bidders[0]).id)
    if answer:
        clock[0] = start + timedelta(days=2)
        challenges.answer_challenge(session, operator_actor(session), challenge.id,
                                    decision="dismissed", answer="经核查，质疑不成立。")
    return unit, bidders, bidding_round, challenge


def _kinds(session, organisation_id) -> set[str]:
    return set(session.scalars(select(Notification.kind).where(
        Notification.organisation_id == organisation_id)))


def test_the_period_runs_15_working_days_after_the_answer_period_across_national_day(
        session, clock):
    _unit, bidders, _round, challenge = _answered(session, clock)
    assert challenge.answer_by == datetime(2026, 9, 22, 15, 59, 59, tzinfo=UTC)
    deadline = service.filing_deadline(challenge)
    # 23, 24, 28, 29, 30 Sep, 8, 9, 10 (Saturday, worked), 12-16, 19, 20 Oct: the 15th.
    assert deadline == datetime(2026, 10, 20, 15, 59, 59, tzinfo=UTC)
    clock[0] = deadline
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id,
                                       grounds="质疑答复未核查原厂授权", request="重新评审")
    assert complaint.status is ComplaintStatus.PENDING and complaint.request == "重新评审"
    # 30 working days after 20 October: 21 Oct ... 1 Dec (no holiday in between).
    assert complaint.decide_by == datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC)


def test_too_late_is_refused_with_the_deadline(session, clock):
    _unit, bidders, _round, challenge = _answered(session, clock)
    clock[0] = datetime(2026, 10, 20, 16, 0, 0, tzinfo=UTC)  # 21 October, 00:00 in Beijing
    with pytest.raises(Conflict) as late:
        service.file_complaint(session, bidders[1].actor, challenge.id, grounds="迟到的投诉")
    assert late.value.code == "complaint_period_over"
    assert "2026-10-20 23:59" in late.value.detail


def test_an_unanswered_challenge_may_be_complained_about_once_its_answer_is_late(
        session, clock):
    _unit, bidders, _round, challenge = _answered(session, clock, answer=False)
    clock[0] = challenge.answer_by  # the operator still has until the end of that day
    with pytest.raises(Conflict) as early:
        service.file_complaint(session, bidders[1].actor, challenge.id, grounds="未答复")
    assert early.value.code == "challenge_not_answered"
    clock[0] = challenge.answer_by + timedelta(seconds=1)
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id,
                                       grounds="采购人逾期未答复质疑")
    assert complaint.id is not None
    assert service.filing_deadline(challenge) == datetime(2026, 10, 20, 15, 59, 59, tzinfo=UTC)


def test_only_the_challenger_complains_once_with_grounds_in_bounds(session, clock):
    unit, bidders, bidding_round, challenge = _answered(session, clock)
    for stranger in (bidders[0].actor, make_bidder(session).actor, unit.buyer):
        with pytest.raises(NotFound):
            service.file_complaint(session, stranger, challenge.id, grounds="冒名投诉")
    with pytest.raises(ValidationFailed) as blank:
        service.file_complaint(session, bidders[1].actor, challenge.id, grounds="  ",
                               request="x" * 2001)
    assert set(blank.value.errors) == {"grounds", "request"}
    with pytest.raises(ValidationFailed) as control:
        service.file_complaint(session, bidders[1].actor, challenge.id, grounds="投诉\x00")
    assert "grounds" in control.value.errors
    with pytest.raises(ValidationFailed):
        service.file_complaint(session, bidders[1].actor, challenge.id, grounds="长" * 5001)
    supervisor = _supervisor(session)
    service.file_complaint(session, bidders[1].actor, challenge.id, grounds="答复不当")
    with pytest.raises(Conflict) as twice:
        service.file_complaint(session, bidders[1].actor, challenge.id, grounds="再投诉")
    assert twice.value.code == "complaint_already_filed"
    assert "complaint_filed" in _kinds(session, supervisor.organisation_id)
    assert "complaint_filed_party" in _kinds(session, bidding_round.buyer_org_id)
    operators = service.operator_ids(session)  # the one that answered the challenge, at least
    assert operators and all("complaint_filed_party" in _kinds(session, o) for o in operators)


def test_only_the_supervisor_decides_and_bad_decisions_are_refused(session, clock):
    unit, bidders, _round, challenge = _answered(session, clock)
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="不当")
    for outsider in (operator_actor(session), unit.buyer, bidders[1].actor):
        with pytest.raises(PermissionDenied):
            service.decide(session, outsider, complaint.id, decision="dismissed", reason="无")
        with pytest.raises(PermissionDenied):
            service.suspend(session, outsider, complaint.id)
    supervisor = _supervisor(session)
    with pytest.raises(ValidationFailed) as bad:
        service.decide(session, supervisor, complaint.id, decision="maybe", reason=" ")
    assert set(bad.value.errors) == {"decision", "reason"}
    with pytest.raises(ValidationFailed) as no_remedy:
        service.decide(session, supervisor, complaint.id, decision="upheld", reason="成立")
    assert set(no_remedy.value.errors) == {"remedy"}
    with pytest.raises(ValidationFailed) as no_quote:
        service.decide(session, supervisor, complaint.id, decision="upheld", reason="成立",
                       remedy="strike", strike_quote_id=999_999_999)
    assert set(no_quote.value.errors) == {"strike_quote_id"}
    with pytest.raises(NotFound):
        service.decide(session, supervisor, 999_999_999, decision="dismissed", reason="无")
    service.decide(session, supervisor, complaint.id, decision="dismissed", reason="投诉缺乏事实依据")
    assert complaint.status is ComplaintStatus.DISMISSED and complaint.remedy is None
    with pytest.raises(Conflict) as again:
        service.decide(session, supervisor, complaint.id, decision="upheld", reason="改判",
                       remedy="finding")
    assert again.value.code == "complaint_decided"
    assert "complaint_dismissed" in _kinds(session, bidders[1].id)


def test_a_suspension_holds_the_signing_and_the_decision_lifts_it(session, clock):
    unit, bidders, bidding_round, challenge = _answered(session, clock)
    winner = bidders[0]
    order = awards.confirm_award(session, winner.actor, bidding_round.id)
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="不当")
    contracts_before = order.status
    supervisor = _supervisor(session)
    service.suspend(session, supervisor, complaint.id)
    assert "complaint_suspended" in _kinds(session, winner.id)
    assert "complaint_suspended" in _kinds(session, unit.buyer.organisation_id)
    with pytest.raises(AwardSuspended) as held:
        contracts.sign(session, winner.actor, order.id)
    assert held.value.code == "award_suspended" and held.value.status == 409
    assert bidding_round.number in held.value.detail
    assert order.status is contracts_before
    with pytest.raises(Conflict):
        service.suspend(session, supervisor, complaint.id)
    service.decide(session, supervisor, complaint.id, decision="dismissed", reason="不成立")
    contracts.sign(session, winner.actor, order.id)
    assert order.status is OrderStatus.SUPPLIER_SIGNED


def test_a_suspension_ends_by_law_after_30_days(session, clock):
    _unit, bidders, bidding_round, challenge = _answered(session, clock)
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="不当")
    service.suspend(session, _supervisor(session), complaint.id)
    with pytest.raises(AwardSuspended):  # what the award's confirmation checks
        refuse_while_suspended(session, bidding_round.id, bidding_round.number)
    clock[0] = complaint.suspended_at + timedelta(days=30)
    refuse_while_suspended(session, bidding_round.id, bidding_round.number)
    assert complaint.status is ComplaintStatus.PENDING


def test_upholding_by_striking_the_winner_passes_the_award_and_publishes_it(session, clock):
    unit, bidders, bidding_round, challenge = _answered(session, clock)
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="不当")
    supervisor = _supervisor(session)
    service.suspend(session, supervisor, complaint.id)
    winner_quote = _quote_of(session, bidding_round, bidders[0])
    service.decide(session, supervisor, complaint.id, decision="upheld",
                   reason="第一名产品非原厂正品，投诉成立。", remedy="strike",
                   strike_quote_id=winner_quote.id)
    assert complaint.status is ComplaintStatus.UPHELD
    assert complaint.remedy is ComplaintRemedy.STRIKE
    assert complaint.struck_quote_id == winner_quote.id
    assert winner_quote.status is QuoteStatus.STRUCK
    pending = awards.pending_award(session, bidding_round.id)
    assert pending is not None
    assert session.get_one(Quote, pending.quote_id).supplier_id == bidders[1].id
    change = session.scalar(select(Notice).where(
        Notice.reference == bidding_round.number, Notice.kind == NoticeKind.AWARD_CHANGED))
    assert change is not None and change.body["reason"] == "struck"
    assert "complaint_upheld" in _kinds(session, bidders[1].id)
    assert "complaint_upheld_party" in _kinds(session, unit.buyer.organisation_id)
    # The decision lifted the suspension: the next in rank confirms.
    order = awards.confirm_award(session, bidders[1].actor, bidding_round.id)
    assert order.supplier_id == bidders[1].id


def test_voiding_the_result_fails_the_round_cancels_its_order_and_releases_the_budget(
        session, clock):
    unit, bidders, bidding_round, challenge = _answered(session, clock)
    order = awards.confirm_award(session, bidders[0].actor, bidding_round.id)
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="程序违法")
    service.decide(session, _supervisor(session), complaint.id, decision="upheld",
                   reason="竞价程序违法，成交结果无效。", remedy="void")
    assert complaint.remedy is ComplaintRemedy.VOID
    assert bidding_round.status is RoundStatus.FAILED
    assert bidding_round.failure_reason == service.VOIDED
    assert order.status is OrderStatus.CANCELLED
    assert bidding_round.order_id is None
    line = session.get_one(BudgetLine, unit.line_id)
    session.refresh(line)
    assert line.reserved_fen == 0
    failure = session.scalar(select(Notice).where(
        Notice.reference == bidding_round.number, Notice.kind == NoticeKind.ROUND_FAILED))
    assert failure is not None and "竞价结果撤销公告" in failure.title
    assert "complaint_voided_buyer" in _kinds(session, unit.buyer.organisation_id)
    assert session.get_one(Order, order.id).status is OrderStatus.CANCELLED


def test_a_signed_contract_is_not_voided_but_a_finding_is_recorded(session, clock):
    _unit, bidders, bidding_round, challenge = _answered(session, clock)
    order = awards.confirm_award(session, bidders[0].actor, bidding_round.id)
    contracts.sign(session, bidders[0].actor, order.id)
    contracts.sign(session, _unit.buyer, order.id)
    assert order.status is OrderStatus.SIGNED
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="不当")
    supervisor = _supervisor(session)
    with pytest.raises(Conflict) as signed:
        service.decide(session, supervisor, complaint.id, decision="upheld", reason="成立",
                       remedy="void")
    assert signed.value.code == "contract_signed"
    session.refresh(bidding_round)
    service.decide(session, supervisor, complaint.id, decision="upheld",
                   reason="采购活动违法，但合同已签订。", remedy="finding")
    assert complaint.remedy is ComplaintRemedy.FINDING
    assert session.get_one(BiddingRound, bidding_round.id).status is RoundStatus.CONFIRMED


def test_reminders_a_day_before_the_decision_and_once_when_overdue(session, clock):
    _unit, bidders, _round, challenge = _answered(session, clock)
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="不当")
    supervisor = _supervisor(session)
    due = complaint.decide_by
    assert complaint_reminders.remind_decisions(session, due - timedelta(days=2)) == 0
    assert complaint_reminders.remind_decisions(session, due - timedelta(hours=20)) == 1
    assert complaint_reminders.remind_decisions(session, due - timedelta(hours=19)) == 0
    assert "complaint_decision_due" in _kinds(session, supervisor.organisation_id)
    assert complaint_reminders.flag_overdue(session, due) == 0
    clock[0] = due + timedelta(seconds=1)
    assert complaint_reminders.flag_overdue(session, clock[0]) == 1
    assert complaint_reminders.flag_overdue(session, clock[0] + timedelta(hours=1)) == 0
    assert "complaint_overdue" in _kinds(session, supervisor.organisation_id)
    (row,) = [r for r in complaint_reads.worklist(session, supervisor)
              if r.complaint.id == complaint.id]
    assert row.overdue and row.days_left <= 0


def test_the_worklist_puts_the_overdue_first_and_decisions_are_public(session, clock):
    _unit, bidders, _round, challenge = _answered(session, clock)
    older = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="先投诉")
    clock[0] = START + timedelta(days=10)
    _unit2, others, _round2, challenge2 = _answered(session, clock, start=clock[0])
    clock[0] = START + timedelta(days=20)
    newer = service.file_complaint(session, others[1].actor, challenge2.id, grounds="后投诉")
    supervisor = _supervisor(session)
    pending_before = complaint_reads.pending_count(session, overdue_only=True)
    clock[0] = older.decide_by + timedelta(days=1)
    ids = [r.complaint.id for r in complaint_reads.worklist(session, supervisor)]
    assert ids.index(older.id) < ids.index(newer.id)
    assert complaint_reads.pending_count(session, overdue_only=True) == pending_before + 1
    def published() -> set[int]:
        return {r.complaint.id for r in complaint_reads.published_decisions(
            session, page_size=100)[0]}

    assert older.id not in published()
    with pytest.raises(NotFound):
        complaint_reads.published_decision(session, older.id)
    service.decide(session, supervisor, older.id, decision="dismissed", reason="不成立")
    assert older.id in published() and newer.id not in published()
    row = complaint_reads.published_decision(session, older.id)
    assert row.supplier and row.complaint.decision_reason == "不成立"
    with pytest.raises(PermissionDenied):
        complaint_reads.worklist(session, bidders[0].actor)
    assert session.scalar(select(Complaint.id).where(Complaint.id == newer.id)) is not None


def test_the_awards_of_a_round_without_complaints_are_not_held(session, clock):
    _unit, bidders, bidding_round, _challenge = _answered(session, clock)
    refuse_while_suspended(session, bidding_round.id, bidding_round.number)
    order = awards.confirm_award(session, bidders[0].actor, bidding_round.id)
    assert order.status is OrderStatus.CONFIRMED
    assert awards.award_history(session, bidding_round)[0].outcome is AwardOutcome.CONFIRMED


def test_a_suspension_holds_the_award_confirmation_too(session, clock):
    _unit, bidders, bidding_round, challenge = _answered(session, clock)
    complaint = service.file_complaint(session, bidders[1].actor, challenge.id, grounds="不当")
    supervisor = _supervisor(session)
    service.suspend(session, supervisor, complaint.id)
    with pytest.raises(AwardSuspended) as held:
        awards.confirm_award(session, bidders[0].actor, bidding_round.id)
    assert held.value.code == "award_suspended"
    assert awards.pending_award(session, bidding_round.id) is not None  # still offered
    service.decide(session, supervisor, complaint.id, decision="dismissed", reason="不成立")
    order = awards.confirm_award(session, bidders[0].actor, bidding_round.id)
    assert order.supplier_id == bidders[0].id
