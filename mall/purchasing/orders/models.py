"""Tables of carts and orders: checkouts, orders with their lines and steps, acceptance,
ratings, returns and the notifications the steps send."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mall.core.db import BIG_ID, Base, TimestampMixin, text_enum


class CartItem(Base):
    """One offer in a buyer's cart."""

    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("user_id", "offer_id", name="uq_cart_items_user_offer"),
                      CheckConstraint("quantity > 0", name="quantity_positive"))

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    added_at: Mapped[datetime]


class Checkout(Base):
    """One submission of a cart; its token makes a repeated submission harmless."""

    __tablename__ = "checkouts"
    __table_args__ = (UniqueConstraint("user_id", "token", name="uq_checkouts_user_token"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token: Mapped[str] = mapped_column(String(80))
    # An API checkout's token comes from its Idempotency-Key; the request's fingerprint tells
    # a retry from another request sent with the same key. None for the form's tokens.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class OrderStatus(enum.StrEnum):
    """Where an order stands; transitions live in mall.purchasing.orders.steps."""

    PENDING_APPROVAL = "pending_approval"  # 待内部审批
    SENT = "sent"  # 已发送供应商，待确认
    CONFIRMED = "confirmed"  # 供应商已确认
    SUPPLIER_SIGNED = "supplier_signed"  # 供应商已签约
    SIGNED = "signed"  # 合同已签订
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"  # 验收完成（通过或部分通过）
    INVOICED = "invoiced"
    PAID = "paid"
    RATED = "rated"
    CANCELLED = "cancelled"
    RETURNED = "returned"  # 验收不通过，或所验收的货物全部退回且款项已退回


class PurchaseMode(enum.StrEnum):
    """How an order came about (docs/domain.md: Purchase modes and thresholds)."""

    DIRECT = "direct"  # 直购: the cart at list prices
    QUICK = "quick"  # 商城竞价: the award of a quick-bidding round
    FRAMEWORK = "framework"  # 入围竞价: the award of a round among framework suppliers


class Paperwork(enum.StrEnum):
    """What an order is concluded with (decided when the supplier confirms it)."""

    CONTRACT = "contract"  # 政府采购合同, signed by the supplier, then the buyer
    SETTLEMENT = "settlement"  # 结算单: small non-catalogue orders, nothing to sign


class AcceptanceResult(enum.StrEnum):
    PASS = "pass"
    PARTIAL = "partial"
    REJECT = "reject"


class Order(TimestampMixin, Base):
    """One supplier's share of a checkout: the unit's order, later its contract."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_fen >= 0 AND paid_fen >= 0 AND refunded_fen >= 0 "
                        "AND accepted_fen >= 0", name="amounts_not_negative"),
        CheckConstraint("delivery_days > 0", name="delivery_days_positive"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id"), index=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    buyer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_lines.id"), index=True)
    fiscal_year: Mapped[int]
    status: Mapped[OrderStatus] = mapped_column(
        text_enum(OrderStatus, name="order_status", length=24), index=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    # reserved -> committed (signed) -> spent (paid), or released (cancelled)
    budget_state: Mapped[str] = mapped_column(String(12), default="reserved")
    delivery_address: Mapped[str] = mapped_column(String(300))
    # The buyer's delivery term: the supplier delivers within this many days of the contract
    # (or settlement order) taking effect.
    delivery_days: Mapped[int] = mapped_column(default=7, server_default="7")
    contact: Mapped[str] = mapped_column(String(100))
    secret: Mapped[bool] = mapped_column(default=False)  # 涉密: the contract is not published
    # A bidding round's award counts in the unit's bidding totals, not against the
    # direct-purchase limit (mall.purchasing.orders.awards).
    purchase_mode: Mapped[PurchaseMode] = mapped_column(
        text_enum(PurchaseMode, name="purchase_mode", length=12), default=PurchaseMode.DIRECT,
        server_default=PurchaseMode.DIRECT.value)
    # The bidding round an award order came from (its number); None for a direct purchase.
    reference: Mapped[str | None] = mapped_column(String(40))
    paperwork: Mapped[Paperwork] = mapped_column(text_enum(Paperwork, name="order_paperwork", length=24),
                                                 default=Paperwork.CONTRACT,
                                                 server_default=Paperwork.CONTRACT.value)
    submitted_at: Mapped[datetime]
    confirm_by: Mapped[datetime | None] = mapped_column(index=True)  # supplier must confirm by
    confirm_reminded: Mapped[bool] = mapped_column(default=False)
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(60))
    invoice_number: Mapped[str | None] = mapped_column(String(40))
    invoiced_at: Mapped[datetime | None]
    pay_by: Mapped[datetime | None] = mapped_column(index=True)
    pay_reminded: Mapped[bool] = mapped_column(default=False)
    overdue_alerted: Mapped[bool] = mapped_column(default=False)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted_fen: Mapped[int | None] = mapped_column(BigInteger)  # what the unit owes after acceptance
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    # Why it waited for the unit's approver: its own amount, or with the orders it was split
    # from (mall.purchasing.orders.splitting); None: it did not wait.
    approval_basis: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                  cascade="all, delete-orphan")
    steps: Mapped[list[OrderStep]] = relationship(order_by="OrderStep.id",
                                                  cascade="all, delete-orphan")

    @property
    def amount_due_fen(self) -> int:
        """What the unit pays: the accepted value once accepted, else the order total."""
        due = self.total_fen if self.accepted_fen is None else self.accepted_fen
        return due - self.paid_fen + self.refunded_fen


class OrderLine(Base):
    """An offer bought: price and names taken from the offer at submission and kept. A
    bidding round's item named on a blank form has no offer and no product."""

    __tablename__ = "order_lines"
    # A line keeps the price it was bought at: offers' prices are above zero, but a line
    # bought at zero before 0009 (and signed) stays as it is.
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_fen >= 0", name="unit_price_not_negative"),
        CheckConstraint("accepted_quantity >= 0 AND accepted_quantity <= quantity",
                        name="accepted_within_quantity"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    category_code: Mapped[str] = mapped_column(String(9))
    title: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int]
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    # The supplier's public price (参考价) copied from the offer at checkout: the budget a
    # direct purchase's savings are measured against (None: the offer had none, or before 0017).
    reference_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    accepted_quantity: Mapped[int | None]

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def amount_fen(self) -> int:
        return self.quantity * self.unit_price_fen


class OrderStep(Base):
    """The order's timeline: every transition, who made it, and the next deadline it set."""

    __tablename__ = "order_steps"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    deadline: Mapped[datetime | None]


class Acceptance(Base):
    """The acceptance record (验收书) of an order."""

    __tablename__ = "acceptances"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    result: Mapped[AcceptanceResult] = mapped_column(
        text_enum(AcceptanceResult, name="acceptance_result", length=24))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # line id, ordered, accepted
    reasons: Mapped[str | None] = mapped_column(String(1000))
    accepted_on: Mapped[date]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Rating(Base):
    """The unit's rating of an order's supplier (1-5 each)."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    quality: Mapped[int]
    delivery: Mapped[int]
    service: Mapped[int]
    comment: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class ReturnStatus(enum.StrEnum):
    """Where a return of goods stands (docs/domain.md: returns are agreed by both parties)."""

    REQUESTED = "requested"  # 退货申请，待供应商答复
    REFUSED = "refused"  # 供应商拒绝；采购单位可申请运营方裁决
    DISPUTED = "disputed"  # 争议，待运营方裁决
    AGREED = "agreed"  # 同意退货，待采购单位寄回
    SHIPPED = "shipped"  # 已寄回，待供应商确认收货
    RECEIVED = "received"  # 供应商已收货，待退款（国库支付：待财务登记供应商退款）
    REFUND_PENDING = "refund_pending"  # 公务卡退款已提交，待卡组织确认
    COMPLETED = "completed"  # 款项已退回（或未付款，应付金额已减少）
    REJECTED = "rejected"  # 运营方裁决不予退货


OPEN_RETURN_STATUSES = (ReturnStatus.REQUESTED, ReturnStatus.DISPUTED, ReturnStatus.AGREED,
                        ReturnStatus.SHIPPED, ReturnStatus.RECEIVED, ReturnStatus.REFUND_PENDING)


class OrderReturn(TimestampMixin, Base):
    """A return of accepted goods (退货): asked by the unit, agreed by the supplier (or the
    operator on a dispute), the goods sent back, then the money refunded. Budget and running
    totals move only when the money is back, by the refunded amount."""

    __tablename__ = "order_returns"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refund_due_fen >= 0 AND refunded_fen >= 0 AND refunded_fen <= "
                        "refund_due_fen", name="refund_within_due"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[ReturnStatus] = mapped_column(
        text_enum(ReturnStatus, name="return_status", length=24), index=True)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # line id, title, quantity, price
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # value of the goods sent back
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    supplier_note: Mapped[str | None] = mapped_column(String(500))  # why it was refused
    supplier_decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supplier_decided_at: Mapped[datetime | None]
    dispute_reason: Mapped[str | None] = mapped_column(String(500))
    disputed_at: Mapped[datetime | None]
    operator_note: Mapped[str | None] = mapped_column(String(500))
    operator_decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    operator_decided_at: Mapped[datetime | None]
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(60))
    shipped_at: Mapped[datetime | None]
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime | None]
    # What must come back once the goods are received: the part of the money paid that the
    # goods sent back were paid with (0 when the order is not paid yet).
    refund_due_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_method: Mapped[str | None] = mapped_column(String(12))  # card / treasury
    refund_reference: Mapped[str | None] = mapped_column(String(200))  # refund ids or voucher
    refunded_on: Mapped[date | None]
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None]


class Notification(Base):
    """An in-app message to the people of an organisation (and e-mail when SMTP is set)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))  # msgid, formatted with params when shown
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(index=True)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
