"""Framework agreements (框架协议/入围): admitted suppliers per category and ceiling prices.

Rules from 财政部令110号: at least two suppliers are admitted (art. 27) and a goods
agreement runs at most one year (art. 15).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date

from blinker import Namespace
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, Product
from mall.core.audit import record_event
from mall.core.auth import Actor, Role
from mall.core.clock import local_today
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.core.inputs import check_text
from mall.core.money import PRICE, format_fen, within
from suppliers.models import (
    AdmissionStatus,
    AgreementStatus,
    CategoryAdmission,
    FrameworkAgreement,
    FrameworkMember,
    FrameworkPriceCap,
)
from suppliers.moderation import hold_for_review
from suppliers.review import ABOVE_FRAMEWORK_CAP

MIN_MEMBERS = 2

_signals = Namespace()
offers_held_above_ceiling = _signals.signal("offers-held-above-ceiling")
"""Sent after listed offers priced above a live ceiling were held for review, once per
supplier and product (sender: None). Keyword arguments: ``session``, ``supplier_id``,
``product_title``, ``agreement_number``, ``cap_fen`` and ``count``. The purchasing
package connects to it to tell the supplier in its inbox (it is a layer above this one)."""


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def create_agreement(session: Session, actor: Actor, *, number: str, title: str,
                     category_code: str, starts_on: date, ends_on: date,
                     supplier_ids: Sequence[int]) -> FrameworkAgreement:
    """Record an agreement for one category leaf with its admitted suppliers."""
    actor.require_role(Role.OPERATOR)
    errors: dict[str, list[str]] = {}
    category = session.scalar(select(Category).where(Category.code == category_code))
    if category is None or not category.is_leaf:
        errors["category_code"] = ["Choose an end-level category."]
    if not number.strip():
        errors["number"] = ["The agreement number is required."]
    check_text("number", number, errors=errors)
    check_text("title", title, errors=errors)
    if ends_on <= starts_on:
        errors["ends_on"] = ["The agreement must end after it starts."]
    elif category is not None and category.section == "A" and ends_on > _add_years(starts_on, 1):
        errors["ends_on"] = ["A goods framework agreement runs at most one year."]
    members = sorted(set(supplier_ids))
    if len(members) < MIN_MEMBERS:
        errors["supplier_ids"] = [f"Admit at least {MIN_MEMBERS} suppliers."]
    elif category is not None:
        admitted = set(session.scalars(select(CategoryAdmission.supplier_id).where(
            CategoryAdmission.category_id == category.id,
            CategoryAdmission.status == AdmissionStatus.ACTIVE,
            CategoryAdmission.supplier_id.in_(members))))
        if missing := [m for m in members if m not in admitted]:
            errors["supplier_ids"] = [f"Not admitted to sell this category: {missing}"]
    if errors or category is None:  # no category is an error already
        raise ValidationFailed(errors=errors)
    if session.scalar(select(FrameworkAgreement.id)
                      .where(FrameworkAgreement.number == number.strip())):
        raise Conflict("An agreement with this number exists.", code="agreement_number_taken")
    agreement = FrameworkAgreement(number=number.strip(), title=title.strip() or number.strip(),
                                   category_id=category.id, starts_on=starts_on,
                                   ends_on=ends_on, status=AgreementStatus.ACTIVE)
    agreement.members = [FrameworkMember(supplier_id=m) for m in members]
    session.add(agreement)
    session.flush()
    record_event(session, action="framework.created", object_type="framework_agreement",
                 object_id=agreement.id, actor=actor,
                 data={"number": agreement.number, "category": category_code,
                       "suppliers": members})
    return agreement


def set_price_cap(session: Session, actor: Actor, *, agreement_id: int, product_id: int,
                  cap_fen: int) -> FrameworkPriceCap:
    """Set the agreement's ceiling price for one product of its category."""
    actor.require_role(Role.OPERATOR)
    agreement = session.get(FrameworkAgreement, agreement_id)
    product = session.get(Product, product_id)
    if agreement is None or product is None:
        raise NotFound()
    if product.category_id != agreement.category_id:
        raise ValidationFailed(errors={"product_id": ["The product is in another category."]})
    if not within(cap_fen, PRICE):
        raise ValidationFailed(errors={"cap_fen": [PRICE.message]})
    cap = next((c for c in agreement.caps if c.product_id == product_id), None)
    if cap is None:
        cap = FrameworkPriceCap(product_id=product_id, item=product.title[:200], cap_fen=cap_fen)
        agreement.caps.append(cap)
    cap.cap_fen = cap_fen
    session.flush()
    record_event(session, action="framework.cap_set", object_type="framework_agreement",
                 object_id=agreement.id, actor=actor,
                 data={"product_id": product_id, "cap_fen": cap_fen})
    hold_offers_above_ceilings(session, today=local_today(), actor=actor,
                               product_ids=[product_id])
    return cap


def hold_offers_above_ceilings(session: Session, *, today: date, actor: Actor | None = None,
                               product_ids: Collection[int] | None = None) -> int:
    """Take every listed offer priced above a ceiling live on ``today`` (of ``product_ids``,
    or of all products) off sale for review, and tell each supplier; returns how many.

    Run when a ceiling is set or lowered and by the daily sweep, which catches agreements
    whose term starts after their ceilings were set. Offers already waiting for review get
    the reason added, so the operator sees it in the queue."""
    query = (select(Offer, FrameworkPriceCap.cap_fen, FrameworkAgreement.number)
             .join(FrameworkPriceCap, FrameworkPriceCap.product_id == Offer.product_id)
             .join(FrameworkAgreement, FrameworkAgreement.id == FrameworkPriceCap.agreement_id)
             .where(FrameworkAgreement.status == AgreementStatus.ACTIVE,
                    FrameworkAgreement.starts_on <= today, FrameworkAgreement.ends_on >= today,
                    Offer.status.in_([OfferStatus.LISTED, OfferStatus.PENDING_REVIEW]),
                    Offer.price_fen > FrameworkPriceCap.cap_fen)
             .order_by(Offer.id, FrameworkPriceCap.cap_fen))
    if product_ids is not None:
        query = query.where(Offer.product_id.in_(set(product_ids)))
    lowest: dict[int, tuple[Offer, int, str]] = {}
    for offer, cap_fen, number in session.execute(query):
        lowest.setdefault(offer.id, (offer, cap_fen, number))  # the lowest cap comes first
    by_ceiling: dict[tuple[int, int, str], list[Offer]] = defaultdict(list)
    for offer, cap_fen, number in lowest.values():
        by_ceiling[(offer.product_id, cap_fen, number)].append(offer)
    held_count = 0
    for (_product_id, cap_fen, number), offers in by_ceiling.items():
        held = hold_for_review(session, offers, reason=ABOVE_FRAMEWORK_CAP, actor=actor,
                               note=f"{number}: {format_fen(cap_fen)}")
        held_count += len(held)
        per_supplier: dict[int, list[Offer]] = defaultdict(list)
        for offer in held:
            per_supplier[offer.supplier_id].append(offer)
        for supplier_id, theirs in per_supplier.items():
            offers_held_above_ceiling.send(
                None, session=session, supplier_id=supplier_id,
                product_title=theirs[0].product.title, agreement_number=number,
                cap_fen=cap_fen, count=len(theirs))
    return held_count


def list_agreements(session: Session, actor: Actor) -> list[tuple[FrameworkAgreement, Category]]:
    """All agreements with their categories (operators and supervisors)."""
    actor.require_role(Role.OPERATOR, Role.SUPERVISOR)
    return list(session.execute(
        select(FrameworkAgreement, Category)
        .join(Category, Category.id == FrameworkAgreement.category_id)
        .order_by(FrameworkAgreement.starts_on.desc())).all())


def end_expired_agreements(session: Session, *, today: date) -> int:
    """Mark agreements past their end date as ended (the daily sweep)."""
    rows = session.scalars(select(FrameworkAgreement).where(
        FrameworkAgreement.status == AgreementStatus.ACTIVE,
        FrameworkAgreement.ends_on < today)).all()
    for agreement in rows:
        agreement.status = AgreementStatus.ENDED
    return len(rows)
