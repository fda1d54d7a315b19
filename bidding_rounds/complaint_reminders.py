"""Reminders of complaints (投诉): to the supervisor a day before a complaint's decision is due,
and once when it is overdue (the worklist flags it too). The job below (bidding_rounds.jobs
imports it) runs them; each goes out once per complaint (its flag, set on a claimed row)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds.complaints import supervisor_ids
from bidding_rounds.models import BiddingRound, Complaint, ComplaintStatus
from bidding_rounds.publication import tell
from mall.core.audit import record_event
from mall.core.clock import format_local, now
from mall.core.db import claiming
from mall.core.jobs import job

REMIND_BEFORE = timedelta(days=1)


def _numbers(session: Session, complaints: list[Complaint]) -> dict[int, str]:
    return dict(session.execute(select(BiddingRound.id, BiddingRound.number).where(
        BiddingRound.id.in_({c.round_id for c in complaints}))).all())


def remind_decisions(session: Session, moment: datetime, *, limit: int = 200) -> int:
    """Tell the supervisor a day before a pending complaint's decision is due (once each)."""
    due = list(session.scalars(claiming(
        select(Complaint).where(Complaint.status == ComplaintStatus.PENDING,
                                Complaint.reminded.is_(False),
                                Complaint.decide_by > moment,
                                Complaint.decide_by <= moment + REMIND_BEFORE)
        .order_by(Complaint.decide_by).limit(limit), session)))
    if not due:
        return 0
    supervisors, numbers = supervisor_ids(session), _numbers(session, due)
    for complaint in due:
        complaint.reminded = True
        for supervisor in supervisors:
            tell(session, supervisor, "complaint_decision_due",
                 round=numbers[complaint.round_id], deadline=format_local(complaint.decide_by))
    return len(due)


def flag_overdue(session: Session, moment: datetime, *, limit: int = 200) -> int:
    """Tell the supervisor once that a complaint's decision is overdue; audited."""
    due = list(session.scalars(claiming(
        select(Complaint).where(Complaint.status == ComplaintStatus.PENDING,
                                Complaint.overdue_notified.is_(False),
                                Complaint.decide_by < moment)
        .order_by(Complaint.decide_by).limit(limit), session)))
    if not due:
        return 0
    supervisors, numbers = supervisor_ids(session), _numbers(session, due)
    for complaint in due:
        complaint.overdue_notified = True
        complaint.reminded = True  # a reminder before the deadline is moot now
        for supervisor in supervisors:
            tell(session, supervisor, "complaint_overdue", round=numbers[complaint.round_id],
                 deadline=format_local(complaint.decide_by))
        record_event(session, action="round.complaint_overdue", object_type="bidding_round",
                     object_id=complaint.round_id,
                     data={"complaint_id": complaint.id,
                           "decide_by": complaint.decide_by.isoformat()})
    return len(due)


@job(id="bidding_rounds.complaint_reminders", seconds=15 * 60)
def remind_complaints(session) -> None:
    """A day before a complaint's decision is due, and once when it is overdue (to the
    supervisor)."""
    moment = now()
    remind_decisions(session, moment)
    flag_overdue(session, moment)
