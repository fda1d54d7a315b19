"""Demo price monitoring: one inspection over the demo mall, with open and frozen cases.

The demo lists every offer at or under its reference price, so a few are moved first, each
the way it happens in a real mall:

- the operator approves offers that were held for being above their reference price (the
  supplier argued its case): the inspection opens reference cases for them;
- suppliers whose own public price is higher reprice offers of products that three other
  suppliers sell, to a little over a fifth above the others' upper quartile (under their
  reference and the listing check's 130 % of the others' average): peer-quartile cases;
- the public price of a few offers fell by a third when it was checked again (the mall
  records the check; no service of ours fetches it): from 130 % of the reference the
  inspection freezes those offers at once.

``supplier1`` gets some of each. Seeded once: nothing is done when an inspection exists.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from catalog.models import Offer, OfferStatus
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.clock import local_today, now
from supervision.prices.models import PriceInspection
from supervision.prices.services import quartiles_x4, run_inspection
from suppliers.listings import OfferInput, save_offers
from suppliers.moderation import decide_offers

OPERATOR, FIRST_SUPPLIER = "operator", "supplier1"
APPROVED, REPRICED, FELL = 6, 6, 4  # offers moved of each kind


def _actor(session: Session, login: str):
    user = session.scalars(select(User).where(User.login == login)).one()
    return actor_for(user)


def _approve_held(session: Session, supplier_id: int) -> int:
    """The operator approves offers held above their reference, supplier1's first."""
    held = list(session.scalars(
        select(Offer.id).where(Offer.status == OfferStatus.PENDING_REVIEW,
                               Offer.price_fen > Offer.reference_price_fen)
        .order_by((Offer.supplier_id != supplier_id), Offer.id).limit(APPROVED)))
    if held:
        decide_offers(session, _actor(session, OPERATOR), offer_ids=held, action="approve",
                      reason="供应商提供了近期官网价格截图，价格合理。")
    return len(held)


def _reprice_above_peers(session: Session, supplier_id: int) -> int:
    """Suppliers whose own public price of a four-supplier product is higher put their offer
    a little over a fifth above the others' upper quartile, through the listing service (its
    checks let it through: under the reference and the others' average × 130 %)."""
    four = (select(Offer.product_id).where(Offer.status == OfferStatus.LISTED)
            .group_by(Offer.product_id).having(func.count(func.distinct(Offer.supplier_id)) == 4)
            .order_by(Offer.product_id).limit(300))
    offers = session.scalars(select(Offer).where(Offer.product_id.in_(four.scalar_subquery()),
                                                 Offer.status == OfferStatus.LISTED)
                             .order_by(Offer.product_id, Offer.id)).all()
    by_product: dict[int, list[Offer]] = defaultdict(list)
    for offer in offers:
        by_product[offer.product_id].append(offer)
    items: dict[int, list[OfferInput]] = defaultdict(list)
    for group in by_product.values():
        mover = next((o for o in group if o.supplier_id == supplier_id), group[0])
        others = sorted(o.price_fen for o in group if o is not mover)
        price = quartiles_x4(others)[2] * 122 // 400 + 1
        if price * 100 > sum(others) * 128 // len(others):
            continue
        product = mover.product
        items[mover.supplier_id].append(OfferInput(
            supplier_sku=mover.supplier_sku, category_code=product.category.code,
            brand=product.brand, model=product.model, title=product.title, price_fen=price,
            stock=mover.stock, reference_price_fen=max(price * 11 // 10,
                                                       mover.reference_price_fen or 0),
            reference_url=mover.reference_url, reference_checked_on=local_today(),
            unit=product.unit, attributes=product.attributes,
            delivery_regions=tuple(mover.delivery_regions), lead_time_days=mover.lead_time_days,
            warranty_months=mover.warranty_months))
        if sum(len(v) for v in items.values()) >= REPRICED:
            break
    moved = 0
    for owner, batch in items.items():
        admin = session.scalars(select(User).where(User.organisation_id == owner)
                                .order_by(User.id).limit(1)).one()
        report = save_offers(session, actor_for(admin), supplier_id=owner, items=batch)
        moved += sum(1 for r in report.results if r.status == OfferStatus.LISTED.value)
    return moved


def _reference_fell(session: Session, supplier_id: int) -> int:
    """The supplier's public price of a few listed offers was found a third lower."""
    fell = list(session.scalars(
        select(Offer.id).where(Offer.status == OfferStatus.LISTED,
                               Offer.supplier_id == supplier_id)
        .order_by(Offer.id.desc()).limit(FELL)))
    session.execute(update(Offer).where(Offer.id.in_(fell))
                    .values(reference_price_fen=Offer.price_fen * 100 // 140,
                            reference_checked_on=now()))
    return len(fell)


def seed_prices(session: Session) -> str:
    """Move a few demo prices and run one inspection (once); commits. Returns a summary."""
    if session.scalar(select(func.count()).select_from(PriceInspection)):
        return "prices: an inspection exists; nothing done"
    supplier_id = session.scalar(select(User.organisation_id).where(User.login == FIRST_SUPPLIER))
    if supplier_id is None:
        return "prices: no demo suppliers; nothing done"
    approved = _approve_held(session, supplier_id)
    repriced = _reprice_above_peers(session, supplier_id)
    fell = _reference_fell(session, supplier_id)
    inspection = run_inspection(session)
    session.commit()
    return (f"prices: {approved} held offers approved, {repriced} repriced above their peers, "
            f"{fell} references fell; inspection of {inspection.offers_inspected:,} offers "
            f"opened {inspection.cases_opened} cases, froze {inspection.frozen}")
