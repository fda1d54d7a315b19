"""Read side of the product page: one product and every offer a buyer may see, cheapest first.

Supplier sizes are read by table name: the supplier profiles belong to ``suppliers``, which
sits above catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, Product
from mall.accounts.models import Organisation
from mall.core.errors import NotFound

_profiles = table("supplier_profiles", column("organisation_id"), column("size"))
_SME_SIZES = ("medium", "small", "micro")  # 中小企业 under 工信部联企业〔2011〕300号


@dataclass(frozen=True)
class CategoryStep:
    """One category on the path from the top level down to a product's leaf."""

    code: str
    name: str


@dataclass(frozen=True)
class VisibleOffer:
    """One supplier's offer as a buyer sees it on the product page."""

    offer_id: int
    supplier_id: int
    supplier_name: str
    price_fen: int
    stock: int
    lead_time_days: int
    warranty_months: int
    sme: bool
    unit: str


@dataclass(frozen=True)
class ProductWithOffers:
    """A product, its category path and its visible offers sorted by price."""

    product_id: int
    title: str
    brand: str
    model: str
    unit: str
    attributes: dict[str, Any]
    energy_saving: bool
    green: bool
    category_code: str
    category_path: list[CategoryStep]
    offers: list[VisibleOffer]

    @property
    def lowest_price_fen(self) -> int | None:
        """The cheapest visible offer's price, or None when nobody sells it now."""
        return self.offers[0].price_fen if self.offers else None


def category_path(session: Session, category: Category) -> list[CategoryStep]:
    """The categories from the top level down to ``category``."""
    steps: list[CategoryStep] = []
    current: Category | None = category
    while current is not None:
        steps.append(CategoryStep(current.code, current.name))
        current = session.get(Category, current.parent_id) if current.parent_id else None
    return steps[::-1]


def visible_offers(session: Session, product_id: int) -> list[VisibleOffer]:
    """Listed, unsuspended offers of active suppliers for one product, cheapest first."""
    rows = session.execute(
        select(Offer.id, Offer.supplier_id, Offer.price_fen, Offer.stock, Offer.lead_time_days,
               Offer.warranty_months, Product.unit, Organisation.name, _profiles.c.size)
        .join(Product, Product.id == Offer.product_id)
        .join(Organisation, Organisation.id == Offer.supplier_id)
        .outerjoin(_profiles, _profiles.c.organisation_id == Offer.supplier_id)
        .where(Offer.product_id == product_id, Offer.status == OfferStatus.LISTED,
               Offer.suspended.is_(False), Organisation.active.is_(True))
        .order_by(Offer.price_fen, Offer.id))
    return [VisibleOffer(offer_id=r.id, supplier_id=r.supplier_id, supplier_name=r.name,
                         price_fen=r.price_fen, stock=r.stock, lead_time_days=r.lead_time_days,
                         warranty_months=r.warranty_months, unit=r.unit,
                         sme=str(r.size or "").lower() in _SME_SIZES) for r in rows]


def product_with_offers(session: Session, product_id: int) -> ProductWithOffers:
    """A product with its category path and visible offers; NotFound if its category is not
    sold in the mall or it does not exist."""
    product = session.get(Product, product_id)
    if product is None or not product.category.enabled:
        raise NotFound("No such product.", code="product_not_found")
    return ProductWithOffers(
        product_id=product.id, title=product.title, brand=product.brand, model=product.model,
        unit=product.unit, attributes=dict(product.attributes or {}),
        energy_saving=product.energy_saving, green=product.green,
        category_code=product.category.code,
        category_path=category_path(session, product.category),
        offers=visible_offers(session, product.id))


def category_names(session: Session, codes: list[str]) -> dict[str, str]:
    """Names of the given category codes (for facet labels)."""
    if not codes:
        return {}
    return dict(session.execute(select(Category.code, Category.name)
                                .where(Category.code.in_(set(codes)))).all())


def supplier_names(session: Session, supplier_ids: list[int]) -> dict[int, str]:
    """Names of supplier organisations (for facet labels)."""
    if not supplier_ids:
        return {}
    return dict(session.execute(select(Organisation.id, Organisation.name)
                                .where(Organisation.id.in_(set(supplier_ids)))).all())


@dataclass(frozen=True)
class CategoryFacet:
    """One category in the search sidebar with how many matching offers lie under it."""

    code: str
    name: str
    count: int


@dataclass(frozen=True)
class CategoryTree:
    """The sidebar's category facet: the path to the current filter and its children."""

    path: list[CategoryFacet]
    children: list[CategoryFacet]


def category_facet_tree(session: Session, counts: dict[str, int],
                        current: str | None) -> CategoryTree:
    """Arrange rolled-up category counts as the path to ``current`` and its children
    (the top levels when no category is chosen), children in code order."""
    rows = session.execute(
        select(Category.id, Category.code, Category.name, Category.parent_id)
        .where(Category.code.in_(set(counts) | ({current} if current else set())))).all()
    by_id = {row.id: row for row in rows}
    by_code = {row.code: row for row in rows}
    path: list[CategoryFacet] = []
    if current and current in by_code:
        node = by_code[current]
        path = [CategoryFacet(step.code, step.name, counts.get(step.code, 0))
                for step in category_path(session, session.get_one(Category, node.id))]
        parent_id = node.id
        children = [r for r in rows if r.parent_id == parent_id]
    else:
        children = [r for r in rows if r.parent_id not in by_id]
    return CategoryTree(path=path, children=[
        CategoryFacet(r.code, r.name, counts.get(r.code, 0))
        for r in sorted(children, key=lambda r: r.code)])
