"""Statistics of the mall's purchases for supervisors and operators (统计分析): deals,
amounts, savings (节支率), SME and local shares, lead times, overdue payments, and the
bidding rounds' failures, quotes, challenges and complaints, for any period, region, unit,
category, supplier and purchase mode.

Read from the monthly facts the job keeps (supervision.statistics.aggregates), never from
the orders: a request sums a few thousand fact rows at most, whatever the mall's size."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from marshmallow import ValidationError as SchemaValidationError
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from catalog.models import Category
from mall.accounts.models import Organisation
from mall.core.auth import OVERSIGHT_STAFF, Actor, OrganisationKind
from mall.core.clock import local_today
from mall.core.errors import ValidationFailed
from mall.i18n_messages import N_
from supervision.statistics.aggregates import months_between
from supervision.statistics.models import (
    CategoryFact,
    OrderFact,
    RoundFact,
    StatisticsRefresh,
    SupplierFact,
)
from supervision.statistics.schemas import MODES, MONTH, QUARTER, StatisticsQuerySchema
from suppliers.models import SizeClass, SupplierProfile

TOP = 10
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Filters:
    """Validated filters: months as yyyymm, a region code and its prefix, a category code."""

    first_month: int
    last_month: int
    region: str | None = None
    unit_id: int | None = None
    category: str | None = None
    supplier_id: int | None = None
    mode: str | None = None

    @property
    def months(self) -> list[int]:
        return months_between(self.first_month, self.last_month)

    def as_dict(self) -> dict[str, Any]:
        return {"from_month": month_text(self.first_month),
                "to_month": month_text(self.last_month), "region": self.region,
                "unit_id": self.unit_id, "category": self.category,
                "supplier_id": self.supplier_id, "mode": self.mode}


def pct(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, two decimals; None when there is no whole."""
    return round(100 * part / whole, 2) if whole else None


def month_text(month: int) -> str:
    return f"{month // 100:04d}-{month % 100:02d}"


@dataclass(frozen=True)
class Totals:
    """The order figures of a selection (sums of the facts) and the rates made of them."""

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

    @property
    def savings_fen(self) -> int:
        return self.budget_fen - self.amount_fen

    @property
    def savings_rate_pct(self) -> float | None:
        return pct(self.savings_fen, self.budget_fen)

    @property
    def sme_share_count_pct(self) -> float | None:
        return pct(self.sme_deals, self.deals)

    @property
    def sme_share_amount_pct(self) -> float | None:
        return pct(self.sme_amount_fen, self.amount_fen)

    @property
    def local_share_count_pct(self) -> float | None:
        return pct(self.local_deals, self.deals)

    @property
    def local_share_amount_pct(self) -> float | None:
        return pct(self.local_amount_fen, self.amount_fen)

    @property
    def avg_delivery_days(self) -> float | None:
        return round(self.delivery_seconds / SECONDS_PER_DAY / self.delivered, 1) \
            if self.delivered else None

    @property
    def avg_payment_days(self) -> float | None:
        return round(self.payment_seconds / SECONDS_PER_DAY / self.paid, 1) if self.paid else None

    @property
    def overdue_pct(self) -> float | None:
        return pct(self.overdue, self.deals)

    def __add__(self, other: Totals) -> Totals:
        return Totals(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in fields(self)})


TOTAL_NAMES = tuple(f.name for f in fields(Totals))


@dataclass(frozen=True)
class RoundTotals:
    rounds: int = 0
    failed: int = 0
    quotes: int = 0
    challenges: int = 0
    complaints: int = 0

    @property
    def failure_rate_pct(self) -> float | None:
        return pct(self.failed, self.rounds)

    @property
    def avg_quotes(self) -> float | None:
        return round(self.quotes / self.rounds, 2) if self.rounds else None

    @property
    def challenge_rate_pct(self) -> float | None:
        return pct(self.challenges, self.rounds)

    @property
    def complaint_rate_pct(self) -> float | None:
        return pct(self.complaints, self.rounds)


@dataclass(frozen=True)
class MonthPoint:
    month: str
    totals: Totals

    def __getattr__(self, name: str) -> Any:  # deals, amount_fen, savings_rate_pct ...
        return getattr(self.totals, name)


@dataclass(frozen=True)
class ModePoint:
    mode: str
    totals: Totals

    def __getattr__(self, name: str) -> Any:
        return getattr(self.totals, name)


@dataclass(frozen=True)
class CategoryPoint:
    code: str
    name: str
    totals: Totals

    def __getattr__(self, name: str) -> Any:
        return getattr(self.totals, name)


@dataclass(frozen=True)
class SupplierPoint:
    id: int
    name: str
    sme: bool
    totals: Totals

    def __getattr__(self, name: str) -> Any:
        return getattr(self.totals, name)


@dataclass(frozen=True)
class Figures:
    """What the statistics page, its export and the API show for one set of filters."""

    filters: Filters
    totals: Totals
    rounds: RoundTotals | None  # None: not kept per supplier, or no rounds in direct purchase
    trend: list[MonthPoint]
    by_mode: list[ModePoint]
    top_categories: list[CategoryPoint]
    top_suppliers: list[SupplierPoint]
    refreshed_at: datetime | None


def require_oversight(actor: Actor) -> None:
    """Only the trading centre's operators and the supervisors read the statistics."""
    actor.require_role(*OVERSIGHT_STAFF)


def parse_filters(session: Session, data: Mapping[str, Any]) -> Filters:
    """Validate filters given as text (a form, a query string) or values; ValidationFailed
    names each field that is wrong."""
    try:
        loaded = StatisticsQuerySchema().load(dict(data))
    except SchemaValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise ValidationFailed(errors={str(k): [str(m) for m in (v if isinstance(v, list)
                                                                  else [v])]
                                       for k, v in messages.items()}) from exc
    first, last = _period(loaded)
    errors: dict[str, list[str]] = {}
    if loaded.get("unit_id") is not None and not _is(session, loaded["unit_id"],
                                                      OrganisationKind.PURCHASING_UNIT):
        errors["unit_id"] = [N_("No purchasing unit has this id.")]
    if loaded.get("supplier_id") is not None and not _is(session, loaded["supplier_id"],
                                                          OrganisationKind.SUPPLIER):
        errors["supplier_id"] = [N_("No supplier has this id.")]
    category = loaded.get("category")
    if category is not None:
        level = session.scalar(select(Category.level).where(Category.code == category).limit(1))
        if level is None:
            errors["category"] = [N_("The catalogue has no such category.")]
        elif level > 2:
            errors["category"] = [N_("Statistics are kept by level-2 category: choose a "
                                     "category of level 1 or 2.")]
    if errors:
        raise ValidationFailed(errors=errors)
    return Filters(first, last, loaded.get("region"), loaded.get("unit_id"), category,
                   loaded.get("supplier_id"), loaded.get("mode"))


def _is(session: Session, organisation_id: int, kind: OrganisationKind) -> bool:
    return session.scalar(select(Organisation.kind).where(
        Organisation.id == organisation_id)) == kind


def _period(loaded: Mapping[str, Any]) -> tuple[int, int]:
    today = local_today()
    this_month = today.year * 100 + today.month
    if loaded.get("quarter"):
        match = QUARTER.match(loaded["quarter"])
        assert match
        year, number = int(match[1]), int(match[2])
        return year * 100 + 3 * number - 2, year * 100 + 3 * number
    last = _month(loaded.get("to_month")) or this_month
    first = _month(loaded.get("from_month"))
    if first is None:
        year, number = divmod(last, 100)
        first = (year - 1) * 100 + number + 1 if number < 12 else year * 100 + 1
    return first, last


def _month(text: str | None) -> int | None:
    match = MONTH.match(text or "")
    return int(match[1]) * 100 + int(match[2]) if match else None


def _where(model: Any, filters: Filters) -> list[ColumnElement[bool]]:
    conditions = [model.month >= filters.first_month, model.month <= filters.last_month]
    if filters.region:
        prefix = filters.region
        while prefix.endswith("00") and len(prefix) > 2:
            prefix = prefix[:-2]
        conditions.append(model.region_code == filters.region if len(prefix) == 6
                          else model.region_code.startswith(prefix, autoescape=True))
    if filters.unit_id is not None:
        conditions.append(model.unit_id == filters.unit_id)
    if filters.category and model is not SupplierFact:
        conditions.append(model.category_code.startswith(filters.category[:3])
                          if filters.category[3:] == "000000"
                          else model.category_code == filters.category)
    if filters.mode:
        conditions.append(model.mode == filters.mode)
    if filters.supplier_id is not None and model is not RoundFact:
        conditions.append(model.supplier_id == filters.supplier_id)
    return conditions


def _sums(model: Any, *group: Any) -> Select[Any]:
    return select(*group, *(func.coalesce(func.sum(getattr(model, name)), 0)
                            for name in TOTAL_NAMES))


def _sources(filters: Filters) -> tuple[Any, Any]:
    """The smallest fact tables that hold the filters' dimensions: for the trend, modes and
    categories, and for the suppliers."""
    detailed = filters.unit_id is not None or filters.supplier_id is not None
    overall = OrderFact if detailed else CategoryFact
    suppliers = OrderFact if detailed or filters.category else SupplierFact
    return overall, suppliers


def _totals(row: Any, offset: int) -> Totals:
    return Totals(*(int(v) for v in row[offset:]))


def figures(session: Session, actor: Actor, data: Mapping[str, Any]) -> Figures:
    """The statistics for the filters in ``data`` (see StatisticsQuerySchema)."""
    require_oversight(actor)
    filters = parse_filters(session, data)
    overall, by_supplier = _sources(filters)
    where = _where(overall, filters)
    # One scan for the trend, the modes and the totals: sums per month and mode.
    by_month: dict[int, Totals] = {}
    modes: dict[str, Totals] = {}
    for row in session.execute(_sums(overall, overall.month, overall.mode).where(*where)
                               .group_by(overall.month, overall.mode)):
        cell = _totals(row, 2)
        by_month[row[0]] = by_month.get(row[0], Totals()) + cell
        modes[row[1]] = modes.get(row[1], Totals()) + cell
    trend = [MonthPoint(month_text(m), by_month.get(m, Totals())) for m in filters.months]
    totals = sum((p.totals for p in trend), Totals())
    by_mode = [ModePoint(m, modes.get(m, Totals())) for m in MODES
               if filters.mode in (None, m)]
    categories = session.execute(_sums(overall, overall.category_code).where(*where)
                                 .group_by(overall.category_code)
                                 .order_by(func.sum(overall.amount_fen).desc(),
                                           overall.category_code)
                                 .limit(TOP)).all()
    names = dict(session.execute(select(Category.code, Category.name).where(
        Category.code.in_([row[0] for row in categories])))
        .all()) if categories else {}
    suppliers = session.execute(_sums(by_supplier, by_supplier.supplier_id)
                                .where(*_where(by_supplier, filters))
                                .group_by(by_supplier.supplier_id)
                                .order_by(func.sum(by_supplier.amount_fen).desc(),
                                          by_supplier.supplier_id)
                                .limit(TOP)).all()
    ids = [row[0] for row in suppliers]
    supplier_names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_(ids))).all()) if ids else {}
    smes = set(session.scalars(select(SupplierProfile.organisation_id).where(
        SupplierProfile.organisation_id.in_(ids), SupplierProfile.size != SizeClass.LARGE))
    ) if ids else set()
    rounds = None
    if filters.supplier_id is None and filters.mode != "direct":
        row = session.execute(select(*(func.coalesce(func.sum(getattr(RoundFact, name)), 0)
                                       for name in ("rounds", "failed", "quotes", "challenges",
                                                    "complaints")))
                              .where(*_where(RoundFact, filters))).one()
        rounds = RoundTotals(*(int(v) for v in row))
    refreshed = session.scalar(select(StatisticsRefresh.refreshed_at))
    return Figures(
        filters, totals, rounds, trend, by_mode,
        [CategoryPoint(row[0], names.get(row[0]) or row[0], _totals(row, 1)) for row in categories],
        [SupplierPoint(row[0], supplier_names.get(row[0], str(row[0])), row[0] in smes,
                       _totals(row, 1)) for row in suppliers],
        refreshed)
