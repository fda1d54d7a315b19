"""What holds an award back: a pending challenge that may change the result (政府采购法 第五十四条
and the challenge rules: signing waits while the result may change). Read by the signing guard
(bidding_rounds.challenges) and by the award's confirmation (bidding_rounds.awards), which for a
settlement order (结算单) is the moment the order takes effect."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bidding_rounds.models import Challenge, ChallengeStatus, Quote


def pending_challenge(session: Session, round_id: int, supplier_id: int) -> Challenge | None:
    """The latest-due pending challenge of the round that may change the award of
    ``supplier_id`` (it may change the result, or it targets that supplier's quote)."""
    holder = select(Quote.id).where(Quote.round_id == round_id,
                                    Quote.supplier_id == supplier_id).scalar_subquery()
    return session.scalar(select(Challenge).where(
        Challenge.round_id == round_id, Challenge.status == ChallengeStatus.PENDING,
        or_(Challenge.may_change_result.is_(True), Challenge.target_quote_id == holder))
        .order_by(Challenge.answer_by.desc()).limit(1))
