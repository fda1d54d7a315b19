"""Challenges (质疑) of a round's result: the filing and answer periods on the statutory
calendar, who may file, signing held while a challenge may change the award, an upheld
challenge re-ranking and passing the award on, the reminders and the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import bidding_rounds.challenge_views  # noqa: F401  (the pages, before the app is built)
from bidding_rounds import awards, challenge_reminders, challenges, closing
from bidding_rounds.challenges import ChallengePending
from bidding_rounds.models import (
    AwardOutcome,
    Challenge,
    ChallengeStatus,
    Quote,
    QuoteStatus,
    RoundStatus,
)
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import frozen_clock
from mall.core.errors import Conflict, PermissionDenied, ValidationFailed
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.models import Notice, NoticeKind
from mall.purchasing.orders.models import Notification, OrderStatus
from tests.conftest import csrf_from, login
from tests.factories.accounts import make_member
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds
from tests.factories.suppliers import operator_actor

# Friday 26 September 2025, 10:00 in Beijing: the National Day holiday (1-8 October) and the
# adjusted working days (Sunday 28 September, Saturday 11 October) fall in the periods.
START = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with frozen_clock(START) as cell:
        yield cell


def _closed(session, clock, count=4, prices=(7_000, 8_000, 9_000, 9_500)):
    """A round with ``count`` quotes (lowest first wins), closed at its deadline."""
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(count)]
    bidding_round = paper_round(session, unit, deadline=START + timedelta(hours=2))
    for bidder, price in zip(bidders, prices, strict=False):
        quote(session, bidder, bidding_round, price)
    clock[0] = bidding_round.deadline
    closing.close_due_rounds(session)
    session.refresh(bidding_round)
    return unit, bidders, bidding_round


def _quote_of(session, bidding_round, bidder) -> Quote:
    return session.scalars(select(Quote).where(Quote.round_id == bidding_round.id,
                                               Quote.supplier_id == bidder.id)).one()


def test_the_filing_and_answer_periods_count_working_days_on_the_statutory_calendar(
        session, clock):
    _unit, bidders, bidding_round = _closed(session, clock)
    deadline = challenges.filing_deadline(bidding_round)
    # 28 Sep (adjusted), 29, 30 Sep, 9, 10, 11 (adjusted), 13 Oct: the 7th working day.
    assert deadline == datetime(2025, 10, 13, 15, 59, 59, tzinfo=UTC)
    clock[0] = deadline
    challenge = challenges.file_challenge(session, bidders[2].actor, bidding_round.id,
                                          grounds="第一名的样品不符合规格")
    assert challenge.answer_by == datetime(2025, 10, 22, 15, 59, 59, tzinfo=UTC)
    clock[0] = deadline + timedelta(seconds=1)
    with pytest.raises(Conflict) as late:
        challenges.file_challenge(session, bidders[3].actor, bidding_round.id, grounds="迟到")
    assert late.value.code == "challenge_period_over"


def test_only_a_supplier_that_quoted_files_once_and_only_after_closing(session, clock):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(3)]
    outsider = make_bidder(session)
    bidding_round = paper_round(session, unit, deadline=START + timedelta(hours=2))
    for bidder, price in zip(bidders, (7_000, 8_000, 9_000), strict=True):
        quote(session, bidder, bidding_round, price)
    with pytest.raises(Conflict) as sealed:
        challenges.file_challenge(session, bidders[1].actor, bidding_round.id, grounds="早")
    assert sealed.value.code == "round_not_challengeable"
    view = challenges.filing_view(session, bidders[1].actor, bidding_round.id)
    assert view.quotes == [] and not view.open  # the seal holds on this page too
    clock[0] = bidding_round.deadline
    closing.close_due_rounds(session)
    with pytest.raises(PermissionDenied) as refused:
        challenges.file_challenge(session, outsider.actor, bidding_round.id, grounds="我没报价")
    assert refused.value.code == "not_a_bidder"
    with pytest.raises(ValidationFailed):
        challenges.file_challenge(session, bidders[1].actor, bidding_round.id, grounds="  ")
    with pytest.raises(ValidationFailed):  # its own quote is not a target
        challenges.file_challenge(session, bidders[1].actor, bidding_round.id, grounds="x",
                                  target_quote_id=_quote_of(session, bidding_round,
                                                            bidders[1]).id)
    challenges.file_challenge(session, bidders[1].actor, bidding_round.id, grounds="程序违规")
    with pytest.raises(Conflict) as twice:
        challenges.file_challenge(session, bidders[1].actor, bidding_round.id, grounds="再来")
    assert twice.value.code == "challenge_already_filed"


def test_a_pending_challenge_blocks_signing_and_the_answer_lifts_it(session, clock):
    _unit, bidders, bidding_round = _closed(session, clock)
    winner = bidders[0]
    order = awards.confirm_award(session, winner.actor, bidding_round.id)
    assert order.status is OrderStatus.CONFIRMED
    # A challenge of a quote that does not hold the award does not hold the signature ...
    other = challenges.file_challenge(
        session, bidders[3].actor, bidding_round.id, grounds="第三名资质不全",
        target_quote_id=_quote_of(session, bidding_round, bidders[2]).id)
    assert other.may_change_result is False
    # ... one against the winner's quote does.
    challenge = challenges.file_challenge(
        session, bidders[1].actor, bidding_round.id, grounds="第一名的产品不是原厂正品",
        target_quote_id=_quote_of(session, bidding_round, winner).id)
    assert challenge.may_change_result is True
    with pytest.raises(ChallengePending) as held:
        contracts.sign(session, winner.actor, order.id)
    assert held.value.code == "challenge_pending" and held.value.status == 409
    assert bidding_round.number in held.value.detail
    assert order.status is OrderStatus.CONFIRMED
    operator = operator_actor(session)
    challenges.answer_challenge(session, operator, challenge.id, decision="dismissed",
                                answer="经核查，产品为原厂正品，质疑不成立。")
    assert challenge.status is ChallengeStatus.DISMISSED
    contracts.sign(session, winner.actor, order.id)
    assert order.status is OrderStatus.SUPPLIER_SIGNED
    with pytest.raises(Conflict):
        challenges.answer_challenge(session, operator, challenge.id, decision="upheld",
                                    answer="再答")


def test_an_upheld_challenge_strikes_the_winner_reranks_and_passes_the_award(session, clock):
    _unit, bidders, bidding_round = _closed(session, clock)
    winner_quote = _quote_of(session, bidding_round, bidders[0])
    challenge = challenges.file_challenge(session, bidders[2].actor, bidding_round.id,
                                          grounds="第一名报价低于成本", target_quote_id=winner_quote.id)
    operator = operator_actor(session)
    with pytest.raises(PermissionDenied):  # the supervisor reads, the operator answers
        challenges.answer_challenge(
            session, actor_for(make_member(session, OrganisationKind.SUPERVISOR)), challenge.id,
            decision="upheld", answer="成立")
    challenges.answer_challenge(session, operator, challenge.id, decision="upheld",
                                answer="质疑成立，取消第一名成交资格。",
                                strike_quote_id=winner_quote.id)
    assert winner_quote.status is QuoteStatus.STRUCK and winner_quote.rank is None
    ranks = {q.supplier_id: q.rank for q in session.scalars(select(Quote).where(
        Quote.round_id == bidding_round.id, Quote.status == QuoteStatus.VALID))}
    assert ranks == {bidders[1].id: 1, bidders[2].id: 2, bidders[3].id: 3}
    history = awards.award_history(session, bidding_round)
    assert [a.outcome for a in history] == [AwardOutcome.STRUCK, AwardOutcome.PENDING]
    assert history[1].quote_id == _quote_of(session, bidding_round, bidders[1]).id
    assert bidding_round.status is RoundStatus.AWARDED
    kinds = [n.kind for n in session.scalars(select(Notice).where(
        Notice.reference == bidding_round.number))]
    assert NoticeKind.AWARD_CHANGED in kinds
    told = {n.kind for n in session.scalars(select(Notification).where(
        Notification.organisation_id == bidders[2].id))}
    assert "challenge_upheld" in told


def test_upholding_against_a_confirmed_unsigned_award_cancels_its_order(session, clock):
    unit, bidders, bidding_round = _closed(session, clock)
    order = awards.confirm_award(session, bidders[0].actor, bidding_round.id)
    struck = _quote_of(session, bidding_round, bidders[0])
    challenge = challenges.file_challenge(session, bidders[1].actor, bidding_round.id,
                                          grounds="资质造假", target_quote_id=struck.id)
    challenges.answer_challenge(session, operator_actor(session), challenge.id,
                                decision="upheld", answer="成立", strike_quote_id=struck.id)
    session.refresh(order)
    assert order.status is OrderStatus.CANCELLED
    assert bidding_round.status is RoundStatus.AWARDED and bidding_round.order_id is None
    line = session.get_one(BudgetLine, unit.line_id)
    session.refresh(line)
    assert line.reserved_fen == bidding_round.ceiling_fen == bidding_round.reserved_fen
    pending = awards.pending_award(session, bidding_round.id)
    assert pending is not None
    assert pending.quote_id == _quote_of(session, bidding_round, bidders[1]).id


def test_striking_below_the_minimum_of_valid_quotes_fails_the_round(session, clock):
    unit, bidders, bidding_round = _closed(session, clock, count=3)
    target = _quote_of(session, bidding_round, bidders[2])  # not the winner
    challenge = challenges.file_challenge(session, bidders[1].actor, bidding_round.id,
                                          grounds="第三名串通", target_quote_id=target.id)
    challenges.answer_challenge(session, operator_actor(session), challenge.id,
                                decision="upheld", answer="成立", strike_quote_id=target.id)
    assert bidding_round.status is RoundStatus.FAILED
    assert bidding_round.failure_reason == "too_few_quotes"
    assert awards.pending_award(session, bidding_round.id) is None
    line = session.get_one(BudgetLine, unit.line_id)
    session.refresh(line)
    assert line.reserved_fen == 0


def test_reminders_go_out_a_day_before_each_deadline_once(session, clock):
    _unit, bidders, bidding_round = _closed(session, clock)
    deadline = challenges.filing_deadline(bidding_round)
    assert deadline is not None
    challenge = challenges.file_challenge(session, bidders[1].actor, bidding_round.id,
                                          grounds="程序违规")
    assert challenge_reminders.remind_filing(session, deadline - timedelta(days=2)) == 0
    moment = deadline - timedelta(hours=12)
    assert challenge_reminders.remind_filing(session, moment) == 1
    assert challenge_reminders.remind_filing(session, moment + timedelta(hours=1)) == 0
    reminded = set(session.scalars(select(Notification.organisation_id).where(
        Notification.kind == "challenge_period_ending")))
    assert {bidders[0].id, bidders[2].id, bidders[3].id} <= reminded
    assert bidders[1].id not in reminded  # it has filed already

    assert challenge_reminders.remind_answers(session, challenge.answer_by - timedelta(days=2)) == 0
    assert challenge_reminders.remind_answers(session, challenge.answer_by - timedelta(hours=20)) == 1
    assert challenge_reminders.remind_answers(session, challenge.answer_by - timedelta(hours=19)) == 0
    assert challenge.reminded is True
    assert session.scalar(select(Notification.id).where(
        Notification.kind == "challenge_answer_due")) is not None


def test_the_supplier_files_on_its_page_and_the_operator_answers_on_the_worklist(
        client, session, clock):
    _unit, bidders, bidding_round = _closed(session, clock)
    challenger = session.get_one(User, bidders[1].user.id)
    winner_quote = _quote_of(session, bidding_round, bidders[0])
    url = f"/rounds/{bidding_round.id}/challenge"
    assert login(client, challenger.login).status_code == 302
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = csrf_from(html)
    filed = client.post(url, data={"csrf_token": token, "grounds": "第一名不符合资格",
                                   "target_quote_id": str(winner_quote.id)})
    assert filed.status_code == 302
    assert "第一名不符合资格" in client.get(url).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(
        as_text=True))})

    operator_user = make_member(session, OrganisationKind.OPERATOR, roles=[Role.OPERATOR])
    assert login(client, operator_user.login).status_code == 302
    worklist = client.get("/rounds/challenges")
    text = worklist.get_data(as_text=True)
    assert worklist.status_code == 200 and bidding_round.number in text
    (challenge_id,) = session.scalars(select(Challenge.id).where(
        Challenge.round_id == bidding_round.id))
    answered = client.post(f"/rounds/challenges/{challenge_id}/answer", data={
        "csrf_token": csrf_from(text), "decision": "upheld", "answer": "质疑成立",
        "strike_quote_id": str(winner_quote.id)})
    assert answered.status_code == 302
    session.expire_all()
    assert session.get_one(Quote, winner_quote.id).status is QuoteStatus.STRUCK
