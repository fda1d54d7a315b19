"""Orders split around the unit's approval amount (拆分采购): at checkout, the unit's recent orders
to the same supplier, or in the same category, count together with the new one.

An order whose own total passes the unit's approval amount waits for the approver; so does
one that, with the unit's other orders of the window (a purchase setting, default 7 days;
cancelled and returned orders left out), passes it for one supplier or one category. The
order keeps why (``Order.approval_basis``) and the orders that made it, for the approver.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mall.purchasing.budget.models import UnitSettings
from mall.purchasing.orders.cart import SupplierGroup
from mall.purchasing.orders.models import Order, OrderLine, OrderStatus, PurchaseMode

AMOUNT, SPLIT = "amount", "split"  # why an order waits for approval
SUPPLIER, CATEGORY = "supplier", "category"  # what split orders have in common
NOT_COUNTED = (OrderStatus.CANCELLED, OrderStatus.RETURNED)


@dataclass
class _Counted:
    """An order of the window: its supplier, total and amount per category."""

    order_id: int | None  # None: an order of this checkout, whose id comes with the flush
    number: str
    submitted_at: datetime
    supplier_id: int
    total_fen: int
    by_category: dict[str, int] = field(default_factory=dict)


@dataclass
class _Finding:
    basis: str
    category_code: str | None
    sum_fen: int
    related: list[tuple[_Counted, int]]


class SplitCheck:
    """The unit's orders of the window, read once per checkout, and the orders it adds."""

    def __init__(self, session: Session, *, organisation_id: int, approval_above_fen: int,
                 window_days: int, moment: datetime) -> None:
        self.approval_above_fen, self.window_days = approval_above_fen, window_days
        self.counted: list[_Counted] = []
        self.findings: dict[str, list[_Finding]] = {}  # by order number
        if window_days <= 0:
            return
        # Checkouts of one unit take turns here, so two halves submitted at the same moment
        # still see each other (SQLite serialises writers anyway).
        session.execute(select(UnitSettings.organisation_id).where(
            UnitSettings.organisation_id == organisation_id).with_for_update())
        rows = session.execute(
            select(Order.id, Order.number, Order.submitted_at, Order.supplier_id,
                   Order.total_fen, OrderLine.category_code,
                   func.sum(OrderLine.quantity * OrderLine.unit_price_fen))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.buyer_org_id == organisation_id,
                   # A bidding round's award was the unit's decision, not a direct purchase.
                   Order.purchase_mode == PurchaseMode.DIRECT,
                   Order.submitted_at > moment - timedelta(days=window_days),
                   Order.status.not_in(NOT_COUNTED))
            .group_by(Order.id, Order.number, Order.submitted_at, Order.supplier_id,
                      Order.total_fen, OrderLine.category_code)
            .order_by(Order.submitted_at, Order.id)).all()
        by_id: dict[int, _Counted] = {}
        for order_id, number, submitted_at, supplier_id, total, code, amount in rows:
            entry = by_id.get(order_id)
            if entry is None:
                entry = by_id[order_id] = _Counted(order_id, number, submitted_at,
                                                   supplier_id, total)
                self.counted.append(entry)
            entry.by_category[code] = int(amount)  # SUM is NUMERIC on PostgreSQL

    def needs_approval(self, group: SupplierGroup, *, number: str, moment: datetime) -> bool:
        """Whether the order about to be made of ``group`` waits for the approver; counts it
        for the orders that follow in the same checkout."""
        by_category: dict[str, int] = defaultdict(int)
        for line in group.lines:
            by_category[line.category_code] += line.amount_fen
        total = group.total_fen
        entry = _Counted(None, number, moment, group.supplier_id, total, dict(by_category))
        if total > self.approval_above_fen:
            self.counted.append(entry)
            return True
        findings = []
        same_supplier = [c for c in self.counted if c.supplier_id == group.supplier_id]
        supplier_total = total + sum(c.total_fen for c in same_supplier)
        if same_supplier and supplier_total > self.approval_above_fen:
            findings.append(_Finding(SUPPLIER, None, supplier_total,
                                     [(c, c.total_fen) for c in same_supplier]))
        for code, amount in sorted(by_category.items()):
            same_category = [c for c in self.counted if code in c.by_category]
            category_total = amount + sum(c.by_category[code] for c in same_category)
            if same_category and category_total > self.approval_above_fen:
                findings.append(_Finding(CATEGORY, code, category_total,
                                         [(c, c.by_category[code]) for c in same_category]))
        self.counted.append(entry)
        if findings:
            self.findings[number] = findings
        return bool(findings)

    def basis(self, order: Order, checkout_orders: Sequence[Order]) -> dict[str, Any]:
        """Why a waiting order waits, once the checkout's orders have their ids: its own
        amount, or the split with the related orders (id, number, amount counted, date)."""
        findings = self.findings.get(order.number)
        if not findings:
            return {"reason": AMOUNT, "approval_above_fen": self.approval_above_fen}
        ids = {o.number: o.id for o in checkout_orders}
        return {"reason": SPLIT, "approval_above_fen": self.approval_above_fen,
                "window_days": self.window_days,
                "groups": [{"basis": f.basis, "category_code": f.category_code,
                            "sum_fen": f.sum_fen,
                            "orders": [{"id": c.order_id or ids[c.number], "number": c.number,
                                        "amount_fen": amount,
                                        "submitted_at": c.submitted_at.isoformat()}
                                       for c, amount in f.related]}
                           for f in findings]}


@dataclass(frozen=True)
class RelatedOrder:
    """An earlier order counted with a waiting one: what it counted and when it was made."""

    id: int
    number: str
    amount_fen: int
    submitted_at: datetime


@dataclass(frozen=True)
class SplitGroup:
    """Orders to one supplier (``category_code`` None) or in one category, summed."""

    basis: str
    category_code: str | None
    sum_fen: int
    orders: tuple[RelatedOrder, ...]


@dataclass(frozen=True)
class ApprovalReason:
    """Why an order waited for the unit's approver, as its pages show it."""

    reason: str  # AMOUNT or SPLIT
    approval_above_fen: int
    window_days: int | None = None
    groups: tuple[SplitGroup, ...] = ()


def approval_reason(order: Order) -> ApprovalReason | None:
    """The recorded reason an order waited for approval (None: it did not wait)."""
    basis = order.approval_basis
    if not basis:
        return None
    return ApprovalReason(
        reason=basis["reason"], approval_above_fen=basis["approval_above_fen"],
        window_days=basis.get("window_days"),
        groups=tuple(SplitGroup(g["basis"], g["category_code"], g["sum_fen"], tuple(
            RelatedOrder(o["id"], o["number"], o["amount_fen"],
                         datetime.fromisoformat(o["submitted_at"])) for o in g["orders"]))
            for g in basis.get("groups", ())))
