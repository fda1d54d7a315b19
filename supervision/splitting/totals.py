"""The running totals of anti-splitting (化整为零) and the alerts they raise.

A key is (unit, fiscal year, budget project, category); its sum is every non-tender purchase
of the unit under that project in that category: direct purchases and the awards of both
bidding modes. "Category" is the order line's catalogue code, the level the open-tender check
of mall.purchasing.budget.limits counts (CategorySpend). An order counts at its lines' prices
(as lowered at confirmation), for the quantities accepted once accepted, less completed
returns; cancelled and returned orders count nothing.

Totals are never incremented: the keys an order touches are recomputed from the orders, so
running the same change twice is harmless. The job reads ``order.changed`` events from the
outbox after its own watermark (the financing sequencer marks the same events processed, so
``processed_at`` cannot be ours). An event id can commit after a higher one; the watermark
therefore moves only over events older than ``GRACE``, and younger ones are read again next
run. A daily sweep recomputes every key of the year and checks the alerts against the
thresholds as they are then (a region may lower its threshold).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import OrganisationKind
from mall.core.clock import now
from mall.core.db import upsert_insert
from mall.core.money import format_fen
from mall.core.outbox import OutboxEvent
from mall.i18n_messages import N_
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.budget.services import unit_limits
from mall.purchasing.orders.models import (
    Order,
    OrderLine,
    OrderReturn,
    OrderStatus,
    PurchaseMode,
    ReturnStatus,
)
from mall.purchasing.orders.notifications import MESSAGES, notify
from mall.purchasing.orders.splitting import NOT_COUNTED
from mall.purchasing.orders.steps import ORDER_CHANGED
from supervision.splitting.models import (
    DEFAULT_WARN_PCT,
    AlertLevel,
    AlertNote,
    AlertStatus,
    SplittingAlert,
    SplittingCursor,
    SplittingSettings,
    SplittingTotal,
)

BATCH = 2000
GRACE = timedelta(seconds=30)  # a transaction open longer than this is caught by the sweep
CURSOR_ID = 1

SPLITTING_MESSAGES = {
    "splitting_passed": N_("Possible splitting (化整为零): %(unit)s has bought %(amount)s in "
                           "%(category)s under project %(project)s this fiscal year, above the "
                           "open-tender threshold of %(threshold)s."),
}
MESSAGES.update(SPLITTING_MESSAGES)

Key = tuple[int, int, str, str]  # organisation id, fiscal year, project code, category code


@dataclass
class CountedOrder:
    """An order as it counts in one key: its counted amount in that category."""

    id: int
    number: str
    submitted_at: datetime
    mode: PurchaseMode
    status: OrderStatus
    amount_fen: int = 0


@dataclass
class KeySum:
    """A key's sum, split by mode, and the orders behind it."""

    direct_fen: int = 0
    bidding_fen: int = 0
    orders: dict[int, CountedOrder] = field(default_factory=dict)

    @property
    def total_fen(self) -> int:
        return self.direct_fen + self.bidding_fen


def warn_pct(session: Session) -> int:
    """The warning share in force (percent of the open-tender threshold)."""
    value = session.scalar(select(SplittingSettings.warn_pct).order_by(SplittingSettings.id)
                           .limit(1))
    return DEFAULT_WARN_PCT if value is None else value


def level_of(sum_fen: int, threshold_fen: int, pct: int) -> AlertLevel | None:
    """Passed above the threshold; approaching from ``pct`` % of it up to it; else none."""
    if sum_fen > threshold_fen:
        return AlertLevel.PASSED
    if sum_fen >= threshold_fen * pct // 100:
        return AlertLevel.APPROACHING
    return None


def keys_of_orders(session: Session, order_ids: Iterable[int]) -> set[Key]:
    """The keys the orders count in (whatever their status: a cancellation lowers a sum)."""
    ids = sorted(set(order_ids))
    keys: set[Key] = set()
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Order.buyer_org_id, Order.fiscal_year, BudgetLine.project_code,
                   OrderLine.category_code)
            .join(BudgetLine, BudgetLine.id == Order.budget_line_id)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.id.in_(ids[start:start + 500])).distinct()).all()
        keys.update((int(a), int(b), str(c), str(d)) for a, b, c, d in rows)
    return keys


def sums(session: Session, keys: Iterable[Key]) -> dict[Key, KeySum]:
    """Each key's sum computed from the orders, with the orders behind it."""
    wanted = set(keys)
    result: dict[Key, KeySum] = {key: KeySum() for key in wanted}
    if not wanted:
        return result
    orgs = sorted({k[0] for k in wanted})
    years = sorted({k[1] for k in wanted})
    projects = sorted({k[2] for k in wanted})
    codes = sorted({k[3] for k in wanted})
    rows = session.execute(
        select(Order.id, Order.number, Order.submitted_at, Order.purchase_mode, Order.status,
               Order.buyer_org_id, Order.fiscal_year, BudgetLine.project_code,
               OrderLine.id, OrderLine.category_code, OrderLine.accepted_quantity, OrderLine.quantity,
               OrderLine.unit_price_fen)
        .join(BudgetLine, BudgetLine.id == Order.budget_line_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.buyer_org_id.in_(orgs), Order.fiscal_year.in_(years),
               BudgetLine.project_code.in_(projects), OrderLine.category_code.in_(codes),
               Order.status.not_in(NOT_COUNTED))
        .order_by(Order.submitted_at, Order.id)).all()
    lines: list[tuple[Key, int, int]] = []  # key, line id, amount
    orders: dict[int, tuple] = {}
    for (order_id, number, submitted_at, mode, status, org, year, project, line_id, code,
         accepted, quantity, price) in rows:
        key = (int(org), int(year), str(project), str(code))
        if key not in wanted:
            continue
        amount = (quantity if accepted is None else accepted) * price
        lines.append((key, line_id, amount))
        orders[line_id] = (order_id, number, submitted_at, mode, status)
    returned = _returned(session, {orders[line_id][0] for _key, line_id, _a in lines})
    for key, line_id, amount in lines:
        order_id, number, submitted_at, mode, status = orders[line_id]
        amount = max(0, amount - returned.get(line_id, 0))
        entry = result[key]
        if mode is PurchaseMode.DIRECT:
            entry.direct_fen += amount
        else:
            entry.bidding_fen += amount
        counted_order = entry.orders.get(order_id)
        if counted_order is None:
            counted_order = entry.orders[order_id] = CountedOrder(order_id, number, submitted_at,
                                                                  mode, status)
        counted_order.amount_fen += amount
    return result


def _returned(session: Session, order_ids: set[int]) -> dict[int, int]:
    """What completed returns took back, per order line (the money came back)."""
    taken: dict[int, int] = defaultdict(int)
    ids = sorted(order_ids)
    for start in range(0, len(ids), 500):
        for lines in session.scalars(select(OrderReturn.lines).where(
                OrderReturn.order_id.in_(ids[start:start + 500]),
                OrderReturn.status == ReturnStatus.COMPLETED)):
            for row in lines:
                taken[int(row["line_id"])] += int(row["amount_fen"])
    return taken


def recompute(session: Session, keys: Iterable[Key], *, moment: datetime | None = None
              ) -> list[SplittingAlert]:
    """Write the keys' totals as the orders make them now and raise the alerts due; returns
    the alerts raised."""
    moment = moment or now()
    computed = sums(session, keys)
    if not computed:
        return []
    insert = upsert_insert(session)
    table = SplittingTotal.__table__
    for (org, year, project, code), entry in sorted(computed.items()):
        statement = insert(table).values(
            organisation_id=org, fiscal_year=year, project_code=project, category_code=code,
            total_fen=entry.total_fen, direct_fen=entry.direct_fen,
            bidding_fen=entry.bidding_fen, order_count=len(entry.orders), updated_at=moment)
        session.execute(statement.on_conflict_do_update(
            index_elements=["organisation_id", "fiscal_year", "project_code", "category_code"],
            set_={"total_fen": statement.excluded.total_fen,
                  "direct_fen": statement.excluded.direct_fen,
                  "bidding_fen": statement.excluded.bidding_fen,
                  "order_count": statement.excluded.order_count,
                  "updated_at": statement.excluded.updated_at}))
    return raise_alerts(session, {key: entry.total_fen for key, entry in computed.items()},
                        moment=moment)


def raise_alerts(session: Session, totals: dict[Key, int], *, moment: datetime
                 ) -> list[SplittingAlert]:
    """Raise each key's alert at the level its sum reached, once per key and level; a
    passed alert supersedes the key's open approaching one. Supervisors hear of a passed one."""
    pct = warn_pct(session)
    thresholds: dict[int, int] = {}
    raised = []
    existing: dict[tuple[Key, AlertLevel], SplittingAlert] = {}
    orgs = sorted({key[0] for key in totals})
    if orgs:
        for alert in session.scalars(select(SplittingAlert).where(
                SplittingAlert.organisation_id.in_(orgs))):
            existing[((alert.organisation_id, alert.fiscal_year, alert.project_code,
                       alert.category_code), alert.level)] = alert
    for key, total in sorted(totals.items()):
        org = key[0]
        if org not in thresholds:
            thresholds[org] = unit_limits(session, org).open_tender_fen
        level = level_of(total, thresholds[org], pct)
        if level is None or (key, level) in existing:
            continue
        if level is AlertLevel.APPROACHING and (key, AlertLevel.PASSED) in existing:
            continue  # fell back under the threshold: the passed alert stands
        alert = SplittingAlert(
            organisation_id=org, fiscal_year=key[1], project_code=key[2], category_code=key[3],
            level=level, status=AlertStatus.OPEN, sum_fen=total, threshold_fen=thresholds[org],
            warn_pct=pct, raised_at=moment, updated_at=moment)
        alert.notes = [AlertNote(action="raised", at=moment)]
        session.add(alert)
        session.flush()
        existing[(key, level)] = alert
        raised.append(alert)
        record_event(session, action="splitting_alert.raised", object_type="splitting_alert",
                     object_id=alert.id, data={"level": level.value, "sum_fen": total,
                                               "threshold_fen": thresholds[org],
                                               "organisation_id": org, "fiscal_year": key[1],
                                               "project_code": key[2], "category_code": key[3]})
        if level is AlertLevel.PASSED:
            earlier = existing.get((key, AlertLevel.APPROACHING))
            if earlier is not None and earlier.status is AlertStatus.OPEN:
                earlier.status, earlier.updated_at = AlertStatus.SUPERSEDED, moment
                earlier.notes.append(AlertNote(action="superseded", at=moment))
            _tell_supervisors(session, alert)
    return raised


def _tell_supervisors(session: Session, alert: SplittingAlert) -> None:
    from catalog.models import Category

    unit = session.get_one(Organisation, alert.organisation_id)
    category = session.scalar(select(Category.name).where(Category.code == alert.category_code))
    for supervisor_id in session.scalars(select(Organisation.id).where(
            Organisation.kind == OrganisationKind.SUPERVISOR)):
        notify(session, supervisor_id, None, "splitting_passed", unit=unit.name,
               amount=format_fen(alert.sum_fen), category=category or alert.category_code,
               project=alert.project_code, threshold=format_fen(alert.threshold_fen))


def _lock_cursor(session: Session) -> SplittingCursor:
    """The job's watermark row, locked: two sweeps take turns."""
    cursor = session.scalar(select(SplittingCursor).where(SplittingCursor.id == CURSOR_ID)
                            .with_for_update())
    if cursor is None:
        session.add(SplittingCursor(id=CURSOR_ID, last_event_id=0, updated_at=now()))
        session.flush()
        cursor = session.scalar(select(SplittingCursor).where(SplittingCursor.id == CURSOR_ID)
                                .with_for_update())
    assert cursor is not None
    return cursor


def process_changes(session: Session, *, moment: datetime | None = None, limit: int = BATCH,
                    grace: timedelta = GRACE) -> int:
    """Recompute the keys of the orders changed since the watermark; returns how many events
    the watermark moved over (young ones are read again next time)."""
    moment = moment or now()
    cursor = _lock_cursor(session)
    events = session.execute(
        select(OutboxEvent.id, OutboxEvent.payload, OutboxEvent.created_at)
        .where(OutboxEvent.topic == ORDER_CHANGED, OutboxEvent.id > cursor.last_event_id)
        .order_by(OutboxEvent.id).limit(limit)).all()
    if not events:
        return 0
    order_ids = {int(payload["order_id"]) for _id, payload, _at in events
                 if isinstance(payload, dict) and "order_id" in payload}
    recompute(session, keys_of_orders(session, order_ids), moment=moment)
    settled, passed = cursor.last_event_id, 0
    for event_id, _payload, created_at in events:
        if created_at > moment - grace:
            break
        settled, passed = event_id, passed + 1
    if passed:
        cursor.last_event_id, cursor.updated_at = settled, moment
        session.flush()
    return passed


def sweep_year(session: Session, fiscal_year: int, *, moment: datetime | None = None) -> int:
    """Recompute every key of a fiscal year (the orders' and the totals already kept) and
    raise the alerts the thresholds now call for; how many keys."""
    moment = moment or now()
    _lock_cursor(session)
    keys: set[Key] = {(int(a), int(b), str(c), str(d)) for a, b, c, d in session.execute(
        select(Order.buyer_org_id, Order.fiscal_year, BudgetLine.project_code,
               OrderLine.category_code)
        .join(BudgetLine, BudgetLine.id == Order.budget_line_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.fiscal_year == fiscal_year).distinct()).all()}
    keys.update((int(a), int(b), str(c), str(d)) for a, b, c, d in session.execute(
        select(SplittingTotal.organisation_id, SplittingTotal.fiscal_year,
               SplittingTotal.project_code, SplittingTotal.category_code)
        .where(SplittingTotal.fiscal_year == fiscal_year)).all())
    recompute(session, keys, moment=moment)
    return len(keys)
