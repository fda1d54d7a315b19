"""The statistics' facts, kept by a job: the months touched since the last run are recounted
from the orders and rounds, every other month is left as it is.

A month is touched when an order submitted in it, or a round published in it (or one of its
challenges or complaints) changed since the watermark (their ``updated_at``). The watermark
is the run's start less a margin, so a change committed while a run was reading is counted by
the next; recounting a month twice gives the same rows. A month is the local
(Asia/Shanghai) calendar month in which the order was submitted or the round published.

Deals (成交) are orders the supplier confirmed that were neither cancelled nor returned
whole; their amount is the order's total. The budget of a direct purchase is the lines'
reference prices (参考价, the supplier's public price copied onto the line at checkout; a
line without one counts at its own price, saving nothing); the budget of a round's award is
the round's ceiling (最高限价)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.orm import Session

from bidding_rounds.models import BiddingRound, Challenge, Complaint, RoundItem, RoundStatus
from mall.accounts.models import Organisation
from mall.core.bulk import insert as bulk_insert
from mall.core.clock import SHANGHAI, now, to_local
from mall.purchasing.orders.models import Order, OrderLine, OrderStatus, OrderStep
from supervision.statistics.models import (
    CategoryFact,
    OrderFact,
    RoundFact,
    StatisticsRefresh,
    SupplierFact,
)
from suppliers.models import SizeClass, SupplierProfile

MARGIN = timedelta(minutes=10)  # a transaction open longer than this may be missed once
NOT_DEALS = (OrderStatus.PENDING_APPROVAL, OrderStatus.SENT, OrderStatus.CANCELLED,
             OrderStatus.RETURNED)
ENDED_ROUNDS = (RoundStatus.FAILED, RoundStatus.AWARDED, RoundStatus.CONFIRMED)
STATE_ID = 1


def month_of(moment: datetime) -> int:
    """The local month of a stored time as yyyymm."""
    local = to_local(moment)
    return local.year * 100 + local.month


def month_bounds(month: int) -> tuple[datetime, datetime]:
    """The UTC start and end (exclusive) of a local month."""
    year, number = divmod(month, 100)
    start = datetime(year, number, 1, tzinfo=SHANGHAI)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=SHANGHAI)
    return start.astimezone(UTC), end.astimezone(UTC)


def months_between(first: int, last: int) -> list[int]:
    """Every month from ``first`` to ``last`` (yyyymm), both included."""
    found, month = [], first
    while month <= last:
        found.append(month)
        year, number = divmod(month, 100)
        month = (year + 1) * 100 + 1 if number == 12 else month + 1
    return found


def level2(code: str) -> str:
    """The level-2 category a catalogue code sits under (A05040101 -> A05040000)."""
    return code[:5].ljust(9, "0")


@dataclass(frozen=True)
class Refreshed:
    months: list[int]
    order_rows: int
    round_rows: int


def refresh(session: Session, *, moment: datetime | None = None, full: bool = False
            ) -> Refreshed:
    """Recount the facts of every month touched since the last run (``full``: of every
    month there are orders or rounds in); the watermark moves to this run's start."""
    moment = moment or now()
    state = session.scalar(select(StatisticsRefresh).where(StatisticsRefresh.id == STATE_ID)
                           .with_for_update())
    if state is None:
        state = StatisticsRefresh(id=STATE_ID, changed_since=None, months=0)
        session.add(state)
        session.flush()
    since = None if full else state.changed_since
    months = sorted(touched_months(session, since))
    context = _Context.load(session)
    order_rows = round_rows = 0
    for month in months:
        order_rows += recount_orders(session, month, context)
        round_rows += recount_rounds(session, month)
    state.changed_since = moment - MARGIN
    state.refreshed_at = moment
    state.months = len(months)
    session.flush()
    return Refreshed(months, order_rows, round_rows)


def touched_months(session: Session, since: datetime | None) -> set[int]:
    """The months whose orders or rounds changed since ``since`` (None: every month)."""
    if since is None:
        bounds = [session.execute(select(func.min(column), func.max(column))).one()
                  for column in (Order.submitted_at, BiddingRound.published_at)]
        found: set[int] = set()
        for first, last in bounds:
            if first is not None:
                found.update(months_between(month_of(first), month_of(last)))
        return found
    moments: list[datetime] = list(session.scalars(
        select(Order.submitted_at).where(Order.updated_at >= since).distinct()))
    moments += session.scalars(
        select(BiddingRound.published_at).where(BiddingRound.updated_at >= since).distinct())
    for child in (Challenge, Complaint):
        moments += session.scalars(
            select(BiddingRound.published_at).join(child, child.round_id == BiddingRound.id)
            .where(child.updated_at >= since).distinct())
    return {month_of(m) for m in moments}


@dataclass
class _Context:
    """What every month's count needs of the organisations: regions and SME status."""

    regions: dict[int, str]
    smes: set[int]

    @classmethod
    def load(cls, session: Session) -> _Context:
        regions = {id_: code or "" for id_, code in session.execute(
            select(Organisation.id, Organisation.region_code))}
        smes = set(session.scalars(select(SupplierProfile.organisation_id).where(
            SupplierProfile.size != SizeClass.LARGE)))
        return cls(regions, smes)

    def local(self, unit_id: int, supplier_id: int) -> bool:
        """The supplier is registered in the unit's province (the first two digits)."""
        unit, supplier = self.regions.get(unit_id, ""), self.regions.get(supplier_id, "")
        return len(unit) >= 2 and unit[:2] == supplier[:2]


@dataclass
class _Sums:
    deals: int = 0
    amount_fen: int = 0
    budget_fen: int = 0
    sme_deals: int = 0
    sme_amount_fen: int = 0
    local_deals: int = 0
    local_amount_fen: int = 0
    delivered: int = 0
    delivery_seconds: int = 0
    paid: int = 0
    payment_seconds: int = 0
    overdue: int = 0


SUM_NAMES = tuple(f.name for f in fields(_Sums))


def recount_orders(session: Session, month: int, context: _Context) -> int:
    """Replace the order facts of ``month``; how many rows it now has."""
    start, end = month_bounds(month)
    for table in (OrderFact, CategoryFact, SupplierFact):
        session.execute(delete(table).where(table.month == month))
    in_month: ColumnElement[bool] = and_(Order.submitted_at >= start, Order.submitted_at < end,
                                         Order.status.not_in(NOT_DEALS))
    orders = session.execute(select(
        Order.id, Order.buyer_org_id, Order.supplier_id, Order.purchase_mode, Order.total_fen,
        Order.submitted_at, Order.overdue_alerted).where(in_month)).all()
    if not orders:
        return 0
    lines: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for order_id, code, amount, reference in session.execute(
            select(OrderLine.order_id, OrderLine.category_code,
                   func.sum(OrderLine.quantity * OrderLine.unit_price_fen),
                   func.sum(OrderLine.quantity * func.coalesce(OrderLine.reference_price_fen,
                                                               OrderLine.unit_price_fen)))
            .join(Order, Order.id == OrderLine.order_id).where(in_month)
            .group_by(OrderLine.order_id, OrderLine.category_code)):
        sums = lines[order_id].setdefault(level2(code), [0, 0])
        sums[0] += int(amount or 0)
        sums[1] += int(reference or 0)
    ceilings = dict(session.execute(
        select(Order.id, BiddingRound.ceiling_fen)
        .join(BiddingRound, BiddingRound.number == Order.reference).where(in_month)).all())
    reached: dict[tuple[int, str], datetime] = {}
    for order_id, status, at in session.execute(
            select(OrderStep.order_id, OrderStep.status, func.min(OrderStep.at))
            .join(Order, Order.id == OrderStep.order_id)
            .where(in_month, OrderStep.status.in_((OrderStatus.DELIVERED.value,
                                                    OrderStatus.PAID.value)))
            .group_by(OrderStep.order_id, OrderStep.status)):
        reached[order_id, status] = at
    facts: dict[tuple[int, str, int, int, str, str], _Sums] = defaultdict(_Sums)
    for order in orders:
        _count_order(order, lines.get(order.id) or {"": [order.total_fen, order.total_fen]},
                     ceilings.get(order.id), reached, context, month, facts)
    bulk_insert(session, OrderFact, [
        {"month": key[0], "region_code": key[1], "unit_id": key[2], "supplier_id": key[3],
         "category_code": key[4], "mode": key[5],
         **{name: getattr(sums, name) for name in SUM_NAMES}}
        for key, sums in facts.items()])
    by_category: dict[tuple[int, str, str, str], _Sums] = defaultdict(_Sums)
    by_supplier: dict[tuple[int, str, int, str], _Sums] = defaultdict(_Sums)
    for (m, region, _unit, supplier, code, mode), fact in facts.items():
        for rolled in (by_category[m, region, code, mode], by_supplier[m, region, supplier, mode]):
            for name in SUM_NAMES:
                setattr(rolled, name, getattr(rolled, name) + getattr(fact, name))
    bulk_insert(session, CategoryFact, [
        {"month": key[0], "region_code": key[1], "category_code": key[2], "mode": key[3],
         **{name: getattr(rolled, name) for name in SUM_NAMES}}
        for key, rolled in by_category.items()])
    bulk_insert(session, SupplierFact, [
        {"month": key[0], "region_code": key[1], "supplier_id": key[2], "mode": key[3],
         **{name: getattr(rolled, name) for name in SUM_NAMES}}
        for key, rolled in by_supplier.items()])
    return len(facts)


def _count_order(order: Any, categories: dict[str, list[int]], ceiling: int | None,
                 reached: dict[tuple[int, str], datetime], context: _Context, month: int,
                 facts: dict[tuple[int, str, int, int, str, str], _Sums]) -> None:
    """Add one deal to the facts: its amounts per category, its counts on its largest."""
    codes = sorted(categories, key=lambda c: (-categories[c][0], c))
    main = codes[0]
    line_total = sum(categories[c][0] for c in codes)
    amounts = {c: categories[c][0] for c in codes}
    amounts[main] += order.total_fen - line_total  # a price lowered at confirmation
    if ceiling is None:
        budgets = {c: categories[c][1] for c in codes}
        budgets[main] += order.total_fen - line_total
    else:  # the ceiling shared by the categories' amounts, the rest on the largest
        budgets = {c: ceiling * categories[c][0] // line_total if line_total else 0
                   for c in codes[1:]}
        budgets[main] = ceiling - sum(budgets.values())
    sme = order.supplier_id in context.smes
    local = context.local(order.buyer_org_id, order.supplier_id)
    region = context.regions.get(order.buyer_org_id, "")
    for code in codes:
        sums = facts[month, region, order.buyer_org_id, order.supplier_id, code,
                     order.purchase_mode.value]
        amount = amounts[code]
        sums.amount_fen += amount
        sums.budget_fen += budgets[code]
        sums.sme_amount_fen += amount if sme else 0
        sums.local_amount_fen += amount if local else 0
        if code != main:
            continue
        sums.deals += 1
        sums.sme_deals += sme
        sums.local_deals += local
        sums.overdue += bool(order.overdue_alerted)
        delivered = reached.get((order.id, OrderStatus.DELIVERED.value))
        if delivered is not None:
            sums.delivered += 1
            sums.delivery_seconds += int((delivered - order.submitted_at).total_seconds())
        paid = reached.get((order.id, OrderStatus.PAID.value))
        if paid is not None:
            sums.paid += 1
            sums.payment_seconds += int((paid - order.submitted_at).total_seconds())


def recount_rounds(session: Session, month: int) -> int:
    """Replace the round facts of ``month``; how many rows it now has."""
    start, end = month_bounds(month)
    session.execute(delete(RoundFact).where(RoundFact.month == month))
    in_month: ColumnElement[bool] = and_(BiddingRound.published_at >= start,
                                         BiddingRound.published_at < end,
                                         BiddingRound.status.in_(ENDED_ROUNDS))
    rounds = session.execute(select(
        BiddingRound.id, BiddingRound.buyer_org_id, BiddingRound.mode, BiddingRound.status,
        BiddingRound.quote_count, Organisation.region_code)
        .join(Organisation, Organisation.id == BiddingRound.buyer_org_id).where(in_month)).all()
    if not rounds:
        return 0
    first_item: dict[int, str] = {}
    for round_id, code in session.execute(
            select(RoundItem.round_id, RoundItem.category_code)
            .join(BiddingRound, BiddingRound.id == RoundItem.round_id).where(in_month)
            .order_by(RoundItem.round_id, RoundItem.position)):
        first_item.setdefault(round_id, level2(code))
    counted = {child: dict(session.execute(
        select(child.round_id, func.count()).join(BiddingRound, BiddingRound.id == child.round_id)
        .where(in_month).group_by(child.round_id)).all()) for child in (Challenge, Complaint)}
    facts: dict[tuple[str, int, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in rounds:
        sums = facts[row.region_code or "", row.buyer_org_id, first_item.get(row.id, ""),
                     row.mode.value]
        sums[0] += 1
        sums[1] += row.status is RoundStatus.FAILED
        sums[2] += row.quote_count
        sums[3] += counted[Challenge].get(row.id, 0)
        sums[4] += counted[Complaint].get(row.id, 0)
    bulk_insert(session, RoundFact, [
        {"month": month, "region_code": key[0], "unit_id": key[1], "category_code": key[2],
         "mode": key[3], "rounds": s[0], "failed": s[1], "quotes": s[2], "challenges": s[3],
         "complaints": s[4]} for key, s in facts.items()])
    return len(facts)
