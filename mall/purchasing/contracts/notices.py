"""Public notices (成交结果公告, 合同公告): published by a job within 2 working days,
secret contracts recorded but never published; searchable without login. A bidding round's
notices (竞价公告, its result, failure and award changes) are recorded here too, by the
round's number, and are usually published at once (bidding_rounds)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation
from mall.core.clock import SHANGHAI, local_today, now, working_day_deadline
from mall.purchasing.budget.services import code_prefix
from mall.purchasing.contracts.models import ROUND_NOTICE_KINDS, Contract, Notice, NoticeKind
from mall.purchasing.orders.models import Order, Paperwork
from suppliers.models import SupplierProfile

NOTICE_WORKING_DAYS = 2  # result and contract notices: within 2 working days


def publish_due(session: Session, *, limit: int = 500) -> int:
    """Publish every notice waiting (the job runs often, well inside the deadline)."""
    waiting = list(session.scalars(select(Notice).where(
        Notice.published_at.is_(None), Notice.withheld.is_(False)).order_by(Notice.id).limit(limit)))
    moment = now()
    for notice in waiting:
        notice.published_at = moment
    return len(waiting)


@dataclass(frozen=True)
class NoticeFilter:
    kind: NoticeKind | None = None
    buyer: str = ""
    supplier: str = ""
    category: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    page_size: int = 20


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def search_notices(session: Session, f: NoticeFilter) -> tuple[list[Notice], int]:
    """Published notices, newest first, by unit, supplier, category and date."""
    query = select(Notice).where(Notice.published_at.is_not(None), Notice.withheld.is_(False))
    if f.kind:
        query = query.where(Notice.kind == f.kind)
    if f.buyer:
        query = query.where(Notice.buyer_name.contains(f.buyer, autoescape=True))
    if f.supplier:
        query = query.where(Notice.supplier_name.contains(f.supplier, autoescape=True))
    if f.category:
        code = code_prefix(f.category)
        query = query.where(or_(Notice.category_codes.startswith(code, autoescape=True),
                                Notice.category_codes.contains(" " + code, autoescape=True)))
    if f.date_from:
        query = query.where(Notice.published_at >= _start(f.date_from))
    if f.date_to:
        query = query.where(Notice.published_at < _start(f.date_to + timedelta(days=1)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Notice.published_at.desc(), Notice.id.desc())
                           .limit(f.page_size).offset((f.page - 1) * f.page_size))
    return list(rows), total


def get_notice(session: Session, notice_id: int) -> Notice | None:
    notice = session.get(Notice, notice_id)
    if notice is None or notice.published_at is None or notice.withheld:
        return None
    return notice


def record_round_notice(session: Session, *, kind: NoticeKind, reference: str, title: str,
                        buyer_name: str, supplier_name: str, amount_fen: int,
                        body: dict[str, Any], category_codes: Iterable[str],
                        publish_now: bool) -> Notice:
    """Record a bidding round's notice under the round's number (``reference``): published
    at once with ``publish_now``, else due within 2 working days and published by the job."""
    if kind not in ROUND_NOTICE_KINDS:
        raise ValueError(f"{kind} is an order's notice, not a round's")
    moment = now()
    notice = Notice(order_id=None, reference=reference, kind=kind, title=title,
                    buyer_name=buyer_name, supplier_name=supplier_name, amount_fen=amount_fen,
                    body=body, category_codes=" ".join(sorted(set(category_codes))),
                    withheld=False, created_at=moment,
                    due_by=working_day_deadline(moment, NOTICE_WORKING_DAYS),
                    published_at=moment if publish_now else None)
    session.add(notice)  # flushed with the caller's work: a closing batch writes them at once
    return notice


def record_notice(session: Session, order: Order, kind: NoticeKind) -> None:
    """Record the result or contract notice of an order, due within 2 working days (a secret
    contract's notices are recorded but withheld); the publishing job makes it public."""
    if kind is NoticeKind.CONTRACT and order.paperwork is Paperwork.SETTLEMENT:
        raise ValueError(f"order {order.number} has a settlement order, no contract to publish")
    buyer = session.get_one(Organisation, order.buyer_org_id)
    supplier = session.get_one(Organisation, order.supplier_id)
    profile = session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == order.supplier_id))
    moment = now()
    title = (f"{buyer.name}{'直购成交结果公告' if kind is NoticeKind.RESULT else '政府采购合同公告'}"
             f"（{order.number}）")
    body = {"order_number": order.number, "buyer": buyer.name, "buyer_credit_code": buyer.credit_code,
            "supplier": supplier.name, "supplier_credit_code": supplier.credit_code,
            "total_fen": order.total_fen, "sme": bool(profile and profile.is_sme),
            "sme_size": profile.size.value if profile and profile.is_sme else None,
            "items": [{"title": ln.title, "brand": ln.brand, "model": ln.model,
                       "category_code": ln.category_code, "quantity": ln.quantity,
                       "unit": ln.unit, "unit_price_fen": ln.unit_price_fen}
                      for ln in order.lines]}
    if kind is NoticeKind.CONTRACT:
        contract = session.scalars(select(Contract).where(Contract.order_id == order.id)).one()
        body["contract_number"] = contract.number
        body["signed_on"] = local_today().isoformat()
    session.add(Notice(
        order_id=order.id, kind=kind, title=title, buyer_name=buyer.name,
        supplier_name=supplier.name, amount_fen=order.total_fen, body=body,
        category_codes=" ".join(sorted({ln.category_code for ln in order.lines})),
        withheld=order.secret, created_at=moment,  # secret: neither notice is published
        due_by=working_day_deadline(moment, NOTICE_WORKING_DAYS)))
