"""What a supplier reads about its own offers: filtered pages, one offer in detail, decisions.

Every function takes the supplier's id and refuses anyone but its own staff (or its
tokens with offers:write), so another supplier's SKU is simply "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, PriceChange, Product
from mall.core.auth import Actor
from mall.core.errors import NotFound
from suppliers.listings import require_supplier
from suppliers.models import ListingDecision

MAX_PAGE_SIZE = 500
HISTORY_LIMIT = 50
SORT_KEYS = {
    "updated_at": Offer.updated_at,
    "created_at": Offer.created_at,
    "sku": Offer.supplier_sku,
    "price_fen": Offer.price_fen,
    "stock": Offer.stock,
}


@dataclass(frozen=True)
class Page:
    """One page of a longer list and the length of the whole list."""

    items: list
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class DecisionEntry:
    """A listing decision with the SKU of its offer."""

    id: int
    offer_id: int
    sku: str
    decided_at: datetime
    action: str
    reasons: list[str]
    note: str | None


@dataclass(frozen=True)
class OfferDetail:
    """An offer with its recent price history and listing decisions, newest first."""

    offer: Offer
    price_history: list[PriceChange]
    decisions: list[DecisionEntry]


def category_prefix(code: str) -> str:
    """The code prefix shared by a category and everything below it (A05040100 -> A050401)."""
    while len(code) > 3 and code.endswith("00"):
        code = code[:-2]
    return code


def _window(statement: Select, page: int, page_size: int) -> Select:
    size = min(page_size, MAX_PAGE_SIZE)
    return statement.limit(size).offset((page - 1) * size)


def list_offers(session: Session, actor: Actor, *, supplier_id: int,
                status: OfferStatus | None = None, sku: str | None = None,
                category_code: str | None = None, updated_since: datetime | None = None,
                sort: str = "-updated_at", page: int = 1, page_size: int = 50) -> Page:
    """The supplier's offers, filtered by status, SKU prefix, category and update time."""
    require_supplier(actor, supplier_id)
    conditions = [Offer.supplier_id == supplier_id]
    if status is not None:
        conditions.append(Offer.status == status)
    if sku:
        conditions.append(Offer.supplier_sku.startswith(sku, autoescape=True))
    if updated_since is not None:
        conditions.append(Offer.updated_at >= updated_since)
    if category_code:
        conditions.append(Offer.product_id.in_(
            select(Product.id).join(Category, Category.id == Product.category_id)
            .where(Category.code.startswith(category_prefix(category_code)))))
    column = SORT_KEYS[sort.lstrip("-")]
    order = column.desc() if sort.startswith("-") else column.asc()
    tie = Offer.id.desc() if sort.startswith("-") else Offer.id.asc()
    items = session.scalars(_window(select(Offer).where(*conditions).order_by(order, tie),
                                    page, page_size)).all()
    total = session.scalar(select(func.count(Offer.id)).where(*conditions))
    return Page(items=list(items), total=total or 0, page=page, page_size=page_size)


def _own_offer(session: Session, supplier_id: int, sku: str) -> Offer:
    offer = session.scalar(select(Offer).where(Offer.supplier_id == supplier_id,
                                               Offer.supplier_sku == sku))
    if offer is None:
        raise NotFound("You have no offer with this SKU.")
    return offer


def _decision_statement(supplier_id: int) -> Select:
    return (select(ListingDecision, Offer.supplier_sku)
            .join(Offer, Offer.id == ListingDecision.offer_id)
            .where(ListingDecision.supplier_id == supplier_id)
            .order_by(ListingDecision.decided_at.desc(), ListingDecision.id.desc()))


def _entries(rows) -> list[DecisionEntry]:
    return [DecisionEntry(id=d.id, offer_id=d.offer_id, sku=sku, decided_at=d.decided_at,
                          action=d.action, reasons=list(d.reasons or []), note=d.note)
            for d, sku in rows]


def get_offer_detail(session: Session, actor: Actor, *, supplier_id: int,
                     sku: str) -> OfferDetail:
    """One of the supplier's offers by SKU, with its last 50 prices and decisions."""
    require_supplier(actor, supplier_id)
    offer = _own_offer(session, supplier_id, sku)
    history = session.scalars(select(PriceChange).where(PriceChange.offer_id == offer.id)
                              .order_by(PriceChange.changed_at.desc(), PriceChange.id.desc())
                              .limit(HISTORY_LIMIT)).all()
    decisions = session.execute(_decision_statement(supplier_id)
                                .where(ListingDecision.offer_id == offer.id)
                                .limit(HISTORY_LIMIT)).all()
    return OfferDetail(offer=offer, price_history=list(history), decisions=_entries(decisions))


def list_decisions(session: Session, actor: Actor, *, supplier_id: int,
                   since: datetime | None = None, sku: str | None = None,
                   action: str | None = None, page: int = 1, page_size: int = 50) -> Page:
    """The supplier's listing decisions (review results), newest first."""
    require_supplier(actor, supplier_id)
    conditions = []
    if since is not None:
        conditions.append(ListingDecision.decided_at >= since)
    if sku is not None:
        conditions.append(Offer.supplier_sku == sku)
    if action is not None:
        conditions.append(ListingDecision.action == action)
    statement = _decision_statement(supplier_id).where(*conditions)
    count = (select(func.count(ListingDecision.id))
             .join(Offer, Offer.id == ListingDecision.offer_id)
             .where(ListingDecision.supplier_id == supplier_id, *conditions))
    rows = session.execute(_window(statement, page, page_size)).all()
    return Page(items=_entries(rows), total=session.scalar(count) or 0, page=page,
                page_size=page_size)


def check_own_skus(session: Session, actor: Actor, *, supplier_id: int,
                   skus: Sequence[str]) -> None:
    """Refuse, as not found, a list of SKUs of which any is not one of the supplier's offers."""
    require_supplier(actor, supplier_id)
    known = set(session.scalars(select(Offer.supplier_sku).where(
        Offer.supplier_id == supplier_id, Offer.supplier_sku.in_(set(skus)))))
    unknown = {f"skus.{index}": ["You have no offer with this SKU."]
               for index, sku in enumerate(skus) if sku not in known}
    if unknown:
        raise NotFound("Some SKUs are not among your offers; nothing was changed.",
                       errors=unknown)
