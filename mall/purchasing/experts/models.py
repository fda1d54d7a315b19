"""Tables of random expert acceptance (随机抽取专家验收): the expert pool with each expert's
categories and declared ties, the operator's settings, a buyer's request, the draw of a
panel for an order and each drawn expert's review (mall.purchasing.experts.services)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mall.core.db import BIG_ID, Base, TimestampMixin, text_enum
from mall.purchasing.orders.models import AcceptanceResult


def level_prefix(code: str) -> str:
    """The part of a catalogue code that its descendants share: A05040000 -> A0504."""
    while code.endswith("00") and len(code) > 3:
        code = code[:-2]
    return code


class ExpertSettings(Base):
    """The operator's rule (one row, id 1): orders from this total need a panel of this many
    experts; without a row the defaults of the services apply."""

    __tablename__ = "expert_settings"
    __table_args__ = (
        CheckConstraint("threshold_fen > 0", name="threshold_positive"),
        CheckConstraint("panel_size BETWEEN 1 AND 9", name="panel_size_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    threshold_fen: Mapped[int] = mapped_column(BigInteger)
    panel_size: Mapped[int]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]


class ExpertProfile(TimestampMixin, Base):
    """One acceptance expert of the pool (专家库): the person's login, employer and the
    catalogue codes (prefixes) of the goods they may judge."""

    __tablename__ = "expert_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    employer_name: Mapped[str] = mapped_column(String(200))
    # The employer when it is an organisation of the mall (a unit or a supplier): an expert
    # is never drawn for its employer's orders.
    employer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"),
                                                        index=True)
    category_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    ties: Mapped[list[ExpertTie]] = relationship(back_populates="expert", order_by="ExpertTie.id",
                                                 cascade="all, delete-orphan")

    def judges(self, category_code: str) -> bool:
        """Whether ``category_code`` lies under one of the expert's codes (A05040000 covers
        every code that starts with A0504)."""
        return any(category_code.startswith(level_prefix(code)) for code in self.category_codes)


class ExpertTie(Base):
    """A tie the expert declared to an organisation of the mall (a former employer within
    three years, a relative's company, …): never drawn for its orders while it lasts."""

    __tablename__ = "expert_ties"
    __table_args__ = (UniqueConstraint("expert_id", "organisation_id",
                                       name="uq_expert_ties_expert_organisation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert_profiles.id", ondelete="CASCADE"),
                                           index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    note: Mapped[str] = mapped_column(String(200))
    until: Mapped[date | None]  # the last day it counts; None: for good
    created_at: Mapped[datetime]

    expert: Mapped[ExpertProfile] = relationship(back_populates="ties")

    def lasts_on(self, day: date) -> bool:
        return self.until is None or self.until >= day


class ExpertRequest(Base):
    """The buyer's request that experts accept an order below the amount that needs them."""

    __tablename__ = "expert_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("orders.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]


class ExpertDraw(Base):
    """The random draw of an order's panel: the seed, who and why, the experts considered in
    their stable order, those excluded with reasons, and those chosen (in the order drawn).
    ``random.Random(seed).sample(eligible_ids, panel_size)`` gives ``chosen_ids`` again."""

    __tablename__ = "expert_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("orders.id"), unique=True)
    basis: Mapped[str] = mapped_column(String(12))  # amount / request
    seed: Mapped[str] = mapped_column(String(64))
    panel_size: Mapped[int]
    eligible_ids: Mapped[list[int]] = mapped_column(JSON)
    chosen_ids: Mapped[list[int]] = mapped_column(JSON)
    excluded: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # expert_id, reasons
    drawn_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime]
    concluded_at: Mapped[datetime | None]  # the panel's acceptance was recorded
    result: Mapped[AcceptanceResult | None] = mapped_column(
        text_enum(AcceptanceResult, name="expert_panel_result", length=24))

    reviews: Mapped[list[ExpertReview]] = relationship(back_populates="draw",
                                                       order_by="ExpertReview.position",
                                                       cascade="all, delete-orphan")


class ExpertReview(Base):
    """One drawn expert's acceptance of the order: pass, partial or reject, the quantities
    accepted per line and the opinion, once signed."""

    __tablename__ = "expert_reviews"
    __table_args__ = (UniqueConstraint("draw_id", "expert_id", name="uq_expert_reviews_draw_expert"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("expert_draws.id", ondelete="CASCADE"),
                                         index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert_profiles.id"), index=True)
    position: Mapped[int]  # 专家 1, 2, 3: how the parties see the expert until acceptance
    result: Mapped[AcceptanceResult | None] = mapped_column(
        text_enum(AcceptanceResult, name="expert_review_result", length=24))
    quantities: Mapped[dict[str, int] | None] = mapped_column(JSON)  # line id -> accepted
    opinion: Mapped[str | None] = mapped_column(String(500))
    signed_at: Mapped[datetime | None]

    draw: Mapped[ExpertDraw] = relationship(back_populates="reviews")
    expert: Mapped[ExpertProfile] = relationship()
