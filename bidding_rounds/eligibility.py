"""Who may quote in a round, and the price caps a quote must stay under.

Quick bidding (商城竞价): suppliers admitted (and not suspended) for every item's category and
delivering to the round's region; an item the supplier lists in the mall may not be quoted above
its current mall price. Admitted-supplier bidding (入围竞价): members of the round's live
framework agreement, or the invited subset of them; a quote may not exceed the agreement's
ceiling price (财政部令110号 33). A round reserved for SMEs takes SME quotes only. Each refusal is
a translated message with its reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bidding_rounds.models import BiddingRound, RoundItem, RoundMode
from catalog.models import CATALOGUE_VERSION, Category, Offer, OfferStatus
from catalog.search.types import NATIONWIDE
from mall.core.errors import FieldMessage
from mall.i18n_messages import N_
from suppliers.models import (
    AdmissionStatus,
    AgreementStatus,
    CategoryAdmission,
    FrameworkAgreement,
    FrameworkMember,
    FrameworkPriceCap,
    SupplierProfile,
)

NOT_ADMITTED = N_("Your company is not admitted (or is suspended) for category %(category)s "
                  "(%(code)s).")
NO_REGION = N_("Your company does not deliver to the round's region %(region)s.")
NOT_MEMBER = N_("Only suppliers under framework agreement %(agreement)s may quote.")
NOT_INVITED = N_("The unit invited other suppliers of the framework agreement to this round.")
NOT_SME = N_("This round is reserved for small and medium-sized enterprises.")
NO_PROFILE = N_("Complete your supplier profile before quoting.")


def covering_regions(code: str) -> set[str]:
    """The delivery-region codes that cover ``code``: itself, its city, its province, the
    whole country."""
    return {code, code[:4] + "00", code[:2] + "0000", NATIONWIDE}


def delivers_to(regions: Iterable[str] | None, code: str) -> bool:
    return bool(covering_regions(code).intersection(regions or ()))


def live_agreements(session: Session, category_code: str, today: date) -> list[FrameworkAgreement]:
    """Framework agreements of a category leaf in force on ``today``."""
    return list(session.scalars(
        select(FrameworkAgreement).join(Category, Category.id == FrameworkAgreement.category_id)
        .where(Category.code == category_code, FrameworkAgreement.status == AgreementStatus.ACTIVE,
               FrameworkAgreement.starts_on <= today, FrameworkAgreement.ends_on >= today)
        .order_by(FrameworkAgreement.id)))


def admitted_codes(session: Session, supplier_id: int, today: date) -> set[str]:
    """The category codes a supplier is admitted for and not suspended in, today."""
    return set(session.scalars(
        select(Category.code).join(CategoryAdmission, CategoryAdmission.category_id == Category.id)
        .where(CategoryAdmission.supplier_id == supplier_id,
               CategoryAdmission.status == AdmissionStatus.ACTIVE,
               or_(CategoryAdmission.ends_on.is_(None), CategoryAdmission.ends_on >= today))))


def refusals(session: Session, bidding_round: BiddingRound, supplier_id: int, *, today: date,
             admitted: set[str] | None = None,
             profile: SupplierProfile | None = None) -> list[str]:
    """Why the supplier may not quote in the round (empty: it may)."""
    profile = profile or session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == supplier_id))
    if profile is None:
        return [NO_PROFILE]
    reasons: list[str] = []
    admitted = admitted if admitted is not None else admitted_codes(session, supplier_id, today)
    missing = sorted({item.category_code for item in bidding_round.items} - admitted)
    names = dict(session.execute(select(Category.code, Category.name).where(
        Category.code.in_(missing), Category.version == CATALOGUE_VERSION)).all()) if missing else {}
    for code in missing:
        reasons.append(FieldMessage(NOT_ADMITTED, category=names.get(code, code), code=code))
    if not delivers_to(profile.delivery_regions, bidding_round.region_code):
        reasons.append(FieldMessage(NO_REGION, region=bidding_round.region_code))
    if bidding_round.mode is RoundMode.FRAMEWORK:
        agreement = session.get(FrameworkAgreement, bidding_round.framework_agreement_id)
        member = agreement is not None and session.scalar(select(FrameworkMember.id).where(
            FrameworkMember.agreement_id == agreement.id,
            FrameworkMember.supplier_id == supplier_id)) is not None
        if not member or agreement is None or not agreement.starts_on <= today <= agreement.ends_on:
            reasons.append(FieldMessage(NOT_MEMBER,
                                        agreement=agreement.number if agreement else ""))
        elif bidding_round.invited_supplier_ids and \
                supplier_id not in bidding_round.invited_supplier_ids:
            reasons.append(NOT_INVITED)
    if bidding_round.sme_reserved and not profile.is_sme:
        reasons.append(NOT_SME)
    return reasons


@dataclass(frozen=True)
class Cap:
    """The most the supplier may quote for one unit of an item, and why."""

    fen: int
    source: str  # "mall_price" or "framework_price"
    offer_id: int | None = None


def caps(session: Session, bidding_round: BiddingRound, supplier_id: int) -> dict[int, list[Cap]]:
    """Per item id, the caps on the supplier's unit price: its own mall price for a product it
    lists (quick bidding), the agreement's ceiling price (admitted-supplier bidding)."""
    found: dict[int, list[Cap]] = {item.id: [] for item in bidding_round.items}
    products = {item.product_id: item.id for item in bidding_round.items if item.product_id}
    if products:
        rows = session.execute(
            select(Offer.product_id, func.min(Offer.price_fen), func.min(Offer.id))
            .where(Offer.supplier_id == supplier_id, Offer.product_id.in_(products),
                   Offer.status == OfferStatus.LISTED, Offer.suspended.is_(False))
            .group_by(Offer.product_id)).all()
        for product_id, price, offer_id in rows:
            found[products[product_id]].append(Cap(int(price), "mall_price", offer_id))
    if bidding_round.mode is RoundMode.FRAMEWORK and bidding_round.framework_agreement_id:
        ceilings = session.execute(select(FrameworkPriceCap.product_id, FrameworkPriceCap.cap_fen)
                                   .where(FrameworkPriceCap.agreement_id
                                          == bidding_round.framework_agreement_id)).all()
        by_product = {product_id: cap for product_id, cap in ceilings if product_id is not None}
        whole = [cap for product_id, cap in ceilings if product_id is None]
        for item in bidding_round.items:
            cap = by_product.get(item.product_id) if item.product_id else None
            if cap is None and whole:
                cap = min(whole)
            if cap is not None:
                found[item.id].append(Cap(int(cap), "framework_price"))
    return found


def eligible_suppliers(session: Session, items: Sequence[RoundItem], region_code: str, *,
                       today: date, among: Iterable[int] | None = None) -> list[int]:
    """Suppliers admitted for every item's category and delivering to the region (quick
    bidding's field of competition), for the form's "how many may quote" hint."""
    codes = {item.category_code for item in items}
    query = (select(CategoryAdmission.supplier_id)
             .join(Category, Category.id == CategoryAdmission.category_id)
             .where(Category.code.in_(codes), CategoryAdmission.status == AdmissionStatus.ACTIVE,
                    or_(CategoryAdmission.ends_on.is_(None), CategoryAdmission.ends_on >= today))
             .group_by(CategoryAdmission.supplier_id)
             .having(func.count(func.distinct(Category.code)) == len(codes)))
    if among is not None:
        query = query.where(CategoryAdmission.supplier_id.in_(list(among)))
    ids = list(session.scalars(query))
    if not ids:
        return []
    regions = session.execute(select(SupplierProfile.organisation_id,
                                     SupplierProfile.delivery_regions)
                              .where(SupplierProfile.organisation_id.in_(ids))).all()
    return sorted(org for org, delivered in regions if delivers_to(delivered, region_code))
