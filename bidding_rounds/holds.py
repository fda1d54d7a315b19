"""What holds an award back: a pending challenge that may change the result (政府采购法 第五十四条
and the challenge rules: signing waits while the result may change), and a pending complaint on
which the supervisor ordered the purchase suspended (暂停采购活动, 政府采购法 第五十七条: at most
30 days). Read by the signing guard (bidding_rounds.challenges) and by the award's confirmation
(bidding_rounds.awards), which for a settlement order (结算单) is the moment the order takes
effect."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bidding_rounds.models import Challenge, ChallengeStatus, Complaint, ComplaintStatus, Quote
from mall.core.clock import format_local, now
from mall.core.errors import MallError
from mall.i18n_messages import N_

SUSPENSION_DAYS = 30  # calendar days: the longest a supervisor may suspend a purchase


class AwardSuspended(MallError):
    code = "award_suspended"
    status = 409
    title = "The supervisor suspended the award while deciding a complaint"


def pending_challenge(session: Session, round_id: int, supplier_id: int) -> Challenge | None:
    """The latest-due pending challenge of the round that may change the award of
    ``supplier_id`` (it may change the result, or it targets that supplier's quote)."""
    holder = select(Quote.id).where(Quote.round_id == round_id,
                                    Quote.supplier_id == supplier_id).scalar_subquery()
    return session.scalar(select(Challenge).where(
        Challenge.round_id == round_id, Challenge.status == ChallengeStatus.PENDING,
        or_(Challenge.may_change_result.is_(True), Challenge.target_quote_id == holder))
        .order_by(Challenge.answer_by.desc()).limit(1))


def suspension_ends(complaint: Complaint) -> datetime | None:
    """When the suspension a complaint ordered lapses by law (None: it ordered none)."""
    if not complaint.suspended or complaint.suspended_at is None:
        return None
    return complaint.suspended_at + timedelta(days=SUSPENSION_DAYS)


def suspending_complaint(session: Session, round_id: int,
                         moment: datetime | None = None) -> Complaint | None:
    """The pending complaint of the round whose suspension still runs at ``moment``."""
    moment = moment or now()
    return session.scalar(select(Complaint).where(
        Complaint.round_id == round_id, Complaint.status == ComplaintStatus.PENDING,
        Complaint.suspended.is_(True),
        Complaint.suspended_at > moment - timedelta(days=SUSPENSION_DAYS))
        .order_by(Complaint.suspended_at.desc()).limit(1))


def refuse_while_suspended(session: Session, round_id: int, number: str) -> None:
    """Refuse to confirm the award or sign its contract while a complaint suspends the round."""
    complaint = suspending_complaint(session, round_id)
    if complaint is not None:
        ends = suspension_ends(complaint)
        raise AwardSuspended(
            N_("The supervisor suspended bidding round %(round)s while deciding a complaint; "
               "the award can be confirmed and its contract signed once the complaint is "
               "decided (by %(deadline)s) or the suspension ends (%(ends)s)."),
            params={"round": number, "deadline": format_local(complaint.decide_by),
                    "ends": format_local(ends)})
