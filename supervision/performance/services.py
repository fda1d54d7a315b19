"""Supplier performance (履约评价): the monthly counts of each supplier, the score computed from
them, and the reads of the ranking, one supplier's year and a supplier's own page.

The score (0–100) is the weighted mean of the components that have something to judge in
the month (a component without orders to judge is left out and the others' weights count
in full), less fixed points for each price violation, upheld challenge and upheld complaint,
kept between 0 and 100. docs/supplier-performance.md states the formula; ``WEIGHTS`` and
``DEDUCTIONS`` hold its numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.orm import Session

from bidding_rounds.models import (
    Challenge,
    ChallengeStatus,
    Complaint,
    ComplaintStatus,
    Quote,
    QuoteStatus,
)
from mall.accounts.models import Organisation, User
from mall.core.auth import OVERSIGHT_STAFF, SUPPLIER_STAFF, Actor, OrganisationKind
from mall.core.clock import SHANGHAI, now
from mall.core.errors import NotFound
from mall.purchasing.orders.models import (
    Acceptance,
    AcceptanceResult,
    Order,
    OrderReturn,
    OrderStep,
    Rating,
    ReturnStatus,
)
from supervision.performance.models import SupplierMonth
from supervision.prices.models import VIOLATION_STATUSES, PriceCase

# Weights of the components (they add up to 100).
WEIGHTS = {"confirmation": 15, "confirm_time": 5, "delivery": 25, "acceptance": 25,
           "returns": 10, "ratings": 20}
# Points taken off the weighted mean for each event of the month.
DEDUCTIONS = {"price_violations": 5, "challenges_upheld": 5, "complaints_upheld": 10}
CONFIRM_FAST_HOURS = 24  # confirming within this on average earns the full confirm-time mark
CONFIRM_WINDOW_HOURS = 72  # the deadline to confirm: nothing left at the deadline
# A return counts against the supplier unless the operator ruled that the goods stay.
RETURN_NOT_COUNTED = (ReturnStatus.REJECTED,)
HISTORY_MONTHS = 12


@dataclass(frozen=True)
class Component:
    """One part of a month's score: its weight, its value 0–100 (None: nothing to judge this
    month) and the counts it comes from."""

    key: str
    weight: int
    value: float | None
    count: int
    of: int


@dataclass(frozen=True)
class Deduction:
    key: str
    points_each: int
    count: int

    @property
    def points(self) -> int:
        return self.points_each * self.count


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def _bounds(month: date) -> tuple[datetime, datetime]:
    """The month's start and end as UTC instants (months are Asia/Shanghai months)."""
    start = datetime.combine(month, time(), SHANGHAI)
    end = datetime.combine(next_month(month), time(), SHANGHAI)
    return start, end


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def components(row: SupplierMonth) -> list[Component]:
    """The weighted components of one supplier-month, in the order pages show them."""
    asked = row.confirmed + row.not_confirmed
    hours = row.confirm_seconds / 3600 / row.confirmed if row.confirmed else None
    confirm_time = None if hours is None else max(0.0, min(100.0, 100 * (
        CONFIRM_WINDOW_HOURS - hours) / (CONFIRM_WINDOW_HOURS - CONFIRM_FAST_HOURS)))
    returns: float | None = None  # nothing accepted and nothing returned: nothing to judge
    if row.acceptances:
        returns = max(0.0, 100 - 100 * row.returns / row.acceptances)
    elif row.returns:
        returns = 0.0
    ratings = ((row.rating_points / (3 * row.ratings) - 1) / 4 * 100) if row.ratings else None
    return [
        Component("confirmation", WEIGHTS["confirmation"], _percent(row.confirmed, asked),
                  row.confirmed, asked),
        Component("confirm_time", WEIGHTS["confirm_time"], confirm_time,
                  round(hours) if hours is not None else 0, row.confirmed),
        Component("delivery", WEIGHTS["delivery"], _percent(row.delivered_on_time, row.delivered),
                  row.delivered_on_time, row.delivered),
        Component("acceptance", WEIGHTS["acceptance"],
                  _percent(row.acceptances_passed, row.acceptances),
                  row.acceptances_passed, row.acceptances),
        Component("returns", WEIGHTS["returns"], returns, row.returns, row.acceptances),
        Component("ratings", WEIGHTS["ratings"], ratings, row.rating_points, row.ratings),
    ]


def deductions(row: SupplierMonth) -> list[Deduction]:
    return [Deduction(key, points, getattr(row, key)) for key, points in DEDUCTIONS.items()]


def score_of(row: SupplierMonth) -> int:
    """The month's score: weighted mean of the judged components less the deductions, 0–100.
    A month with nothing to judge starts from 100 (nothing went wrong)."""
    judged = [c for c in components(row) if c.value is not None]
    weight = sum(c.weight for c in judged)
    base = sum(c.weight * (c.value or 0.0) for c in judged) / weight if weight else 100.0
    return max(0, min(100, round(base) - sum(d.points for d in deductions(row))))


def rating_average(row: SupplierMonth) -> float | None:
    """The mean star rating (1–5) over quality, delivery and service."""
    return row.rating_points / (3 * row.ratings) if row.ratings else None


# -- the monthly counts -------------------------------------------------------------------

def _in(column, start: datetime, end: datetime):
    return column.between(start, end - timedelta(microseconds=1))


def _step_counts(session: Session, start: datetime, end: datetime,
                 counts: dict[int, dict[str, int]]) -> None:
    """Confirmations (and their time) and deliveries (and whether on time) from the orders'
    steps. A cancellation counts against the supplier when it ended the wait for its
    confirmation and was not the buyer's: the supplier declined or let the 72 hours lapse."""
    order_ids = select(OrderStep.order_id).where(
        OrderStep.status.in_(("confirmed", "cancelled", "delivered")), _in(OrderStep.at, start, end))
    rows = session.execute(
        select(OrderStep.order_id, OrderStep.status, OrderStep.at, User.organisation_id,
               Order.supplier_id, Order.delivery_days)
        .join(Order, Order.id == OrderStep.order_id)
        .outerjoin(User, User.id == OrderStep.user_id)
        .where(OrderStep.order_id.in_(order_ids))
        .order_by(OrderStep.order_id, OrderStep.at, OrderStep.id)).all()
    last_order, sent_at, signed_at, previous = None, None, None, ""
    for order_id, status, at, by_org, supplier_id, delivery_days in rows:
        if order_id != last_order:
            last_order, sent_at, signed_at, previous = order_id, None, None, ""
        counted = start <= at < end
        mine = counts[supplier_id]
        if status == "sent":
            sent_at = at
        elif status == "confirmed":
            if counted and sent_at is not None:
                mine["confirmed"] += 1
                mine["confirm_seconds"] += int((at - sent_at).total_seconds())
            signed_at = at  # a settlement order is signed in the same moment
        elif status == "cancelled":
            if counted and previous == "sent" and by_org in (None, supplier_id):
                mine["not_confirmed"] += 1
        elif status == "signed":
            signed_at = at
        elif status == "delivered" and counted and signed_at is not None:
            mine["delivered"] += 1
            if at <= signed_at + timedelta(days=delivery_days):
                mine["delivered_on_time"] += 1
        previous = status


def _grouped(session: Session, query: Select, counts: dict[int, dict[str, int]],
             *names: str) -> None:
    for supplier_id, *values in session.execute(query):
        for name, value in zip(names, values, strict=True):
            counts[supplier_id][name] += int(value or 0)


def month_counts(session: Session, month: date) -> dict[int, dict[str, int]]:
    """Every supplier's counts of the month, by supplier id (suppliers with nothing: absent)."""
    start, end = _bounds(month)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    _step_counts(session, start, end, counts)
    passed = func.sum(case((Acceptance.result == AcceptanceResult.PASS, 1), else_=0))
    _grouped(session, select(Order.supplier_id, func.count(), passed).select_from(Acceptance)
             .join(Order, Order.id == Acceptance.order_id)
             .where(_in(Acceptance.created_at, start, end)).group_by(Order.supplier_id),
             counts, "acceptances", "acceptances_passed")
    _grouped(session, select(Order.supplier_id, func.count()).select_from(OrderReturn)
             .join(Order, Order.id == OrderReturn.order_id)
             .where(_in(OrderReturn.requested_at, start, end),
                    OrderReturn.status.not_in(RETURN_NOT_COUNTED))
             .group_by(Order.supplier_id), counts, "returns")
    _grouped(session, select(Rating.supplier_id, func.count(),
                             func.sum(Rating.quality + Rating.delivery + Rating.service))
             .where(_in(Rating.created_at, start, end)).group_by(Rating.supplier_id),
             counts, "ratings", "rating_points")
    _grouped(session, select(PriceCase.supplier_id, func.count())
             .where(_in(PriceCase.opened_at, start, end),
                    PriceCase.status.in_(sorted(VIOLATION_STATUSES)))
             .group_by(PriceCase.supplier_id), counts, "price_violations")
    _grouped(session, select(Quote.supplier_id, func.count()).select_from(Challenge)
             .join(Quote, Challenge.target_quote_id == Quote.id)
             .where(Challenge.status == ChallengeStatus.UPHELD, Quote.status == QuoteStatus.STRUCK,
                    _in(Challenge.answered_at, start, end)).group_by(Quote.supplier_id),
             counts, "challenges_upheld")
    _grouped(session, select(Quote.supplier_id, func.count())
             .join(Complaint, Complaint.struck_quote_id == Quote.id)
             .where(Complaint.status == ComplaintStatus.UPHELD,
                    _in(Complaint.decided_at, start, end)).group_by(Quote.supplier_id),
             counts, "complaints_upheld")
    return {supplier_id: dict(values) for supplier_id, values in counts.items()
            if any(values.values())}


def compute_month(session: Session, *, month: date) -> int:
    """Store every supplier's counts and score of ``month`` (replacing what was there): the
    ``supervision.performance`` job's work, idempotent. Returns the number of suppliers."""
    month = month_start(month)
    counts = month_counts(session, month)
    existing = {row.supplier_id: row for row in session.scalars(
        select(SupplierMonth).where(SupplierMonth.month == month))}
    gone = set(existing) - set(counts)
    if gone:
        session.execute(delete(SupplierMonth).where(SupplierMonth.month == month,
                                                    SupplierMonth.supplier_id.in_(gone)))
    moment = now()
    for supplier_id, values in counts.items():
        row = existing.get(supplier_id)
        if row is None:
            row = SupplierMonth(supplier_id=supplier_id, month=month)
            session.add(row)
        for name in COUNT_NAMES:
            setattr(row, name, values.get(name, 0))
        row.computed_at = moment
        row.score = score_of(row)
    session.flush()
    return len(counts)


COUNT_NAMES = ("confirmed", "not_confirmed", "confirm_seconds", "delivered", "delivered_on_time",
               "acceptances", "acceptances_passed", "returns", "ratings", "rating_points",
               "price_violations", "challenges_upheld", "complaints_upheld")


# -- reads ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ranked:
    rank: int
    supplier: Organisation
    month: SupplierMonth


def ranking(session: Session, actor: Actor, *, month: date, name: str = "",
            below: int | None = None) -> list[Ranked]:
    """Oversight's ranking of one month, best first; ``name`` filters by a part of the
    supplier's name, ``below`` keeps scores under it."""
    actor.require_role(*OVERSIGHT_STAFF)
    query = (select(SupplierMonth, Organisation)
             .join(Organisation, Organisation.id == SupplierMonth.supplier_id)
             .where(SupplierMonth.month == month_start(month))
             .order_by(SupplierMonth.score.desc(), Organisation.name))
    rows = session.execute(query).all()
    ranked = [Ranked(index, supplier, row) for index, (row, supplier) in enumerate(rows, 1)]
    needle = name.strip().casefold()
    return [r for r in ranked if (not needle or needle in r.supplier.name.casefold())
            and (below is None or r.month.score < below)]


def get_supplier(session: Session, actor: Actor, supplier_id: int) -> Organisation:
    """A supplier oversight may see, or the actor's own company; anyone else gets 404."""
    supplier = session.get(Organisation, supplier_id)
    if supplier is None or supplier.kind is not OrganisationKind.SUPPLIER:
        raise NotFound()
    if not actor.is_oversight and actor.organisation_id != supplier_id:
        raise NotFound()
    if actor.is_oversight:
        actor.require_role(*OVERSIGHT_STAFF)
    else:
        actor.require_role(*SUPPLIER_STAFF)
    return supplier


def history(session: Session, actor: Actor, *, supplier_id: int, until: date,
            months: int = HISTORY_MONTHS) -> list[tuple[date, SupplierMonth | None]]:
    """The supplier's last ``months`` months up to ``until``, oldest first (None: no row)."""
    get_supplier(session, actor, supplier_id)
    wanted = [month_start(until)]
    while len(wanted) < months:
        wanted.append(previous_month(wanted[-1]))
    rows = {row.month: row for row in session.scalars(select(SupplierMonth).where(
        SupplierMonth.supplier_id == supplier_id, SupplierMonth.month.in_(wanted)))}
    return [(month, rows.get(month)) for month in reversed(wanted)]


def months_with_scores(session: Session) -> Sequence[date]:
    """The months that have scores, newest first (the ranking's month choice)."""
    return session.scalars(select(SupplierMonth.month).distinct()
                           .order_by(SupplierMonth.month.desc())).all()
