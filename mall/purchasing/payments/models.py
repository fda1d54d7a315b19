"""Tables of payments: card payments and treasury vouchers, and the card gateway's webhooks."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mall.core.db import BIG_ID, Base, text_enum


class PaymentMethod(enum.StrEnum):
    CARD = "card"  # 公务卡, through Stripe
    TREASURY = "treasury"  # 国库集中支付


class Payment(Base):
    """Money moving for an order: a card payment (and its refunds) or a treasury transfer."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen",
                        name="refunded_within_amount"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(
        text_enum(PaymentMethod, name="payment_method", length=24))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(24))  # pending/processing/succeeded/failed
    intent_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    voucher_number: Mapped[str | None] = mapped_column(String(60))
    paid_on: Mapped[date | None]
    # The account the money went to: named by the treasury transfer, the contract's payee
    # account for a card payment (None before 0015).
    payee_account_number: Mapped[str | None] = mapped_column(String(40))
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def card_intent_id(self) -> str:
        """The Stripe PaymentIntent of a card payment; a treasury transfer has none."""
        if self.intent_id is None:
            raise ValueError(f"payment {self.id} has no card intent")
        return self.intent_id


class WebhookReceipt(Base):
    """A payment provider event already handled: replays are acknowledged and ignored."""

    __tablename__ = "webhook_receipts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    event_type: Mapped[str] = mapped_column(String(60))
    received_at: Mapped[datetime]
