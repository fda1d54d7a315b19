"""Tables of bidding rounds (商城竞价 and 入围竞价): the round and its items, the sealed quotes
with every submission kept, the award chain, challenges and complaints, collusion signals and
the settings."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mall.core.db import BIG_ID, Base, TimestampMixin, text_enum


class RoundMode(enum.StrEnum):
    QUICK = "quick"  # 商城竞价: every supplier admitted for the category and region
    FRAMEWORK = "framework"  # 入围竞价: suppliers under a live framework agreement


class RoundStatus(enum.StrEnum):
    """Where a round stands: open for quotes until its deadline, then closed and ranked; with
    enough valid quotes the award goes to the first in rank (awarded) until one confirms
    (confirmed: the order exists); too few quotes, or no one left to award, and it failed."""

    OPEN = "open"
    CLOSED = "closed"  # claimed by the closing sweep, being ranked (never seen after commit)
    FAILED = "failed"  # 流标
    AWARDED = "awarded"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class BiddingRound(TimestampMixin, Base):
    """A unit's purchase put out to competition, with its budget reservation and deadline."""

    __tablename__ = "bidding_rounds"
    __table_args__ = (
        CheckConstraint("ceiling_fen > 0", name="ceiling_positive"),
        CheckConstraint("sme_deduction_pct BETWEEN 10 AND 20", name="sme_deduction_range"),
        CheckConstraint("delivery_days > 0", name="delivery_days_positive"),
        Index("ix_bidding_rounds_open_deadline", "status", "deadline"),
        UniqueConstraint("buyer_user_id", "request_token", name="uq_bidding_rounds_request_token"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    mode: Mapped[RoundMode] = mapped_column(text_enum(RoundMode, name="round_mode", length=12))
    status: Mapped[RoundStatus] = mapped_column(
        text_enum(RoundStatus, name="round_status", length=12), index=True)
    title: Mapped[str] = mapped_column(String(200))
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    buyer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_lines.id"), index=True)
    fiscal_year: Mapped[int]
    ceiling_fen: Mapped[int] = mapped_column(BigInteger)
    # The budget still held by the round: the ceiling until the award's order takes its own
    # amount, or the round fails or is cancelled (then 0).
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    region_code: Mapped[str] = mapped_column(String(6))
    delivery_address: Mapped[str] = mapped_column(String(300))
    contact: Mapped[str] = mapped_column(String(100))
    delivery_days: Mapped[int]
    sme_deduction_pct: Mapped[int]
    sme_reserved: Mapped[bool] = mapped_column(Boolean, default=False)  # 专门面向中小企业
    framework_agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("framework_agreements.id"))
    invited_supplier_ids: Mapped[list[int] | None] = mapped_column(JSON)
    min_quotes: Mapped[int]  # the setting when the round was published
    confirm_hours: Mapped[int]
    published_at: Mapped[datetime]
    deadline: Mapped[datetime]
    quote_count: Mapped[int] = mapped_column(default=0)  # the only figure shown before closing
    closed_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(String(40))  # too_few_quotes, ...
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    rerun_of_id: Mapped[int | None] = mapped_column(ForeignKey("bidding_rounds.id"))
    # The one-time token of the form that published it (a resubmission replays the round).
    request_token: Mapped[str | None] = mapped_column(String(80))

    items: Mapped[list[RoundItem]] = relationship(order_by="RoundItem.position",
                                                  cascade="all, delete-orphan", lazy="selectin")


class RoundItem(Base):
    """One thing wanted: a catalogue leaf, a name and specification, a quantity and unit."""

    __tablename__ = "round_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("bidding_rounds.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int]
    category_code: Mapped[str] = mapped_column(String(9))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(300))
    spec: Mapped[str] = mapped_column(String(1000), default="")
    quantity: Mapped[int]
    unit: Mapped[str] = mapped_column(String(10))


class QuoteStatus(enum.StrEnum):
    VALID = "valid"
    STRUCK = "struck"  # removed by an upheld challenge


class Quote(Base):
    """A supplier's sealed quote in a round: the last submission counts (the lines hold it)."""

    __tablename__ = "quotes"
    __table_args__ = (UniqueConstraint("round_id", "supplier_id", name="uq_quotes_round_supplier"),
                      CheckConstraint("total_fen > 0 AND evaluated_fen > 0",
                                      name="amounts_positive"))

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("bidding_rounds.id", ondelete="CASCADE"),
                                          index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[QuoteStatus] = mapped_column(text_enum(QuoteStatus, name="quote_status",
                                                          length=12), default=QuoteStatus.VALID)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    evaluated_fen: Mapped[int] = mapped_column(BigInteger)  # after the SME deduction, if any
    sme_deducted: Mapped[bool] = mapped_column(Boolean, default=False)
    sme_goods: Mapped[bool] = mapped_column(Boolean, default=False)  # goods made by an SME
    first_at: Mapped[datetime]
    final_at: Mapped[datetime]  # the last revision: ties go to the earliest
    revisions: Mapped[int] = mapped_column(default=1)
    rank: Mapped[int | None]
    lines: Mapped[list[QuoteLine]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                  order_by="QuoteLine.item_id")


class QuoteLine(Base):
    __tablename__ = "quote_lines"
    __table_args__ = (UniqueConstraint("quote_id", "item_id", name="uq_quote_lines_quote_item"),
                      CheckConstraint("unit_price_fen > 0", name="unit_price_positive"))

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("round_items.id", ondelete="CASCADE"))
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))  # its mall offer
    brand: Mapped[str] = mapped_column(String(80), default="")
    model: Mapped[str] = mapped_column(String(120), default="")


class QuoteSubmission(Base):
    """Every submission of a quote, with who sent it from where: the evidence the collusion
    signals read. Sealed like the quote until the round closes."""

    __tablename__ = "quote_submissions"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None]
    at: Mapped[datetime]
    total_fen: Mapped[int] = mapped_column(BigInteger)
    client_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    device_fingerprint: Mapped[str | None] = mapped_column(String(64))


class AwardOutcome(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    LAPSED = "lapsed"  # no answer within the confirmation window
    UNRESPONSIVE = "unresponsive"  # declared so by the buyer, with a reason
    STRUCK = "struck"  # its quote was struck by an upheld challenge


class Award(Base):
    """One offer of the award to a ranked quote, and how it ended."""

    __tablename__ = "round_awards"
    __table_args__ = (Index("ix_round_awards_pending", "outcome", "confirm_by"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("bidding_rounds.id", ondelete="CASCADE"),
                                          index=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"))
    rank: Mapped[int]
    offered_at: Mapped[datetime]
    confirm_by: Mapped[datetime]
    outcome: Mapped[AwardOutcome] = mapped_column(
        text_enum(AwardOutcome, name="award_outcome", length=14), default=AwardOutcome.PENDING)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))


class ChallengeStatus(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class Challenge(TimestampMixin, Base):
    """A 质疑 of a round's result by a supplier that quoted, answered by the operator."""

    __tablename__ = "round_challenges"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("bidding_rounds.id", ondelete="CASCADE"),
                                          index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime]
    grounds: Mapped[str] = mapped_column(Text)
    # The quote the challenger says should be struck (None: another ground).
    target_quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    may_change_result: Mapped[bool] = mapped_column(Boolean, default=True)
    answer_by: Mapped[datetime]
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ChallengeStatus] = mapped_column(
        text_enum(ChallengeStatus, name="challenge_status", length=12),
        default=ChallengeStatus.PENDING, index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ComplaintStatus(enum.StrEnum):
    PENDING = "pending"
    DISMISSED = "dismissed"  # 驳回
    UPHELD = "upheld"  # 成立


class ComplaintRemedy(enum.StrEnum):
    """What an upheld complaint does to the round."""

    STRIKE = "strike"  # a quote struck, the award passed on to the next in rank
    VOID = "void"  # the result voided: the round fails and the buyer may run it again
    FINDING = "finding"  # the wrong is found but the result stands (the contract was signed)


class Complaint(TimestampMixin, Base):
    """A 投诉 to the supervisor by a supplier whose challenge was answered (or not in time),
    decided by the supervisor within 30 working days; it may suspend the award meanwhile."""

    __tablename__ = "round_complaints"
    __table_args__ = (Index("ix_round_complaints_pending", "status", "decide_by"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("round_challenges.id", ondelete="CASCADE"), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("bidding_rounds.id", ondelete="CASCADE"),
                                          index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grounds: Mapped[str] = mapped_column(Text)
    request: Mapped[str] = mapped_column(Text, default="")  # what the complainant asks for
    filed_at: Mapped[datetime]
    decide_by: Mapped[datetime]
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)  # 暂停采购活动
    suspended_at: Mapped[datetime | None]
    status: Mapped[ComplaintStatus] = mapped_column(
        text_enum(ComplaintStatus, name="complaint_status", length=12),
        default=ComplaintStatus.PENDING)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    remedy: Mapped[ComplaintRemedy | None] = mapped_column(
        text_enum(ComplaintRemedy, name="complaint_remedy", length=12))
    struck_quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)  # before decide_by
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)  # after it


class CollusionSignal(Base):
    """A pattern among quotes that a supervisor should look at, with its evidence; it blocks
    nothing by itself."""

    __tablename__ = "collusion_signals"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("bidding_rounds.id",
                                                            ondelete="CASCADE"), index=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # shared_ip, same_prices, rotating_winners, ...
    supplier_ids: Mapped[list[int]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    found_at: Mapped[datetime]


class RoundSettings(Base):
    """The mall's bidding settings (one row; absent: the defaults in bidding_rounds.settings)."""

    __tablename__ = "round_settings"
    __table_args__ = (
        CheckConstraint("min_window_hours >= 1 AND default_window_hours >= min_window_hours",
                        name="window_hours_range"),
        CheckConstraint("min_quotes >= 1", name="min_quotes_positive"),
        CheckConstraint("confirm_hours >= 1", name="confirm_hours_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    default_window_hours: Mapped[int] = mapped_column(default=24)
    min_window_hours: Mapped[int] = mapped_column(default=1)
    min_quotes: Mapped[int] = mapped_column(default=3)
    confirm_hours: Mapped[int] = mapped_column(default=72)
