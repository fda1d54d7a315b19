"""The award after closing: the first in rank confirms within the window (72 hours by default)
or declines; if it does neither, or the unit declares it unresponsive with a reason, or an
upheld challenge strikes its quote, the award passes to the next in rank, each step published
and audited. A confirmed award becomes an order at the quoted prices through the purchasing
services (mall.purchasing.orders.awards), with its contract and the lifecycle of any order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds.closing import fail, offer_award
from bidding_rounds.holds import pending_challenge, refuse_while_suspended
from bidding_rounds.models import (
    Award,
    AwardOutcome,
    BiddingRound,
    Quote,
    QuoteStatus,
    RoundMode,
    RoundStatus,
)
from bidding_rounds.publication import publish_award_change, quote_entry, tell
from bidding_rounds.quotes import require_supplier
from bidding_rounds.rounds import get_round, require_buyer
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import Actor
from mall.core.clock import format_local, now
from mall.core.db import claiming
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.core.inputs import check_text
from mall.i18n_messages import N_
from mall.purchasing.orders.awards import AwardLine, place_award_order
from mall.purchasing.orders.models import Order, PurchaseMode
from suppliers.models import SupplierProfile

MODES = {RoundMode.QUICK: PurchaseMode.QUICK, RoundMode.FRAMEWORK: PurchaseMode.FRAMEWORK}


def pending_award(session: Session, round_id: int) -> Award | None:
    return session.scalar(select(Award).where(Award.round_id == round_id,
                                              Award.outcome == AwardOutcome.PENDING))


def _supplier_award(session: Session, actor: Actor, round_id: int) -> tuple[BiddingRound, Award,
                                                                            Quote]:
    """The round (locked) whose pending award is the acting supplier's, or refuse."""
    require_supplier(actor)
    bidding_round = session.scalar(select(BiddingRound).where(BiddingRound.id == round_id)
                                   .with_for_update())
    if bidding_round is None:
        raise NotFound()
    award = pending_award(session, round_id)
    quote = session.get(Quote, award.quote_id) if award else None
    if award is None or quote is None or quote.supplier_id != actor.organisation_id \
            or bidding_round.status is not RoundStatus.AWARDED:
        raise Conflict(N_("Your company has no award of this round waiting to be confirmed."),
                       code="no_pending_award")
    if now() > award.confirm_by:
        raise Conflict(N_("The time to confirm this award has passed; it goes to the next in "
                          "rank."), code="award_lapsed")
    return bidding_round, award, quote


def confirm_award(session: Session, actor: Actor, round_id: int) -> Order:
    """The winner confirms: the award becomes the unit's order, confirmed by the supplier."""
    bidding_round, award, quote = _supplier_award(session, actor, round_id)
    refuse_while_suspended(session, bidding_round.id, bidding_round.number)
    held = pending_challenge(session, bidding_round.id, quote.supplier_id)
    if held is not None:  # a settlement order would take effect at once, unsigned
        raise Conflict(N_("The result of bidding round %(round)s is challenged; the award can be "
                          "confirmed once the operator has answered (due by %(deadline)s)."),
                       code="challenge_pending",
                       params={"round": bidding_round.number,
                               "deadline": format_local(held.answer_by)})
    moment = now()
    items = {item.id: item for item in bidding_round.items}
    lines = [AwardLine(category_code=items[ln.item_id].category_code,
                       title=items[ln.item_id].name, brand=ln.brand, model=ln.model,
                       unit=items[ln.item_id].unit, quantity=items[ln.item_id].quantity,
                       unit_price_fen=ln.unit_price_fen,
                       product_id=items[ln.item_id].product_id, offer_id=ln.offer_id)
             for ln in quote.lines]
    order = place_award_order(
        session, actor, reference=bidding_round.number, mode=MODES[bidding_round.mode],
        buyer_org_id=bidding_round.buyer_org_id, buyer_user_id=bidding_round.buyer_user_id,
        budget_line_id=bidding_round.budget_line_id, reserved_fen=bidding_round.reserved_fen,
        lines=lines, delivery_address=bidding_round.delivery_address,
        contact=bidding_round.contact, delivery_days=bidding_round.delivery_days,
        award_key=str(award.id))
    award.outcome, award.decided_at, award.decided_by_id = (AwardOutcome.CONFIRMED, moment,
                                                            actor.user_id)
    bidding_round.status = RoundStatus.CONFIRMED
    bidding_round.order_id = order.id
    bidding_round.reserved_fen = 0  # the order holds its own amount now; the rest went back
    supplier = session.get_one(Organisation, actor.organisation_id)
    tell(session, bidding_round.buyer_org_id, "round_award_confirmed",
         round=bidding_round.number, supplier=supplier.name, order_number=order.number)
    record_event(session, action="round.award_confirmed", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor,
                 data={"quote_id": quote.id, "order": order.number, "total_fen": quote.total_fen})
    return order


def decline_award(session: Session, actor: Actor, round_id: int, *, reason: str) -> BiddingRound:
    """The winner declines (with a reason); the award passes to the next in rank."""
    reason = _reason(reason)
    bidding_round, award, _quote = _supplier_award(session, actor, round_id)
    _end(session, bidding_round, award, AwardOutcome.DECLINED, reason, actor)
    return bidding_round


def declare_unresponsive(session: Session, actor: Actor, round_id: int, *,
                         reason: str) -> BiddingRound:
    """The unit declares the awarded supplier unresponsive, with a reason; the award passes on."""
    require_buyer(actor)
    reason = _reason(reason)
    bidding_round = get_round(session, actor, round_id, lock=True)
    award = pending_award(session, round_id)
    if award is None or bidding_round.status is not RoundStatus.AWARDED:
        raise Conflict(N_("No award of this round is waiting for its supplier."),
                       code="no_pending_award")
    _end(session, bidding_round, award, AwardOutcome.UNRESPONSIVE, reason, actor)
    return bidding_round


def _reason(reason: str) -> str:
    check_text("reason", reason, multiline=True)
    if not reason.strip() or len(reason) > 500:
        raise ValidationFailed(errors={"reason": [N_("Give a reason of at most 500 "
                                                     "characters.")]})
    return reason.strip()


def lapse_due_awards(session: Session, *, moment: datetime | None = None, limit: int = 200) -> int:
    """Awards not confirmed in time pass on (the job); a second scheduler skips the rows the
    first holds."""
    moment = moment or now()
    due = list(session.scalars(claiming(
        select(Award).where(Award.outcome == AwardOutcome.PENDING, Award.confirm_by < moment)
        .order_by(Award.confirm_by).limit(limit), session)))
    for award in due:
        bidding_round = session.scalar(select(BiddingRound).where(
            BiddingRound.id == award.round_id).with_for_update())
        if bidding_round is not None and bidding_round.status is RoundStatus.AWARDED:
            _end(session, bidding_round, award, AwardOutcome.LAPSED, None, None)
    return len(due)


def _end(session: Session, bidding_round: BiddingRound, award: Award, outcome: AwardOutcome,
         reason: str | None, actor: Actor | None) -> None:
    """Close the pending award with its outcome and pass the award on."""
    moment = now()
    award.outcome, award.decided_at, award.reason = outcome, moment, reason
    award.decided_by_id = actor.user_id if actor else None
    quote = session.get_one(Quote, award.quote_id)
    record_event(session, action=f"round.award_{outcome.value}", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor,
                 data={"quote_id": quote.id, "supplier_id": quote.supplier_id,
                       "reason": reason})
    tell(session, quote.supplier_id, "round_award_lost", round=bidding_round.number)
    pass_on(session, bidding_round, previous=quote, outcome=outcome, moment=moment)


def pass_on(session: Session, bidding_round: BiddingRound, *, previous: Quote,
            outcome: AwardOutcome, moment: datetime) -> Award | None:
    """Offer the award to the next valid quote in rank not yet offered, or fail the round."""
    offered = set(session.scalars(select(Award.quote_id).where(
        Award.round_id == bidding_round.id)))
    following = session.scalar(select(Quote).where(
        Quote.round_id == bidding_round.id, Quote.status == QuoteStatus.VALID,
        Quote.id.not_in(offered) if offered else Quote.id.is_not(None))
        .order_by(Quote.rank))
    if following is None:
        fail(session, bidding_round, "no_winner")
        return None
    award = offer_award(session, bidding_round, following, moment)
    names = {item.id: (item.name, item.quantity, item.unit) for item in bidding_round.items}
    successor = session.get_one(Organisation, following.supplier_id)
    before = session.get_one(Organisation, previous.supplier_id)
    profile = session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == following.supplier_id))
    publish_award_change(session, bidding_round, previous=before.name, successor=successor.name,
                         reason=outcome.value,
                         entry=quote_entry(following, successor, bool(profile and profile.is_sme),
                                           names))
    tell(session, bidding_round.buyer_org_id, "round_award_passed", round=bidding_round.number,
         supplier=successor.name)
    return award


def awards_to_confirm(session: Session, actor: Actor) -> list[tuple[BiddingRound, Award, Quote]]:
    """The awards waiting for the acting supplier's answer, soonest deadline first."""
    require_supplier(actor)
    rows = session.execute(
        select(BiddingRound, Award, Quote).join(Award, Award.round_id == BiddingRound.id)
        .join(Quote, Quote.id == Award.quote_id)
        .where(Award.outcome == AwardOutcome.PENDING, Quote.supplier_id == actor.organisation_id)
        .order_by(Award.confirm_by))
    return [(bidding_round, award, quote) for bidding_round, award, quote in rows]


def award_history(session: Session, bidding_round: BiddingRound) -> list[Award]:
    """Every offer of the round's award in order (empty before closing)."""
    return list(session.scalars(select(Award).where(Award.round_id == bidding_round.id)
                                .order_by(Award.id)))
