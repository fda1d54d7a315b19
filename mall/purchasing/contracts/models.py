"""Tables of contracts and settlement orders and of the public notices they lead to."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mall.core.db import BIG_ID, Base, TimestampMixin, text_enum


class Contract(TimestampMixin, Base):
    """The document an order is concluded with: its contract (and who signed which
    fingerprint) or, for a settlement order, its 结算单, which nobody signs."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    html: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    supplier_signed_at: Mapped[datetime | None]
    supplier_signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supplier_signed_sha256: Mapped[str | None] = mapped_column(String(64))
    buyer_signed_at: Mapped[datetime | None]
    buyer_signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    buyer_signed_sha256: Mapped[str | None] = mapped_column(String(64))


class NoticeKind(enum.StrEnum):
    RESULT = "result"  # 成交结果公告
    CONTRACT = "contract"  # 合同公告
    ROUND = "round"  # 竞价公告: a bidding round opened
    ROUND_RESULT = "round_result"  # 竞价成交结果公告: every valid quote and the winner
    ROUND_FAILED = "round_failed"  # 竞价失败（流标）公告
    AWARD_CHANGED = "award_changed"  # 成交变更公告: the award passed to the next in rank
    ACCOUNT_CHANGE = "account_change"  # 合同账户变更公告: the contract's payee account changed


ROUND_NOTICE_KINDS = frozenset({NoticeKind.ROUND, NoticeKind.ROUND_RESULT,
                                NoticeKind.ROUND_FAILED, NoticeKind.AWARD_CHANGED})


class Notice(Base):
    """A public notice; due within 2 working days, published by a job, never if secret. An
    order's notices carry its id; a bidding round's carry the round's number (``reference``);
    a contract account change (one order may have several) carries the contract's number."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("order_id", "kind", name="uq_notices_order_kind"),
                      CheckConstraint("amount_fen >= 0", name="amount_not_negative"))

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    reference: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[NoticeKind] = mapped_column(
        text_enum(NoticeKind, name="notice_kind", length=24))
    title: Mapped[str] = mapped_column(String(300))
    buyer_name: Mapped[str] = mapped_column(String(200), index=True)
    supplier_name: Mapped[str] = mapped_column(String(200), index=True)
    category_codes: Mapped[str] = mapped_column(String(200))  # space separated
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    withheld: Mapped[bool] = mapped_column(default=False)  # secret: recorded, never published
    created_at: Mapped[datetime]
    due_by: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(index=True)


class PayeeAccountChange(Base):
    """One entry of an order's payee account history (收款账户): the account written into its
    contract or settlement order, then every change. ``locked``: a 政采贷 lender fixed it as
    its repayment account (回款账户), which only that lender may release. The latest entry is
    the account the unit pays into."""

    __tablename__ = "payee_account_changes"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime]
    bank_name: Mapped[str] = mapped_column(String(100))
    account_name: Mapped[str] = mapped_column(String(200))
    account_number: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(300))  # empty: the account in the contract
    locked: Mapped[bool] = mapped_column(default=False)
    # The lender that locked the account (or, on a release entry, released it).
    lender_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
