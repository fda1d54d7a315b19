"""Tables of contract financing (政采贷): the banks' products, suppliers' consents and the banks'
reads of them, the sequenced feed of contract changes, loans, and webhooks to the banks."""

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


class FinanceProduct(TimestampMixin, Base):
    """A bank's contract-financing product: how much of a contract it lends, at what rates,
    for how long, in which regions."""

    __tablename__ = "finance_products"
    __table_args__ = (
        CheckConstraint("max_share_pct BETWEEN 1 AND 100", name="max_share_range"),
        CheckConstraint("rate_min_bp > 0 AND rate_max_bp >= rate_min_bp", name="rate_range"),
        CheckConstraint("term_days > 0", name="term_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    max_share_pct: Mapped[int]  # of the contract amount
    rate_min_bp: Mapped[int]  # yearly rate in basis points (1 bp = 0.01 %)
    rate_max_bp: Mapped[int]
    term_days: Mapped[int]
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)  # 6-digit codes; 000000 all
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ConsentScope(enum.StrEnum):
    ALL = "all"  # every contract of the supplier, present and future
    CHOSEN = "chosen"  # the contracts listed


class Consent(TimestampMixin, Base):
    """A supplier's consent that a bank read its contracts, until it expires or is revoked."""

    __tablename__ = "finance_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    bank_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    scope: Mapped[ConsentScope] = mapped_column(text_enum(ConsentScope, name="consent_scope",
                                                          length=10))
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    orders: Mapped[list[ConsentOrder]] = relationship(cascade="all, delete-orphan",
                                                      lazy="selectin")


class ConsentOrder(Base):
    """A contract (its order) a CHOSEN consent covers."""

    __tablename__ = "finance_consent_orders"
    __table_args__ = (UniqueConstraint("consent_id", "order_id",
                                       name="uq_finance_consent_orders_pair"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("finance_consents.id",
                                                       ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)


class AccessRecord(Base):
    """One read of a supplier's contract by a bank: who, which contract, when, how."""

    __tablename__ = "finance_access_log"
    __table_args__ = (Index("ix_finance_access_log_supplier_at", "supplier_id", "at"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    bank_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None]
    via: Mapped[str] = mapped_column(String(12))  # feed, detail, lookup, page
    at: Mapped[datetime]


class FeedHead(Base):
    """The last sequence number given out; its row lock orders the sequencers."""

    __tablename__ = "finance_feed_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedChange(Base):
    """A change of a contract, numbered in the order it was sequenced: the banks' cursor.

    Numbers are consecutive and given out under the head's lock in the sequencer's
    transaction, so a reader that has seen number n has seen every number below it."""

    __tablename__ = "finance_feed"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    step: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]


class LoanStatus(enum.StrEnum):
    APPLIED = "applied"  # application received
    APPROVED = "approved"
    REJECTED = "rejected"
    DISBURSED = "disbursed"
    REPAID = "repaid"  # fully repaid
    CLOSED = "closed"


class Loan(TimestampMixin, Base):
    """A loan against one contract, as the bank reports it."""

    __tablename__ = "finance_loans"
    __table_args__ = (
        CheckConstraint("requested_fen >= 0 AND approved_fen >= 0 AND disbursed_fen >= 0 "
                        "AND repaid_fen >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    bank_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("finance_products.id"))
    status: Mapped[LoanStatus] = mapped_column(text_enum(LoanStatus, name="loan_status",
                                                         length=12), index=True)
    requested_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    approved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_bp: Mapped[int | None]
    term_days: Mapped[int | None]
    disbursed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    disbursed_on: Mapped[datetime | None]
    repaid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # The bank's repayment account (回款账户) the contract's payee is locked to on disbursement.
    repayment_bank_name: Mapped[str | None] = mapped_column(String(100))
    repayment_account_name: Mapped[str | None] = mapped_column(String(200))
    repayment_account_number: Mapped[str | None] = mapped_column(String(40))
    bank_reference: Mapped[str | None] = mapped_column(String(60))  # the bank's own number
    note: Mapped[str | None] = mapped_column(String(500))

    events: Mapped[list[LoanEvent]] = relationship(order_by="LoanEvent.id",
                                                   cascade="all, delete-orphan", lazy="selectin")


class LoanEvent(Base):
    """A step of a loan (application, approval, disbursement, repayment, ...) with its amount."""

    __tablename__ = "finance_loan_events"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("finance_loans.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(String(12))  # a LoanStatus value, or "repayment"
    at: Mapped[datetime]
    on_day: Mapped[datetime | None]  # the bank's value date, when it gives one
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None]


class WebhookEndpoint(TimestampMixin, Base):
    """Where a bank receives events, with the secret its signatures are made with."""

    __tablename__ = "finance_webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every event
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last retry (replayable by hand)


class WebhookDelivery(Base):
    """One event for one endpoint, and how its delivery went."""

    __tablename__ = "finance_webhook_deliveries"
    __table_args__ = (Index("ix_finance_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("finance_webhook_endpoints.id",
                                                        ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(
        text_enum(DeliveryStatus, name="delivery_status", length=12),
        default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
