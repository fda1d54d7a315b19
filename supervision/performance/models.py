"""Tables of supplier performance and sanctions: the monthly counts behind each supplier's
score (kept by the jobs, so pages never recompute them) and the sanctions the trading centre
and the supervisor impose."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mall.core.db import BIG_ID, Base, TimestampMixin, text_enum


class SupplierMonth(Base):
    """One supplier's performance in one month (Asia/Shanghai calendar): the counts each
    component of the score is computed from, and the score itself (0–100) for ranking."""

    __tablename__ = "supplier_months"
    __table_args__ = (UniqueConstraint("supplier_id", "month", name="uq_supplier_months_month"),
                      Index("ix_supplier_months_month_score", "month", "score"))

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    month: Mapped[date]  # the first day of the month
    computed_at: Mapped[datetime]
    # Orders the supplier had to confirm that it confirmed, and those it declined or let lapse.
    confirmed: Mapped[int] = mapped_column(default=0)
    not_confirmed: Mapped[int] = mapped_column(default=0)
    confirm_seconds: Mapped[int] = mapped_column(default=0)  # summed over the confirmed ones
    delivered: Mapped[int] = mapped_column(default=0)
    delivered_on_time: Mapped[int] = mapped_column(default=0)
    acceptances: Mapped[int] = mapped_column(default=0)
    acceptances_passed: Mapped[int] = mapped_column(default=0)
    returns: Mapped[int] = mapped_column(default=0)
    ratings: Mapped[int] = mapped_column(default=0)
    rating_points: Mapped[int] = mapped_column(default=0)  # quality + delivery + service, summed
    price_violations: Mapped[int] = mapped_column(default=0)
    challenges_upheld: Mapped[int] = mapped_column(default=0)
    complaints_upheld: Mapped[int] = mapped_column(default=0)
    score: Mapped[int]


class SanctionKind(enum.StrEnum):
    WARNING = "warning"  # 警告
    POINTS = "points"  # 扣分, counted per calendar year
    SUSPENSION = "suspension"  # 暂停 of some categories until a date
    EXPULSION = "expulsion"  # 清退: every admission ended
    BAD_CONDUCT = "bad_conduct"  # 不良行为记录名单, public, with a ban of 1–3 years


class Sanction(TimestampMixin, Base):
    """A sanction decided against a supplier, with its reason and dates; revocable with a
    reason. It is in force from ``starts_on`` until ``ends_on`` (none: no end) unless revoked."""

    __tablename__ = "supplier_sanctions"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[SanctionKind] = mapped_column(text_enum(SanctionKind, name="sanction_kind",
                                                         length=12))
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(200), default="")
    points: Mapped[int | None]
    # The admissions a suspension suspended (or an expulsion ended), to undo on revocation.
    admission_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    category_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None] = mapped_column(index=True)
    decided_at: Mapped[datetime]
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def in_force(self, today: date) -> bool:
        """Not revoked, begun, and not past its end date."""
        return (self.revoked_at is None and self.starts_on <= today
                and (self.ends_on is None or today < self.ends_on))
