"""The monthly price inspection report of one supplier (月度价格巡检报告): items inspected,
violations and the actions taken, as a page and a PDF."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from mall.core.auth import Actor, OrganisationKind, require_same_organisation
from mall.core.clock import SHANGHAI, local_today
from mall.core.errors import NotFound, ValidationFailed
from mall.i18n_messages import N_
from supervision.prices.cases import CaseRow, case_query
from supervision.prices.models import (
    VIOLATION_STATUSES,
    CaseStatus,
    InspectedSupplier,
    PriceCase,
    PriceInspection,
)

ORGANISATIONS = table("organisations", column("id"), column("name"), column("kind"))
FIRST_MONTH = date(2020, 1, 1)


@dataclass(frozen=True)
class MonthlyReport:
    """What the inspections of one month found about one supplier."""

    supplier_id: int
    supplier_name: str
    month: date  # the first day, Asia/Shanghai
    inspections: int  # runs in the month
    checks: int  # offers inspected, summed over the runs
    last_inspected: int  # offers inspected by the month's last run
    cases: list[CaseRow] = field(default_factory=list)
    by_status: dict[CaseStatus, int] = field(default_factory=dict)
    frozen_at_once: int = 0
    frozen_by_operator: int = 0

    @property
    def opened(self) -> int:
        return len(self.cases)

    @property
    def dismissed(self) -> int:
        return self.by_status.get(CaseStatus.DISMISSED, 0)

    @property
    def resolved(self) -> int:
        return self.by_status.get(CaseStatus.RESOLVED, 0)

    @property
    def still_open(self) -> int:
        return self.by_status.get(CaseStatus.OPEN, 0)

    @property
    def violations(self) -> int:
        return sum(n for status, n in self.by_status.items() if status in VIOLATION_STATUSES)


MONTH_TEXT = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])", re.ASCII)  # YYYY-MM, nothing else


def parse_month(text: str | None) -> date:
    """``YYYY-MM`` as the month's first day; empty: this month (Asia/Shanghai)."""
    text = (text or "").strip()
    if not text:
        return local_today().replace(day=1)
    match = MONTH_TEXT.fullmatch(text)
    first = date(int(match[1]), int(match[2]), 1) if match else None
    if first is None or not FIRST_MONTH <= first <= local_today():
        raise ValidationFailed(errors={"month": [N_("Choose a month up to this one.")]})
    return first


def _bounds(month: date) -> tuple[datetime, datetime]:
    """The month's start and end as UTC times (months are Shanghai months)."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start = datetime(month.year, month.month, 1, tzinfo=SHANGHAI).astimezone(UTC)
    end = datetime(following.year, following.month, 1, tzinfo=SHANGHAI).astimezone(UTC)
    return start, end


def monthly_report(session: Session, actor: Actor, *, supplier_id: int, month: date
                   ) -> MonthlyReport:
    """The report of a supplier for a month: the operator and the supervisor read any
    supplier's, a supplier its own; another organisation is told it does not exist."""
    require_same_organisation(actor, supplier_id)
    name = session.scalar(select(ORGANISATIONS.c.name).where(
        ORGANISATIONS.c.id == supplier_id,
        ORGANISATIONS.c.kind == OrganisationKind.SUPPLIER.value))
    if name is None:
        raise NotFound()
    start, end = _bounds(month)
    runs = session.execute(
        select(PriceInspection.started_at, InspectedSupplier.offers)
        .join(InspectedSupplier, InspectedSupplier.inspection_id == PriceInspection.id)
        .where(InspectedSupplier.supplier_id == supplier_id,
               PriceInspection.started_at >= start, PriceInspection.started_at < end)
        .order_by(PriceInspection.started_at)).all()
    cases = [CaseRow(*row) for row in session.execute(
        case_query().where(PriceCase.supplier_id == supplier_id, PriceCase.opened_at >= start,
                       PriceCase.opened_at < end)
        .order_by(PriceCase.opened_at, PriceCase.id)).all()]
    by_status = Counter(row.case.status for row in cases)
    frozen_at_once = sum(1 for row in cases if row.case.frozen_automatically)
    return MonthlyReport(
        supplier_id=supplier_id, supplier_name=name, month=month, inspections=len(runs),
        checks=sum(offers for _at, offers in runs), last_inspected=runs[-1][1] if runs else 0,
        cases=cases, by_status={s: by_status.get(s, 0) for s in CaseStatus},
        frozen_at_once=frozen_at_once,
        frozen_by_operator=by_status.get(CaseStatus.FROZEN, 0) - frozen_at_once)


def report_suppliers(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The suppliers a report can be asked for: oversight any supplier, a supplier itself."""
    query = select(ORGANISATIONS.c.id, ORGANISATIONS.c.name).where(
        ORGANISATIONS.c.kind == OrganisationKind.SUPPLIER.value)
    if not actor.is_oversight:
        query = query.where(ORGANISATIONS.c.id == actor.organisation_id)
    return [(r[0], r[1]) for r in session.execute(query.order_by(ORGANISATIONS.c.name))]


def months_back(count: int = 12) -> list[date]:
    """This month and the ones before it, newest first (the report's month picker)."""
    first = local_today().replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return months


__all__ = ["MonthlyReport", "monthly_report", "months_back", "parse_month", "report_suppliers"]
