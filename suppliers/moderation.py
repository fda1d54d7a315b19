"""The operator's listing review queue and sanctions on offers: approve, reject, freeze, delist,
reinstate. Every decision is recorded for the supplier to see and in the audit trail."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, cast, column, func, select, table
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, Product
from catalog.sync import offers_changed
from mall.core import bulk
from mall.core.audit import record_event
from mall.core.auth import Actor, Role, require_same_organisation
from mall.core.clock import now, to_local
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.core.inputs import check_text
from mall.i18n_messages import N_
from suppliers.ceilings import AboveCeiling, live_ceilings
from suppliers.models import ListingDecision

# action -> (statuses it applies to, resulting status, held by operator afterwards)
ACTIONS: dict[str, tuple[frozenset[OfferStatus], OfferStatus, bool]] = {
    "approve": (frozenset({OfferStatus.PENDING_REVIEW}), OfferStatus.LISTED, False),
    "reject": (frozenset({OfferStatus.PENDING_REVIEW}), OfferStatus.REJECTED, False),
    "freeze": (frozenset({OfferStatus.LISTED, OfferStatus.PENDING_REVIEW}),
               OfferStatus.FROZEN, True),
    "delist": (frozenset({OfferStatus.LISTED, OfferStatus.PENDING_REVIEW, OfferStatus.FROZEN}),
               OfferStatus.DELISTED, True),
    "reinstate": (frozenset({OfferStatus.FROZEN, OfferStatus.DELISTED, OfferStatus.REJECTED}),
                  OfferStatus.LISTED, False),
}
# The account tables belong to a higher layer: read the supplier's name by table name.
ORGANISATIONS = table("organisations", column("id"), column("name"))
REASON_REQUIRED = frozenset({"reject", "freeze", "delist"})


@dataclass(frozen=True)
class QueueRow:
    """One offer waiting in the review queue, with what the operator needs to judge it."""

    offer: Offer
    product: Product
    category: Category
    supplier_name: str
    others_min_fen: int | None


def review_queue(session: Session, actor: Actor, *, category_code: str | None = None,
                 reason: str | None = None, limit: int = 100, offset: int = 0
                 ) -> tuple[list[QueueRow], int]:
    """Offers waiting for the operator, oldest first, with the lowest competing price."""
    actor.require_role(Role.OPERATOR, Role.SUPERVISOR)
    query = (select(Offer, Product, Category, ORGANISATIONS.c.name)
             .join(Product, Product.id == Offer.product_id)
             .join(Category, Category.id == Product.category_id)
             .join(ORGANISATIONS, ORGANISATIONS.c.id == Offer.supplier_id)
             .where(Offer.status == OfferStatus.PENDING_REVIEW))
    if category_code:
        query = query.where(Category.code == category_code)
    if reason:
        # JSON lists are stored as text on SQLite and cast to text on PostgreSQL.
        query = query.where(cast(Offer.review_reasons, String).like(f'%"{reason}"%'))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = session.execute(query.order_by(Offer.updated_at, Offer.id)
                           .limit(limit).offset(offset)).all()
    product_ids = {r[1].id for r in page}
    lowest = dict(session.execute(
        select(Offer.product_id, func.min(Offer.price_fen))
        .where(Offer.product_id.in_(product_ids), Offer.status == OfferStatus.LISTED)
        .group_by(Offer.product_id)).all()) if product_ids else {}
    return [QueueRow(o, p, c, name, lowest.get(p.id)) for o, p, c, name in page], total or 0


def decide_offers(session: Session, actor: Actor, *, offer_ids: Sequence[int], action: str,
                  reason: str = "") -> int:
    """Apply one operator action to offers; refuses offers whose status does not allow it."""
    actor.require_role(Role.OPERATOR)
    if action not in ACTIONS:
        raise ValidationFailed(errors={"action": ["Unknown action."]})
    reason = reason.strip()
    if action in REASON_REQUIRED and not reason:
        raise ValidationFailed(errors={"reason": ["A reason is required for this action."]})
    check_text("reason", reason, multiline=True)
    if not offer_ids:
        raise ValidationFailed(errors={"offer_ids": ["Choose at least one offer."]})
    allowed, target, held = ACTIONS[action]
    offers = session.scalars(select(Offer).where(Offer.id.in_(offer_ids))).all()
    if len(offers) != len(set(offer_ids)):
        raise NotFound()
    wrong = [o.id for o in offers if o.status not in allowed]
    if wrong:
        raise Conflict(f"Not possible in the current status for offers {wrong}.",
                       code="wrong_offer_status")
    moment = now()
    if target is OfferStatus.LISTED:
        _refuse_above_ceilings(session, offers, to_local(moment).date())
    for offer in offers:
        before = offer.status
        offer.status, offer.held_by_operator, offer.updated_at = target, held, moment
        if action in ("approve", "reinstate"):
            offer.review_reasons = []
        session.add(ListingDecision(offer_id=offer.id, supplier_id=offer.supplier_id,
                                    decided_at=moment, decided_by_id=actor.user_id,
                                    action=action, reasons=list(offer.review_reasons or []),
                                    note=reason or None))
        record_event(session, action=f"offer.{action}", object_type="offer", object_id=offer.id,
                     actor=actor, data={"from": before.value, "to": target.value,
                                        "reason": reason})
    offers_changed(session, [o.id for o in offers])
    session.flush()
    return len(offers)


def offer_decisions(session: Session, actor: Actor, *, supplier_id: int, limit: int = 100
                    ) -> list[tuple[ListingDecision, Offer, Product]]:
    """Decisions on a supplier's offers, newest first (the supplier or oversight)."""
    require_same_organisation(actor, supplier_id)
    return list(session.execute(
        select(ListingDecision, Offer, Product)
        .join(Offer, Offer.id == ListingDecision.offer_id)
        .join(Product, Product.id == Offer.product_id)
        .where(ListingDecision.supplier_id == supplier_id)
        .order_by(ListingDecision.id.desc()).limit(limit)).all())


def _refuse_above_ceilings(session: Session, offers: Sequence[Offer], today: date) -> None:
    """Listing an offer above a live framework ceiling is refused: buyers could not buy it."""
    caps = live_ceilings(session, {o.product_id for o in offers}, on=today)
    over = [o.id for o in offers if o.price_fen > caps.get(o.product_id, o.price_fen)]
    if over:
        message = N_("An offer priced above the framework ceiling price cannot be listed; "
                     "the supplier must lower its price first.")
        raise AboveCeiling(message, errors={"offer_ids": [message]})


def hold_for_review(session: Session, offers: Sequence[Offer], *, reason: str,
                    actor: Actor | None, note: str | None = None) -> list[Offer]:
    """Take listed offers off sale into the review queue because an automatic check (a
    ``suppliers.review`` reason code) no longer passes; the supplier sees the decision and
    the search index drops them. Returns the offers held (those that were listed)."""
    moment = now()
    held = [o for o in offers if o.status is OfferStatus.LISTED]
    for offer in offers:
        if reason not in (offer.review_reasons or []) and offer.status in (
                OfferStatus.LISTED, OfferStatus.PENDING_REVIEW):
            offer.review_reasons = [*(offer.review_reasons or []), reason]
    for offer in held:
        offer.status, offer.updated_at = OfferStatus.PENDING_REVIEW, moment
        record_event(session, action="offer.held", object_type="offer", object_id=offer.id,
                     actor=actor, data={"from": OfferStatus.LISTED.value,
                                        "to": OfferStatus.PENDING_REVIEW.value,
                                        "reason": reason, "price_fen": offer.price_fen})
    record_queued(session, [(o.id, o.supplier_id, o.review_reasons) for o in held], at=moment,
                  by_user_id=actor.user_id if actor else None, note=note)
    offers_changed(session, [o.id for o in held])
    session.flush()
    return held


def freeze_at_once(session: Session, offers: Sequence[Offer], *, reason: str,
                   note: str | None = None) -> list[Offer]:
    """Freeze listed offers without waiting for the operator because an automatic check found
    them far out of line (price monitoring above its hard ratio): off sale and held by the
    operator, so the supplier's edits do not relist them; only the operator reinstates them.
    The supplier sees the decision (``reason``, a review reason code) and the index drops
    them. Returns the offers frozen (those that were listed)."""
    moment = now()
    frozen = [o for o in offers if o.status is OfferStatus.LISTED]
    for offer in frozen:
        offer.status, offer.held_by_operator, offer.updated_at = OfferStatus.FROZEN, True, moment
        record_event(session, action="offer.freeze", object_type="offer", object_id=offer.id,
                     data={"from": OfferStatus.LISTED.value, "to": OfferStatus.FROZEN.value,
                           "reason": reason, "price_fen": offer.price_fen, "automatic": True})
    bulk.insert(session, ListingDecision, [
        {"offer_id": o.id, "supplier_id": o.supplier_id, "decided_at": moment,
         "decided_by_id": None, "action": "freeze", "reasons": [reason], "note": note}
        for o in frozen])
    offers_changed(session, [o.id for o in frozen])
    session.flush()
    return frozen


def record_queued(session: Session, queued: Iterable[tuple[int, int, Sequence[str]]], *,
                  at: datetime, by_user_id: int | None = None, note: str | None = None) -> None:
    """Record offers entering the operator's review queue, each given as (offer id,
    supplier id, reasons): a "queued" decision the supplier sees in its decision log.

    Whatever puts offers in the queue calls this (a saved or repriced offer failing a
    listing check, a listed offer held by a new ceiling, the demo seed), so every entry
    reads the same. The caller sets the offers' status; one bulk insert for the batch."""
    bulk.insert(session, ListingDecision, [
        {"offer_id": offer_id, "supplier_id": supplier_id, "decided_at": at,
         "decided_by_id": by_user_id, "action": "queued", "reasons": list(reasons),
         "note": note} for offer_id, supplier_id, reasons in queued])
