"""The official category catalogue, products, suppliers' offers and their price history."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mall.core.db import Base, TimestampMixin

CATALOGUE_VERSION = "2022"


class Category(Base):
    """One code of the 《政府采购品目分类目录》 (letter + 8 digits, four levels)."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("version", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(8), default=CATALOGUE_VERSION)
    code: Mapped[str] = mapped_column(String(9), index=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int]
    section: Mapped[str] = mapped_column(String(1))  # A 货物, B 工程, C 服务
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    is_leaf: Mapped[bool] = mapped_column(default=True)
    enabled: Mapped[bool] = mapped_column(default=False, index=True)  # sold in the mall
    # 集中采购目录品目: orders of it are signed as contracts, never settled by a 结算单.
    centrally_procured: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Listing rules the operator sets per leaf.
    manual_review: Mapped[bool] = mapped_column(default=False)
    required_attributes: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_price_ratio_pct: Mapped[int | None]  # None: the mall-wide default

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class OfferStatus(enum.StrEnum):
    """Where a supplier's listing stands; only LISTED offers are visible to buyers."""

    PENDING_REVIEW = "pending_review"
    LISTED = "listed"
    REJECTED = "rejected"
    FROZEN = "frozen"
    DELISTED = "delisted"


class Product(TimestampMixin, Base):
    """What is sold, independent of who sells it (brand + normalised model)."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("category_id", "brand", "model_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    brand: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(120))
    model_key: Mapped[str] = mapped_column(String(120))  # normalised model for matching
    title: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(10), default="个")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    barcode: Mapped[str | None] = mapped_column(String(20))
    energy_saving: Mapped[bool] = mapped_column(default=False)
    green: Mapped[bool] = mapped_column(default=False)

    category: Mapped[Category] = relationship(lazy="joined")


class Offer(TimestampMixin, Base):
    """One supplier's listing of a product: price in fen, stock and status."""

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("supplier_id", "supplier_sku"),
        Index("ix_offers_product_status", "product_id", "status"),
        # The listing service's rules (mall.core.money), kept by the database too (0009).
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("reference_price_fen > 0", name="reference_price_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("lead_time_days >= 0 AND warranty_months >= 0", name="terms_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    supplier_sku: Mapped[str] = mapped_column(String(64))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    reference_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    reference_url: Mapped[str | None] = mapped_column(String(500))
    reference_checked_on: Mapped[datetime | None]
    stock: Mapped[int] = mapped_column(default=0)
    delivery_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    lead_time_days: Mapped[int] = mapped_column(default=3)
    warranty_months: Mapped[int] = mapped_column(default=12)
    status: Mapped[OfferStatus] = mapped_column(
        Enum(OfferStatus, native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        default=OfferStatus.PENDING_REVIEW, index=True)
    # Why the automatic checks sent it to review (codes, see suppliers.review).
    review_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Hidden while the supplier's admission for the category is suspended.
    suspended: Mapped[bool] = mapped_column(default=False)
    # Frozen or delisted by the operator: the supplier's edits do not relist it.
    held_by_operator: Mapped[bool] = mapped_column(default=False)

    product: Mapped[Product] = relationship(lazy="joined")

    @property
    def visible(self) -> bool:
        """Whether buyers may see and buy this offer."""
        return self.status is OfferStatus.LISTED and not self.suspended


class PriceChange(Base):
    """Every change of an offer's price: who, when, old and new.

    No CHECK on the prices: this is the record of what was sent, kept as it was (before 0009
    a non-positive price could be stored); new rows copy offers' prices, which are checked.
    """

    __tablename__ = "price_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"),
                                          index=True)
    changed_at: Mapped[datetime]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    old_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    new_price_fen: Mapped[int] = mapped_column(BigInteger)


class SynonymGroup(Base):
    """Words buyers use for the same thing (笔记本 = 便携式计算机), kept by the operator."""

    __tablename__ = "synonym_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
