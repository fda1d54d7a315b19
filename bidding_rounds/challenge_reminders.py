"""Reminders a day before the two deadlines of a challenge (质疑): to the suppliers that quoted
in a round, before its challenge period ends; to the operator, before a challenge's answer is
due. The job in bidding_rounds.jobs runs them; each reminder goes out once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bidding_rounds.challenges import (
    CHALLENGEABLE,
    FILING_DAYS,
    filing_deadline,
    operator_ids,
)
from bidding_rounds.models import BiddingRound, Challenge, ChallengeStatus, Quote
from bidding_rounds.publication import tell
from mall.core.audit import AuditEvent, record_event
from mall.core.clock import SHANGHAI, format_local, to_local, working_day_deadline
from mall.core.db import claiming

REMIND_BEFORE = timedelta(days=1)
LOOKBACK_DAYS = 31  # the longest 7 working days (Spring Festival, National Day) and margin


def remind_answers(session: Session, moment: datetime, *, limit: int = 200) -> int:
    """Tell the operator a day before a pending challenge's answer is due (once each)."""
    due = list(session.scalars(claiming(
        select(Challenge).where(Challenge.status == ChallengeStatus.PENDING,
                                Challenge.reminded.is_(False),
                                Challenge.answer_by <= moment + REMIND_BEFORE)
        .order_by(Challenge.answer_by).limit(limit), session)))
    operators = operator_ids(session) if due else []
    numbers = dict(session.execute(select(BiddingRound.id, BiddingRound.number).where(
        BiddingRound.id.in_({c.round_id for c in due}))).all()) if due else {}
    for challenge in due:
        challenge.reminded = True
        for operator in operators:
            tell(session, operator, "challenge_answer_due", round=numbers[challenge.round_id],
                 deadline=format_local(challenge.answer_by))
    return len(due)


PERIOD_REMINDED = "round.challenge_period_reminded"


def _local_day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


def remind_filing(session: Session, moment: datetime, *, limit: int = 500) -> int:
    """Tell the suppliers that quoted in a round, and have not challenged it, a day before
    its challenge period ends (once per round: an audit entry marks it)."""
    today = to_local(moment).date()
    closing_days = [day for day in (today - timedelta(days=n) for n in range(LOOKBACK_DAYS))
                    if moment < working_day_deadline(_local_day_start(day), FILING_DAYS)
                    <= moment + REMIND_BEFORE]
    if not closing_days:
        return 0
    closed_in = or_(*(BiddingRound.closed_at.between(
        _local_day_start(day), _local_day_start(day + timedelta(days=1)) - timedelta(
            microseconds=1)) for day in closing_days))
    candidates = list(session.scalars(claiming(
        select(BiddingRound).where(BiddingRound.status.in_(CHALLENGEABLE), closed_in)
        .order_by(BiddingRound.id).limit(limit), session)))
    if not candidates:
        return 0
    done = set(session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == PERIOD_REMINDED, AuditEvent.object_type == "bidding_round",
        AuditEvent.object_id.in_([str(r.id) for r in candidates]))))
    due = [r for r in candidates if str(r.id) not in done]
    if not due:
        return 0
    ids = [r.id for r in due]
    quoted = session.execute(select(Quote.round_id, Quote.supplier_id).where(
        Quote.round_id.in_(ids))).all()
    filed = set(session.execute(select(Challenge.round_id, Challenge.supplier_id).where(
        Challenge.round_id.in_(ids))).all())
    by_round: dict[int, list[int]] = {}
    for round_id, supplier_id in quoted:
        if (round_id, supplier_id) not in filed:
            by_round.setdefault(round_id, []).append(supplier_id)
    for bidding_round in due:
        deadline = filing_deadline(bidding_round)
        suppliers = sorted(by_round.get(bidding_round.id, []))
        for supplier_id in suppliers:
            tell(session, supplier_id, "challenge_period_ending", round=bidding_round.number,
                 deadline=format_local(deadline))
        record_event(session, action=PERIOD_REMINDED, object_type="bidding_round",
                     object_id=bidding_round.id, data={"suppliers": suppliers})
    return len(due)
