"""Tables of the statistics: monthly facts of orders and of bidding rounds, kept by a job
(supervision.statistics.aggregates), and the job's watermark. Pages and the API read only
these tables, never the orders themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mall.core.db import BIG_ID, Base


class OrderSums:
    """The sums every order fact table keeps."""

    deals: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # Direct purchase: the lines' reference prices (参考价); a round's award: its ceiling.
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    sme_deals: Mapped[int]
    sme_amount_fen: Mapped[int] = mapped_column(BigInteger)
    local_deals: Mapped[int]  # supplier registered in the unit's province
    local_amount_fen: Mapped[int] = mapped_column(BigInteger)
    delivered: Mapped[int]  # deals delivered, and the seconds from order to delivery
    delivery_seconds: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int]  # deals paid, and the seconds from order to payment
    payment_seconds: Mapped[int] = mapped_column(BigInteger)
    overdue: Mapped[int]  # deals left unpaid past their payment deadline (paid late or not)


class OrderFact(OrderSums, Base):
    """The orders concluded (成交) in one local month, summed per unit (and its region),
    supplier, level-2 category and purchase mode.

    An order whose lines fall in several categories has a row per category with that
    category's amounts; its count (deals, SME, local, lead times, overdue) sits on the row of
    its largest category only, so that counts add up to orders."""

    __tablename__ = "statistics_order_facts"
    __table_args__ = (
        Index("ix_statistics_order_facts_month_region", "month", "region_code"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    month: Mapped[int] = mapped_column(index=True)  # yyyymm of submission, Asia/Shanghai
    region_code: Mapped[str] = mapped_column(String(6))  # the unit's region (GB/T 2260)
    unit_id: Mapped[int] = mapped_column(index=True)
    supplier_id: Mapped[int] = mapped_column(index=True)
    category_code: Mapped[str] = mapped_column(String(9))  # level 2, e.g. A05040000
    mode: Mapped[str] = mapped_column(String(12))  # PurchaseMode value


class CategoryFact(OrderSums, Base):
    """The order facts without unit and supplier: what a request without those filters
    reads for its trend, modes and categories (an eighth of the rows at 100k orders)."""

    __tablename__ = "statistics_category_facts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    month: Mapped[int] = mapped_column(index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    category_code: Mapped[str] = mapped_column(String(9))
    mode: Mapped[str] = mapped_column(String(12))


class SupplierFact(OrderSums, Base):
    """The order facts without unit and category: the top suppliers of a request without
    those filters."""

    __tablename__ = "statistics_supplier_facts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    month: Mapped[int] = mapped_column(index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    supplier_id: Mapped[int]
    mode: Mapped[str] = mapped_column(String(12))


class RoundFact(Base):
    """The bidding rounds published in one local month, per unit (and its region), level-2
    category of their first item and mode: how many ended, failed (流标), their quotes,
    challenges (质疑) and complaints (投诉)."""

    __tablename__ = "statistics_round_facts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    month: Mapped[int] = mapped_column(index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    unit_id: Mapped[int] = mapped_column(index=True)
    category_code: Mapped[str] = mapped_column(String(9))
    mode: Mapped[str] = mapped_column(String(12))
    rounds: Mapped[int]  # ended: failed, awarded or confirmed (open and cancelled ones not)
    failed: Mapped[int]
    quotes: Mapped[int]
    challenges: Mapped[int]
    complaints: Mapped[int]


class StatisticsRefresh(Base):
    """The refresh job's watermark (one row): orders and rounds changed since it are
    recounted, with every other fact of their months."""

    __tablename__ = "statistics_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_since: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]
    months: Mapped[int] = mapped_column(default=0)  # months recounted by the last run
