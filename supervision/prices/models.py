"""Tables of price monitoring (价格监测): the operator's settings, one row per daily inspection and
the price cases it opens, each with the evidence it was opened on."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from mall.core.db import BIG_ID, Base, text_enum


class CaseStatus(enum.StrEnum):
    """Where a price case stands. Only OPEN waits for the operator; the others are closed."""

    OPEN = "open"  # queued for the operator
    FROZEN = "frozen"  # the offer was frozen: at once by the inspection, or by the operator
    DISMISSED = "dismissed"  # the operator found the price justified (with a note)
    RESOLVED = "resolved"  # the supplier lowered the price before a decision


# Statuses that count as a price violation of the supplier (supplier performance counts
# these per supplier and month of ``opened_at``).
VIOLATION_STATUSES = frozenset({CaseStatus.FROZEN})
CLOSED_STATUSES = frozenset({CaseStatus.FROZEN, CaseStatus.DISMISSED, CaseStatus.RESOLVED})

# Why an offer became a case (stable codes, shown in words).
ABOVE_REFERENCE = "above_reference"
ABOVE_PEERS = "above_peer_quartile"
REASONS = (ABOVE_REFERENCE, ABOVE_PEERS)


class PriceSettings(Base):
    """The inspection's thresholds (one row; absent: the defaults in prices.settings)."""

    __tablename__ = "price_settings"
    __table_args__ = (
        CheckConstraint("min_peers >= 1", name="min_peers_positive"),
        CheckConstraint("quartile_margin_pct >= 0", name="margin_not_negative"),
        CheckConstraint("hard_ratio_pct > 100", name="hard_ratio_above_100"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    min_peers: Mapped[int]  # other suppliers' offers needed before the quartile rule applies
    quartile_margin_pct: Mapped[int]  # a case above the peers' upper quartile by more than this
    hard_ratio_pct: Mapped[int]  # frozen at once from this share of the reference or median
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PriceInspection(Base):
    """One run of the daily inspection: when, what it looked at and what it did."""

    __tablename__ = "price_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    offers_inspected: Mapped[int] = mapped_column(default=0)
    cases_opened: Mapped[int] = mapped_column(default=0)
    frozen: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    # The settings the run applied, kept with it: later changes do not rewrite its evidence.
    min_peers: Mapped[int]
    quartile_margin_pct: Mapped[int]
    hard_ratio_pct: Mapped[int]


class InspectedSupplier(Base):
    """How many of a supplier's offers one inspection looked at (the monthly report's
    "items inspected")."""

    __tablename__ = "price_inspection_suppliers"

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("price_inspections.id", ondelete="CASCADE"), primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True,
                                             index=True)
    offers: Mapped[int]


class PriceCase(Base):
    """A listed offer priced above its reference price or well above the other suppliers'
    prices for the same product, with the evidence; open until the operator decides or the
    supplier lowers the price. At most one open case per offer."""

    __tablename__ = "price_cases"
    __table_args__ = (
        Index("uq_price_cases_open_offer", "offer_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        Index("ix_price_cases_supplier_opened", "supplier_id", "opened_at"),
        Index("ix_price_cases_status_opened", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"),
                                          index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("price_inspections.id"),
                                                      index=True)
    opened_at: Mapped[datetime]
    status: Mapped[CaseStatus] = mapped_column(text_enum(CaseStatus, name="price_case_status",
                                                         length=12), default=CaseStatus.OPEN)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Evidence at opening, in fen: the offer's price, its reference price, the other
    # suppliers' quartiles (rounded to the fen) and how many offers they were taken from.
    price_fen: Mapped[int] = mapped_column(BigInteger)
    reference_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    peers: Mapped[int] = mapped_column(default=0)
    peer_q1_fen: Mapped[int | None] = mapped_column(BigInteger)
    peer_median_fen: Mapped[int | None] = mapped_column(BigInteger)
    peer_q3_fen: Mapped[int | None] = mapped_column(BigInteger)
    # The price over the reference (or, without one, over the peers' median), in per mille.
    ratio_permille: Mapped[int | None]
    # Closing: when, by whom (None: the inspection itself), the note, the price then.
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    closing_price_fen: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def is_open(self) -> bool:
        return self.status is CaseStatus.OPEN

    @property
    def frozen_automatically(self) -> bool:
        """Frozen at once by the inspection (above the hard ratio), not by the operator."""
        return self.status is CaseStatus.FROZEN and self.closed_by_id is None


__all__ = ["ABOVE_PEERS", "ABOVE_REFERENCE", "CLOSED_STATUSES", "REASONS", "VIOLATION_STATUSES",
           "CaseStatus", "InspectedSupplier", "PriceCase",
           "PriceInspection", "PriceSettings"]
