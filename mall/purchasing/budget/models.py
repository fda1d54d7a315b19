"""Tables of budgets and limits: the mall's and regions' purchase settings, a unit's approval
amount, budget lines and the running totals per category."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mall.core.db import Base, TimestampMixin


class PurchaseSettings(Base):
    """Limits per region (row with region_code NULL: the mall-wide default, docs/domain.md)."""

    __tablename__ = "purchase_settings"
    __table_args__ = (
        CheckConstraint("direct_limit_fen > 0", name="direct_limit_positive"),
        CheckConstraint("warn_pct BETWEEN 1 AND 100", name="warn_pct_range"),
        CheckConstraint("settlement_max_fen >= 0", name="settlement_max_not_negative"),
        CheckConstraint("open_tender_fen > 0", name="open_tender_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(6), unique=True)
    direct_limit_fen: Mapped[int] = mapped_column(BigInteger)  # 分散采购限额
    warn_pct: Mapped[int] = mapped_column(default=80)
    # Up to this total a small order without centrally procured items is settled by a
    # settlement order (结算单) instead of a contract; None: the next row up decides.
    settlement_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    # Orders of a unit to one supplier or in one category within this many days count
    # together against its approval amount (拆分采购); None: the next row up decides.
    split_window_days: Mapped[int | None]
    # Above this amount only an open tender (公开招标) may buy: neither direct purchase nor a
    # bidding round; None: the next row up decides.
    open_tender_fen: Mapped[int | None] = mapped_column(BigInteger)


class UnitSettings(Base):
    """A purchasing unit's own rule: internal approval above an amount it sets."""

    __tablename__ = "unit_settings"
    __table_args__ = (CheckConstraint("approval_above_fen >= 0", name="approval_not_negative"),)

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    approval_above_fen: Mapped[int | None] = mapped_column(BigInteger)  # None: no approval


class BudgetLine(TimestampMixin, Base):
    """A purchase plan line (采购计划/预算): what the unit may spend on a category this year.

    ``reserved`` is held by submitted orders, ``committed`` by signed contracts, ``spent`` paid;
    the rest is available. Amounts move by conditional UPDATEs, never read-modify-write.
    """

    __tablename__ = "budget_lines"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("reserved_fen >= 0 AND committed_fen >= 0 AND spent_fen >= 0",
                        name="states_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    fiscal_year: Mapped[int]
    project_code: Mapped[str] = mapped_column(String(40))
    project_name: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str] = mapped_column(String(9))  # a catalogue code, any level
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def available_fen(self) -> int:
        return self.amount_fen - self.reserved_fen - self.committed_fen - self.spent_fen


class CategorySpend(Base):
    """A unit's running totals per category and fiscal year (anti-splitting): its direct
    purchases (``total_fen``, against the direct-purchase limit) and its bidding-round
    purchases (``bidding_fen``); both count against the open-tender threshold."""

    __tablename__ = "category_spend"
    __table_args__ = (UniqueConstraint("organisation_id", "fiscal_year", "category_code",
                                       name="uq_category_spend_key"),
                      CheckConstraint("total_fen >= 0", name="total_not_negative"),
                      CheckConstraint("bidding_fen >= 0", name="bidding_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    fiscal_year: Mapped[int]
    category_code: Mapped[str] = mapped_column(String(9))
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    bidding_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
