"""Closing rounds at their deadline: the sweep claims the due rounds, ranks their quotes and
awards the first in rank, or fails the round.

Claiming selects a batch of due rounds (on PostgreSQL with FOR UPDATE SKIP LOCKED, so two
scheduler processes share the due rounds and never take one twice), then ``UPDATE … SET status
= 'closed' WHERE id IN (the batch) AND status = 'open' RETURNING id``: on SQLite writers are
serialised and the status condition makes a second claim of the same round find nothing. A
round is closed once: what closes it commits with the claim.

Ranking (docs/domain.md: SME policy): the evaluated price is the quoted total, less the round's
SME deduction (10–20 %) when the supplier declared itself small or micro and its goods are
made by an SME; the lowest evaluated price wins, ties go to the earliest final quote. With
fewer valid quotes than the round's minimum (3 by default) the round fails (流标): the failure
notice is published and the budget released."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bidding_rounds import collusion
from bidding_rounds.models import (
    Award,
    BiddingRound,
    Quote,
    QuoteStatus,
    RoundStatus,
)
from bidding_rounds.publication import (
    publish_failure_notice,
    publish_result_notice,
    quote_entry,
    tell,
)
from bidding_rounds.rounds import release_reservation
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.clock import format_local, now
from mall.core.db import claiming
from mall.core.money import format_fen
from suppliers.models import SupplierProfile

BATCH = 200


def claim_due(session: Session, moment: datetime, *, limit: int = BATCH) -> list[int]:
    """Mark up to ``limit`` open rounds past their deadline as closed; their ids.

    The due ids are selected first (locked, skipping rows another scheduler holds, on
    PostgreSQL) and then updated by id: as a subquery of the UPDATE, PostgreSQL may run the
    SELECT again for each row and claim far more than ``limit``."""
    rounds = BiddingRound.__table__
    due = list(session.scalars(claiming(
        select(rounds.c.id).where(rounds.c.status == RoundStatus.OPEN.value,
                                  rounds.c.deadline <= moment)
        .order_by(rounds.c.deadline, rounds.c.id).limit(limit), session)))
    if not due:
        return []
    claimed = session.execute(
        update(rounds).where(rounds.c.id.in_(due), rounds.c.status == RoundStatus.OPEN.value)
        .values(status=RoundStatus.CLOSED.value, closed_at=moment)
        .returning(rounds.c.id))
    return sorted(claimed.scalars())


def close_due_rounds(session: Session, *, moment: datetime | None = None,
                     limit: int = BATCH) -> int:
    """Close one batch of due rounds (the job calls it every few seconds); how many."""
    moment = moment or now()
    ids = claim_due(session, moment, limit=limit)
    if ids:
        close_claimed(session, ids, moment)
    return len(ids)


def close_claimed(session: Session, ids: Sequence[int], moment: datetime) -> None:
    """Rank and award (or fail) rounds already claimed, loading their quotes at once."""
    rounds = list(session.scalars(select(BiddingRound).where(BiddingRound.id.in_(ids))
                                  .order_by(BiddingRound.id)
                                  .execution_options(populate_existing=True)))
    quotes: dict[int, list[Quote]] = defaultdict(list)
    for quote in session.scalars(select(Quote).where(Quote.round_id.in_(ids),
                                                     Quote.status == QuoteStatus.VALID)):
        quotes[quote.round_id].append(quote)
    org_ids = {q.supplier_id for qs in quotes.values() for q in qs} | {r.buyer_org_id
                                                                       for r in rounds}
    orgs = {o.id: o for o in session.scalars(select(Organisation)
                                              .where(Organisation.id.in_(org_ids)))}
    profiles = {p.organisation_id: p for p in session.scalars(
        select(SupplierProfile).where(SupplierProfile.organisation_id.in_(org_ids)))}
    for bidding_round in rounds:
        evaluate(session, bidding_round, quotes[bidding_round.id], orgs, profiles, moment)
    collusion.record_signals(session, rounds, quotes, profiles)


def ranked(quotes: Sequence[Quote]) -> list[Quote]:
    """Lowest evaluated price first; ties by the earliest final quote."""
    return sorted(quotes, key=lambda q: (q.evaluated_fen, q.final_at, q.id))


def evaluate(session: Session, bidding_round: BiddingRound, valid: Sequence[Quote],
             orgs: dict[int, Organisation], profiles: dict[int, SupplierProfile],
             moment: datetime) -> None:
    buyer = orgs[bidding_round.buyer_org_id]
    order = ranked(valid)
    for rank, quote in enumerate(order, start=1):
        quote.rank = rank
    record_event(session, action="round.closed", object_type="bidding_round",
                 object_id=bidding_round.id,
                 data={"number": bidding_round.number, "valid_quotes": len(order),
                       "quotes": [{"supplier_id": q.supplier_id, "total_fen": q.total_fen,
                                   "evaluated_fen": q.evaluated_fen, "rank": q.rank,
                                   "final_at": q.final_at.isoformat(),
                                   "revisions": q.revisions} for q in order]})
    if len(order) < bidding_round.min_quotes:
        fail(session, bidding_round, "too_few_quotes", buyer=buyer, quote_count=len(order))
        return
    names = {item.id: (item.name, item.quantity, item.unit) for item in bidding_round.items}
    entries = [quote_entry(q, orgs[q.supplier_id],
                           bool(profiles.get(q.supplier_id) and profiles[q.supplier_id].is_sme),
                           names) for q in order]
    publish_result_notice(session, bidding_round, buyer, entries)
    award = offer_award(session, bidding_round, order[0], moment)
    tell(session, bidding_round.buyer_org_id, "round_closed", round=bidding_round.number,
         count=len(order), supplier=orgs[order[0].supplier_id].name,
         deadline=format_local(award.confirm_by))


def offer_award(session: Session, bidding_round: BiddingRound, quote: Quote,
                moment: datetime) -> Award:
    """Offer the award to a ranked quote; its supplier confirms within the window."""
    award = Award(round_id=bidding_round.id, quote_id=quote.id, rank=quote.rank or 0,
                  offered_at=moment,
                  confirm_by=moment + timedelta(hours=bidding_round.confirm_hours))
    session.add(award)
    bidding_round.status = RoundStatus.AWARDED
    tell(session, quote.supplier_id, "round_award_offered", round=bidding_round.number,
         amount=format_fen(quote.total_fen), deadline=format_local(award.confirm_by))
    return award


def fail(session: Session, bidding_round: BiddingRound, reason: str, *,
         buyer: Organisation | None = None, quote_count: int | None = None) -> None:
    """The round failed: budget released, failure notice published, the unit told."""
    bidding_round.status = RoundStatus.FAILED
    bidding_round.failure_reason = reason
    release_reservation(session, bidding_round)
    publish_failure_notice(session, bidding_round, reason, buyer, quote_count)
    if reason == "too_few_quotes":
        tell(session, bidding_round.buyer_org_id, "round_failed_too_few",
             round=bidding_round.number, count=quote_count or 0,
             minimum=bidding_round.min_quotes)
    else:
        tell(session, bidding_round.buyer_org_id, "round_failed_no_winner",
             round=bidding_round.number)
    record_event(session, action="round.failed", object_type="bidding_round",
                 object_id=bidding_round.id, data={"reason": reason})
