"""Demo complaints (投诉), made through the challenge and complaint services on the demo rounds
(mall.demo.rounds):

- pending, with the round suspended: ``supplier2``, second in the desktop round awarded to
  ``supplier1``, challenged supplier1's quote; the operator dismissed the challenge and
  supplier2 complained; the supervisor suspended the round (supplier1's contract waits);
- dismissed: ``supplier6``, third in the filing-cabinet round confirmed into an order,
  challenged the SME deduction, was answered, complained, and the supervisor dismissed it (the
  decision is published at /rounds/complaints/decisions).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bidding_rounds.challenges import answer_challenge, file_challenge
from bidding_rounds.complaints import decide, file_complaint, suspend
from bidding_rounds.models import BiddingRound, Complaint, Quote, RoundStatus
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.auth import Actor

LOGINS = ("operator", "supervisor", "supplier1", "supplier2", "supplier6", "supplier7")


def _round(session: Session, status: RoundStatus, winner: Actor) -> BiddingRound | None:
    """The demo round in ``status`` whose first in rank is ``winner``'s quote."""
    return session.scalar(select(BiddingRound).join(Quote, Quote.round_id == BiddingRound.id)
                          .where(BiddingRound.status == status, Quote.rank == 1,
                                 Quote.supplier_id == winner.organisation_id)
                          .order_by(BiddingRound.id).limit(1))


def seed_complaints(session: Session) -> str:
    """Create the demo's complaints (once); commits. Returns a one-line summary."""
    if session.scalar(select(func.count()).select_from(Complaint)):
        return "complaints already present"
    users = {u.login: u for u in session.scalars(select(User).where(User.login.in_(LOGINS)))}
    if set(users) != set(LOGINS):
        return "complaints: the demo users are missing"
    actors = {login: actor_for(user) for login, user in users.items()}
    awarded = _round(session, RoundStatus.AWARDED, actors["supplier1"])
    confirmed = _round(session, RoundStatus.CONFIRMED, actors["supplier7"])
    if awarded is None or confirmed is None:
        return "complaints: the demo rounds are missing"
    winner_quote = session.scalar(select(Quote.id).where(
        Quote.round_id == awarded.id, Quote.supplier_id == actors["supplier1"].organisation_id))
    pending = _complain(
        session, actors, awarded, "supplier2", target_quote_id=winner_quote,
        challenge="第一名所报台式计算机的处理器型号与竞价要求的配置不一致。",
        answer="经核查，所报型号满足“同等或以上配置”的要求，质疑不成立。",
        grounds="质疑答复未比对处理器性能参数；所报型号的基准性能低于竞价要求。",
        request="请求责令重新评审，取消第一名的成交资格。")
    suspend(session, actors["supervisor"], pending.id)
    dismissed = _complain(
        session, actors, confirmed, "supplier6", target_quote_id=None,
        challenge="成交供应商的小微企业声明函不真实，不应享受价格扣除。",
        answer="成交供应商的声明函与其登记的从业人员、营业收入一致，质疑不成立。",
        grounds="成交供应商的营业收入超过小型企业标准，价格扣除不应适用。",
        request="请求认定成交结果无效。")
    decide(session, actors["supervisor"], dismissed.id, decision="dismissed",
           reason="经调取成交供应商的纳税申报表，其上年度营业收入符合小型企业标准；"
                  "投诉缺乏事实依据，予以驳回。")
    session.commit()
    return "complaints: 1 pending (round suspended), 1 dismissed and published"


def _complain(session: Session, actors: dict[str, Actor], bidding_round: BiddingRound,
              login: str, *, target_quote_id: int | None, challenge: str, answer: str,
              grounds: str, request: str) -> Complaint:
    """A challenge by ``login``, the operator's dismissal, and ``login``'s complaint."""
    filed = file_challenge(session, actors[login], bidding_round.id, grounds=challenge,
                           target_quote_id=target_quote_id)
    answer_challenge(session, actors["operator"], filed.id, decision="dismissed", answer=answer)
    return file_complaint(session, actors[login], filed.id, grounds=grounds, request=request)
