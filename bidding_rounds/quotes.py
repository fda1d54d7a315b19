"""Sealed quotes: a supplier quotes (and may revise until the deadline; the last one counts),
each submission kept with who sent it from where.

The round's row lock serialises the quotes of one round, so that the related-party rule
(实施条例 18: the later of two suppliers with the same legal representative or controlling
shareholder is refused) and the quote count hold under concurrent quotes. A supplier sees its
own quote; nobody sees another's before the round closes (bidding_rounds.rounds)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds.eligibility import admitted_codes, caps, refusals
from bidding_rounds.models import (
    BiddingRound,
    Quote,
    QuoteLine,
    QuoteStatus,
    QuoteSubmission,
    RoundItem,
    RoundStatus,
)
from mall.core.auth import SUPPLIER_STAFF, Actor, OrganisationKind
from mall.core.clock import local_today, now
from mall.core.errors import Conflict, FieldMessage, MallError, NotFound, ValidationFailed
from mall.core.money import PRICE, format_fen, within
from mall.i18n_messages import N_
from suppliers.models import SizeClass, SupplierProfile

SMALL_OR_MICRO = (SizeClass.SMALL, SizeClass.MICRO)


class NotEligible(MallError):
    """The supplier may not quote in this round; ``errors["round"]`` says why."""

    code = "not_eligible"
    status = 403
    title = "Not eligible to quote"


class RelatedSupplierQuoted(MallError):
    code = "related_supplier_quoted"
    status = 409
    title = "A related supplier already quoted"


@dataclass(frozen=True)
class Origin:
    """Where a quote came from, kept for the collusion signals."""

    client_ip: str | None = None
    user_agent: str | None = None
    device_fingerprint: str | None = None


def require_supplier(actor: Actor) -> None:
    if actor.organisation_kind is not OrganisationKind.SUPPLIER:
        raise NotFound()
    actor.require_role(*SUPPLIER_STAFF)


def quotable_round(session: Session, round_id: int, *, lock: bool = False) -> BiddingRound:
    """A published round as suppliers see it (the notice is public; cancelled ones too)."""
    query = select(BiddingRound).where(BiddingRound.id == round_id)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound()
    return found


def own_quote(session: Session, actor: Actor, round_id: int) -> Quote | None:
    """The acting supplier's own quote in a round (never another's)."""
    require_supplier(actor)
    return session.scalar(select(Quote).where(Quote.round_id == round_id,
                                              Quote.supplier_id == actor.organisation_id))


def _key(text: str | None) -> str:
    return "".join((text or "").split()).casefold()


def _related(session: Session, bidding_round: BiddingRound, profile: SupplierProfile) -> bool:
    """Whether a supplier that already quoted shares the legal representative or the
    controlling shareholder (names compared without spaces or case)."""
    others = session.execute(
        select(SupplierProfile.legal_representative, SupplierProfile.controlling_shareholder)
        .join(Quote, Quote.supplier_id == SupplierProfile.organisation_id)
        .where(Quote.round_id == bidding_round.id, Quote.status == QuoteStatus.VALID,
               Quote.supplier_id != profile.organisation_id)).all()
    mine = {_key(profile.legal_representative)} - {""}, {_key(profile.controlling_shareholder)} - {""}
    return any(_key(rep) in mine[0] or _key(holder) in mine[1] for rep, holder in others)


def submit_quote(session: Session, actor: Actor, round_id: int, *,
                 lines: Sequence[tuple[int, int]], sme_goods: bool = False,
                 origin: Origin = Origin()) -> Quote:
    """Create or revise the supplier's quote: one unit price per item, every item quoted."""
    require_supplier(actor)
    bidding_round = quotable_round(session, round_id, lock=True)
    moment = now()
    if bidding_round.status is not RoundStatus.OPEN or moment >= bidding_round.deadline:
        raise Conflict(N_("The round is closed for quotes."), code="round_closed")
    profile = session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == actor.organisation_id))
    reasons = refusals(session, bidding_round, actor.organisation_id, today=local_today(),
                       profile=profile)
    if reasons or profile is None:
        raise NotEligible(N_("Your company may not quote in this round."),
                          errors={"round": reasons})
    prices = _check_lines(session, bidding_round, actor.organisation_id, lines)
    total = sum(item.quantity * prices[item.id][0] for item in bidding_round.items)
    if total > bidding_round.ceiling_fen:
        raise ValidationFailed(
            N_("The quote comes to %(total)s, above the round's ceiling price of %(ceiling)s."),
            code="above_ceiling", errors={"lines": [N_("The total is above the ceiling price.")]},
            params={"total": format_fen(total), "ceiling": format_fen(bidding_round.ceiling_fen)})
    quote = session.scalar(select(Quote).where(Quote.round_id == round_id,
                                               Quote.supplier_id == actor.organisation_id))
    if quote is None and _related(session, bidding_round, profile):
        raise RelatedSupplierQuoted(N_(
            "A supplier with the same legal representative or controlling shareholder as your "
            "company has already quoted in this round; related suppliers may not both quote."))
    deducted = bool(sme_goods) and profile.size in SMALL_OR_MICRO
    pct = bidding_round.sme_deduction_pct if deducted else 0
    evaluated = (total * (100 - pct) + 50) // 100
    if quote is None:
        quote = Quote(round_id=round_id, supplier_id=actor.organisation_id, first_at=moment,
                      final_at=moment, revisions=0, total_fen=total, evaluated_fen=evaluated)
        session.add(quote)
        bidding_round.quote_count += 1
    quote.total_fen, quote.evaluated_fen, quote.final_at = total, evaluated, moment
    quote.sme_goods, quote.sme_deducted = bool(sme_goods), deducted
    quote.revisions += 1
    existing = {line.item_id: line for line in quote.lines}  # revised in place: one per item
    for item_id, (price, offer_id) in sorted(prices.items()):
        line = existing.get(item_id)
        if line is None:
            quote.lines.append(QuoteLine(item_id=item_id, unit_price_fen=price, offer_id=offer_id))
        else:
            line.unit_price_fen, line.offer_id = price, offer_id
    session.flush()
    session.add(QuoteSubmission(
        quote_id=quote.id, user_id=actor.user_id, token_id=actor.token_id, at=moment,
        total_fen=total, client_ip=(origin.client_ip or "")[:45] or None,
        user_agent=(origin.user_agent or "")[:300] or None,
        device_fingerprint=(origin.device_fingerprint or "")[:64] or None))
    # No audit event here: the audit trail is read by operators and supervisors, who may not
    # learn who quoted before the deadline; the closing records every quote in it.
    return quote


def _check_lines(session: Session, bidding_round: BiddingRound, supplier_id: int,
                 lines: Sequence[tuple[int, int]]) -> dict[int, tuple[int, int | None]]:
    """Item id -> (unit price, the supplier's mall offer), or refuse with every line's reason."""
    errors: dict[str, list[str]] = {}
    items = {item.id: item for item in bidding_round.items}
    given: dict[int, int] = {}
    for index, (item_id, price) in enumerate(lines):
        key = f"lines.{index}"
        if item_id not in items:
            errors[f"{key}.item_id"] = [N_("Not an item of this round.")]
        elif item_id in given:
            errors[f"{key}.item_id"] = [N_("Give one price per item.")]
        elif not within(price, PRICE):
            errors[f"{key}.unit_price_fen"] = [PRICE.message]
        else:
            given[item_id] = price
    missing = [items[i].name for i in items if i not in given and not any(
        k.startswith("lines.") for k in errors)]
    if missing:
        errors["lines"] = [FieldMessage(N_("Quote every item; missing: %(items)s."),
                                        items="、".join(missing))]
    if errors:
        raise ValidationFailed(errors=errors)
    limits = caps(session, bidding_round, supplier_id)
    result: dict[int, tuple[int, int | None]] = {}
    for index, (item_id, price) in enumerate(lines):
        offer_id = None
        for cap in limits[item_id]:
            if cap.offer_id is not None:
                offer_id = cap.offer_id
            if price > cap.fen:
                message = (N_("%(item)s: %(price)s is above your mall price of %(cap)s.")
                           if cap.source == "mall_price" else
                           N_("%(item)s: %(price)s is above the framework agreement's ceiling "
                              "price of %(cap)s."))
                errors.setdefault(f"lines.{index}.unit_price_fen", []).append(FieldMessage(
                    message, item=items[item_id].name, price=format_fen(price),
                    cap=format_fen(cap.fen)))
        result[item_id] = (price, offer_id)
    if errors:
        code = ("above_mall_price" if any(m.msgid.endswith("mall price of %(cap)s.")
                                          for ms in errors.values() for m in ms
                                          if isinstance(m, FieldMessage))
                else "above_framework_price")
        raise ValidationFailed(N_("A unit price is above what this supplier may quote."),
                               code=code, errors=errors)
    return result


@dataclass(frozen=True)
class Opportunity:
    """An open round a supplier may quote in, with its own quote if it has one."""

    round: BiddingRound
    own: Quote | None


def opportunities(session: Session, actor: Actor, *, limit: int = 200) -> list[Opportunity]:
    """Open rounds whose categories the supplier is admitted for, in its delivery regions (and,
    for admitted-supplier bidding, under its agreements), soonest deadline first."""
    require_supplier(actor)
    today = local_today()
    admitted = admitted_codes(session, actor.organisation_id, today)
    if not admitted:
        return []
    profile = session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == actor.organisation_id))
    candidates = session.scalars(
        select(BiddingRound).where(
            BiddingRound.status == RoundStatus.OPEN, BiddingRound.deadline > now(),
            BiddingRound.id.in_(select(RoundItem.round_id)
                                .where(RoundItem.category_code.in_(admitted))))
        .order_by(BiddingRound.deadline, BiddingRound.id).limit(limit))
    found = [r for r in candidates
             if not refusals(session, r, actor.organisation_id, today=today, admitted=admitted,
                             profile=profile)]
    own = {q.round_id: q for q in session.scalars(select(Quote).where(
        Quote.supplier_id == actor.organisation_id,
        Quote.round_id.in_([r.id for r in found])))} if found else {}
    return [Opportunity(r, own.get(r.id)) for r in found]


def my_quotes(session: Session, actor: Actor, *, limit: int = 200
              ) -> list[tuple[BiddingRound, Quote]]:
    """The supplier's own quotes with their rounds, newest first."""
    require_supplier(actor)
    rows = session.execute(
        select(BiddingRound, Quote).join(Quote, Quote.round_id == BiddingRound.id)
        .where(Quote.supplier_id == actor.organisation_id)
        .order_by(BiddingRound.deadline.desc()).limit(limit))
    return [(bidding_round, quote) for bidding_round, quote in rows]
