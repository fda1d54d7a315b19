"""Reading complaints (投诉): the supervisor's worklist (pending first, the most overdue first),
the supplier's own, a round's complaints for its unit and oversight, the filing view of a
challenge, and the published decisions (投诉处理决定公告) anyone may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bidding_rounds.complaints import filing_deadline
from bidding_rounds.holds import suspension_ends
from bidding_rounds.models import (
    BiddingRound,
    Challenge,
    Complaint,
    ComplaintStatus,
    Quote,
    QuoteStatus,
)
from bidding_rounds.quotes import require_supplier
from bidding_rounds.rounds import get_round
from mall.accounts.models import Organisation
from mall.core.auth import OVERSIGHT_STAFF, Actor
from mall.core.clock import local_today, now, to_local, working_days_between
from mall.core.errors import NotFound


@dataclass(frozen=True)
class ComplaintRow:
    """A complaint with its round, its challenge and the names a page shows."""

    complaint: Complaint
    round: BiddingRound
    challenge: Challenge
    supplier: str
    buyer: str
    struck_supplier: str | None = None

    @property
    def overdue(self) -> bool:
        return (self.complaint.status is ComplaintStatus.PENDING
                and now() > self.complaint.decide_by)

    @property
    def days_left(self) -> int:
        """Working days left to decide (negative: working days overdue)."""
        due, today = to_local(self.complaint.decide_by).date(), local_today()
        if due >= today:
            return working_days_between(today, due)
        return -working_days_between(due, today)

    @property
    def suspension_ends(self) -> datetime | None:
        return suspension_ends(self.complaint)

    @property
    def suspending(self) -> bool:
        ends = self.suspension_ends
        return (self.complaint.status is ComplaintStatus.PENDING and ends is not None
                and now() < ends)


def _rows(session: Session, complaints: list[Complaint]) -> list[ComplaintRow]:
    if not complaints:
        return []
    rounds = {r.id: r for r in session.scalars(select(BiddingRound).where(
        BiddingRound.id.in_({c.round_id for c in complaints})))}
    challenges = {c.id: c for c in session.scalars(select(Challenge).where(
        Challenge.id.in_({c.challenge_id for c in complaints})))}
    struck = {q.id: q.supplier_id for q in session.scalars(select(Quote).where(
        Quote.id.in_({c.struck_quote_id for c in complaints if c.struck_quote_id})))}
    org_ids = ({c.supplier_id for c in complaints} | {r.buyer_org_id for r in rounds.values()}
               | set(struck.values()))
    names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_(org_ids))).all())
    return [ComplaintRow(c, rounds[c.round_id], challenges[c.challenge_id],
                         names.get(c.supplier_id, ""),
                         names.get(rounds[c.round_id].buyer_org_id, ""),
                         names.get(struck[c.struck_quote_id]) if c.struck_quote_id else None)
            for c in complaints]


def row_of(session: Session, complaint: Complaint) -> ComplaintRow:
    """One complaint with its round, challenge and names."""
    return _rows(session, [complaint])[0]


STATUSES = ("pending", "decided", "all")


def worklist(session: Session, actor: Actor, *, status: str = "pending",
             limit: int = 200) -> list[ComplaintRow]:
    """Complaints for the supervisor (the operator reads them): pending ones by their decision
    deadline, so the overdue come first; decided ones newest first."""
    actor.require_role(*OVERSIGHT_STAFF)
    if not actor.is_oversight:
        raise NotFound()
    query = select(Complaint)
    if status == "pending":
        query = query.where(Complaint.status == ComplaintStatus.PENDING)
    elif status == "decided":
        query = query.where(Complaint.status != ComplaintStatus.PENDING)
    pending_first = case((Complaint.status == ComplaintStatus.PENDING, 0), else_=1)
    query = query.order_by(pending_first, Complaint.decide_by, Complaint.id.desc())
    return _rows(session, list(session.scalars(query.limit(limit))))


def pending_count(session: Session, *, overdue_only: bool = False) -> int:
    """Complaints waiting for the supervisor (only those past their deadline), for a home
    page's to-do."""
    query = select(func.count()).select_from(Complaint).where(
        Complaint.status == ComplaintStatus.PENDING)
    if overdue_only:
        query = query.where(Complaint.decide_by < now())
    return session.scalar(query) or 0


def complaint_row(session: Session, actor: Actor, complaint_id: int) -> ComplaintRow:
    """One complaint for oversight (the decision page)."""
    actor.require_role(*OVERSIGHT_STAFF)
    complaint = session.get(Complaint, complaint_id) if actor.is_oversight else None
    if complaint is None:
        raise NotFound()
    return _rows(session, [complaint])[0]


def strikable_quotes(session: Session, round_id: int) -> list[tuple[Quote, str]]:
    """The valid ranked quotes of a round with their suppliers' names, best first."""
    rows = session.execute(select(Quote, Organisation.name).join(
        Organisation, Organisation.id == Quote.supplier_id).where(
        Quote.round_id == round_id, Quote.status == QuoteStatus.VALID,
        Quote.rank.is_not(None)).order_by(Quote.rank)).all()
    return [(q, name) for q, name in rows]


def my_complaints(session: Session, actor: Actor, *, limit: int = 200) -> list[ComplaintRow]:
    """The acting supplier's complaints with their decisions, newest first."""
    require_supplier(actor)
    return _rows(session, list(session.scalars(select(Complaint).where(
        Complaint.supplier_id == actor.organisation_id).order_by(Complaint.id.desc())
        .limit(limit))))


def round_complaints(session: Session, actor: Actor, round_id: int) -> list[ComplaintRow]:
    """A round's complaints for its unit and for oversight (others: 404)."""
    get_round(session, actor, round_id)
    return complaints_of_round(session, round_id)


def complaints_of_round(session: Session, round_id: int) -> list[ComplaintRow]:
    """A round's complaints, for a page that has already authorised the round."""
    return _rows(session, list(session.scalars(select(Complaint).where(
        Complaint.round_id == round_id).order_by(Complaint.id))))


@dataclass(frozen=True)
class FilingView:
    """What the supplier's complaint page shows: its challenge, the period, its complaint."""

    challenge: Challenge
    round: BiddingRound
    deadline: datetime | None
    open: bool
    complaint: ComplaintRow | None


def filing_view(session: Session, actor: Actor, challenge_id: int) -> FilingView:
    """The acting supplier's challenge as it may complain about it (another's: 404)."""
    require_supplier(actor)
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or challenge.supplier_id != actor.organisation_id:
        raise NotFound()
    existing = session.scalar(select(Complaint).where(Complaint.challenge_id == challenge_id))
    deadline = filing_deadline(challenge)
    return FilingView(challenge, session.get_one(BiddingRound, challenge.round_id), deadline,
                      existing is None and deadline is not None and now() <= deadline,
                      _rows(session, [existing])[0] if existing else None)


def complaint_by_challenge(session: Session, challenge_ids: list[int]) -> dict[int, Complaint]:
    """Challenge id -> its complaint, for the challenge lists."""
    if not challenge_ids:
        return {}
    return {c.challenge_id: c for c in session.scalars(select(Complaint).where(
        Complaint.challenge_id.in_(challenge_ids)))}


def published_decisions(session: Session, *, page: int = 1,
                        page_size: int = 20) -> tuple[list[ComplaintRow], int]:
    """Decided complaints, newest decision first: the public decision notices."""
    decided = Complaint.status != ComplaintStatus.PENDING
    total = session.scalar(select(func.count()).select_from(Complaint).where(decided)) or 0
    found = list(session.scalars(select(Complaint).where(decided).order_by(
        Complaint.decided_at.desc(), Complaint.id.desc())
        .offset((page - 1) * page_size).limit(page_size)))
    return _rows(session, found), total


def published_decision(session: Session, complaint_id: int) -> ComplaintRow:
    """One decision notice (a pending complaint is not public: 404)."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.status is ComplaintStatus.PENDING:
        raise NotFound()
    return _rows(session, [complaint])[0]
