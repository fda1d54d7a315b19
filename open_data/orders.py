"""The releases of an order: award (a direct purchase's result notice), contract, implementation.

Built from the same records the statutory notices are: the award and a signed contract from
their published notices' bodies (so the release can never name another supplier, amount or
item than the notice did), the rest from the order's rows. What is not public yet is not
released: the award waits for the result notice's publication, a contract for its contract
notice. A secret order (涉密, ``Order.secret``) has both notices withheld and publishes no
release at all: its ocid is unknown to the open data.

Steps and their release dates:

- ``award`` (direct purchases; tags tender, award): when the result notice was published.
- ``contract``: when the contract notice was published; a settlement order (结算单, never
  noticed) when it was issued, but never before the award's release.
- ``implementation``: when the order was paid (its ``paid`` step), with every payment made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import CATALOGUE_VERSION, Category
from mall.accounts.models import Organisation
from mall.core.clock import SHANGHAI
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts.models import Contract, Notice, NoticeKind
from mall.purchasing.orders.models import Order, OrderStatus, Paperwork, PurchaseMode
from mall.purchasing.payments.models import Payment, PaymentMethod
from mall.purchasing.payments.services import SUCCEEDED
from open_data.common import (
    Release,
    budget,
    item,
    main_category,
    party,
    reference,
    release,
    stamp,
    value,
)
from suppliers.models import SupplierProfile

CHUNK = 500
DIRECT_METHOD_DETAILS = "电子卖场直购"


def chunks(ids: Iterable[Any]) -> Iterable[list[Any]]:
    """Ids in slices small enough for any database's IN list."""
    listed = sorted(set(ids))
    for start in range(0, len(listed), CHUNK):
        yield listed[start:start + CHUNK]


@dataclass
class Names:
    """Rows several releases name, loaded once per batch."""

    organisations: dict[int, Organisation] = field(default_factory=dict)
    profiles: dict[int, SupplierProfile] = field(default_factory=dict)
    budget_lines: dict[int, BudgetLine] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)

    def load(self, session: Session, *, organisation_ids: Iterable[int] = (),
             budget_line_ids: Iterable[int] = (), codes: Iterable[str] = ()) -> None:
        for part in chunks(set(organisation_ids) - set(self.organisations)):
            self.organisations.update((o.id, o) for o in session.scalars(
                select(Organisation).where(Organisation.id.in_(part))))
            self.profiles.update((p.organisation_id, p) for p in session.scalars(
                select(SupplierProfile).where(SupplierProfile.organisation_id.in_(part))))
        for part in chunks(set(budget_line_ids) - set(self.budget_lines)):
            self.budget_lines.update((b.id, b) for b in session.scalars(
                select(BudgetLine).where(BudgetLine.id.in_(part))))
        for part in chunks(set(codes) - set(self.categories)):
            self.categories.update((code, name) for code, name in session.execute(
                select(Category.code, Category.name).where(
                    Category.version == CATALOGUE_VERSION, Category.code.in_(part))))

    def party(self, organisation_id: int, roles: Sequence[str], *, prefix: str,
              name: str | None = None, credit_code: str | None = None,
              sme: bool | None = None) -> dict[str, Any]:
        """A party; name, credit code and SME flag as a notice gave them, else from the rows."""
        organisation = self.organisations[organisation_id]
        profile = self.profiles.get(organisation_id)
        scale = None
        if profile is not None:
            scale = "sme" if (profile.is_sme if sme is None else sme) else "large"
        return party(name or organisation.name, credit_code or organisation.credit_code, roles,
                     fallback=f"{prefix}-org-{organisation_id}", scale=scale)

    def planning(self, budget_line_id: int) -> dict[str, Any]:
        line = self.budget_lines[budget_line_id]
        return budget(line.project_code, line.project_name, line.amount_fen)


@dataclass
class OrderFacts:
    """An order with what its releases read: published notices, document, payments."""

    order: Order
    notices: dict[NoticeKind, Notice]
    contract: Contract | None
    payments: list[Payment]
    paid_at: datetime | None


def load_orders(session: Session, order_ids: Iterable[int], names: Names) -> list[OrderFacts]:
    """The orders and everything their releases need, in a few queries per 500 orders."""
    facts: list[OrderFacts] = []
    for part in chunks(order_ids):
        orders = list(session.scalars(select(Order).where(Order.id.in_(part)).options(
            selectinload(Order.lines), selectinload(Order.steps)).order_by(Order.id)))
        notices: dict[int, dict[NoticeKind, Notice]] = {}
        for notice in session.scalars(select(Notice).where(
                Notice.order_id.in_(part), Notice.published_at.is_not(None),
                Notice.withheld.is_(False))):
            notices.setdefault(notice.order_id or 0, {})[notice.kind] = notice
        contracts = {c.order_id: c for c in session.scalars(
            select(Contract).where(Contract.order_id.in_(part)))}
        payments: dict[int, list[Payment]] = {}
        for payment in session.scalars(select(Payment).where(
                Payment.order_id.in_(part), Payment.status == SUCCEEDED).order_by(Payment.id)):
            payments.setdefault(payment.order_id, []).append(payment)
        names.load(session, organisation_ids=[i for o in orders
                                              for i in (o.buyer_org_id, o.supplier_id)],
                   budget_line_ids=[o.budget_line_id for o in orders],
                   codes=[ln.category_code for o in orders for ln in o.lines])
        for order in orders:
            paid = [s.at for s in order.steps if s.status == OrderStatus.PAID.value]
            facts.append(OrderFacts(order, notices.get(order.id, {}), contracts.get(order.id),
                                    payments.get(order.id, []), paid[0] if paid else None))
    return facts


def _items(names: Names, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items as a notice lists them (title, brand, model, 品目, quantity, unit, unit price)."""
    return [item(position, description=" ".join(
                     part for part in (row["title"], row.get("brand"), row.get("model")) if part),
                 category_code=row["category_code"],
                 category_name=names.categories.get(row["category_code"], ""),
                 quantity=row["quantity"], unit=row["unit"],
                 unit_price_fen=row["unit_price_fen"])
            for position, row in enumerate(rows, start=1)]


def _line_rows(order: Order) -> list[dict[str, Any]]:
    return [{"title": ln.title, "brand": ln.brand, "model": ln.model,
             "category_code": ln.category_code, "quantity": ln.quantity, "unit": ln.unit,
             "unit_price_fen": ln.unit_price_fen} for ln in order.lines]


def _parties(facts: OrderFacts, names: Names, prefix: str, body: dict[str, Any] | None,
             *, paying: bool = False, tenderer: bool = False
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The buyer and the supplier with every role they hold so far (a later release's roles
    replace the earlier ones in a compiled release)."""
    order, body = facts.order, body or {}
    buyer = names.party(order.buyer_org_id,
                        ["buyer", "procuringEntity", *(["payer"] if paying else [])],
                        prefix=prefix, name=body.get("buyer"),
                        credit_code=body.get("buyer_credit_code"))
    supplier = names.party(order.supplier_id, [*(["tenderer"] if tenderer else []), "supplier",
                                               *(["payee"] if paying else [])],
                           prefix=prefix, name=body.get("supplier"),
                           credit_code=body.get("supplier_credit_code"), sme=body.get("sme"))
    return buyer, supplier


def award_id(order: Order) -> str:
    return f"{order.number}-award"


def direct_award(facts: OrderFacts, names: Names, ocid: str, prefix: str) -> Release | None:
    """A direct purchase's tender and award, from its published result notice."""
    notice = facts.notices.get(NoticeKind.RESULT)
    if notice is None or notice.published_at is None:
        return None
    order, body = facts.order, notice.body
    buyer, supplier = _parties(facts, names, prefix, body)
    items = _items(names, body["items"])
    tender = {"id": order.number, "title": f"{body['buyer']}直购（{order.number}）",
              "status": "complete", "procurementMethod": "direct",
              "procurementMethodDetails": DIRECT_METHOD_DETAILS,
              "mainProcurementCategory": main_category(i["category_code"] for i in body["items"]),
              "items": items, "value": value(notice.amount_fen),
              "procuringEntity": reference(buyer), "submissionMethod": ["electronicSubmission"]}
    award = {"id": award_id(order), "title": notice.title, "status": "active",
             "date": stamp(notice.created_at), "value": value(notice.amount_fen),
             "suppliers": [reference(supplier)], "items": items}
    return release(ocid, "award", notice.published_at, ["tender", "award"],
                   parties=[buyer, supplier], buyer=reference(buyer),
                   planning=names.planning(order.budget_line_id), tender=tender, awards=[award])


def contract_release(facts: OrderFacts, names: Names, ocid: str, prefix: str, *,
                     award: str, after: datetime, tenderer: bool = False
                     ) -> tuple[Release, datetime] | None:
    """The contract (from its published notice) or the settlement order, and its date."""
    order, document = facts.order, facts.contract
    if document is None:
        return None
    if order.paperwork is Paperwork.CONTRACT:
        notice = facts.notices.get(NoticeKind.CONTRACT)
        if notice is None or notice.published_at is None or document.buyer_signed_at is None:
            return None
        body, amount, moment = notice.body, notice.amount_fen, notice.published_at
        signed, title, rows = document.buyer_signed_at, notice.title, body["items"]
        number = body["contract_number"]
    else:
        body, amount, moment = {}, order.total_fen, max(document.created_at, after)
        signed, title, rows, number = document.created_at, f"结算单（{document.number}）", \
            _line_rows(order), document.number
    buyer, supplier = _parties(facts, names, prefix, body, tenderer=tenderer)
    contract = {"id": number, "awardID": award, "title": title, "status": "active",
                "value": value(amount), "dateSigned": stamp(signed),
                "period": {"startDate": stamp(signed),
                           "endDate": stamp(signed + timedelta(days=order.delivery_days))},
                "items": _items(names, rows)}
    made = release(ocid, "contract", moment, ["contract"], parties=[buyer, supplier],
                   buyer=reference(buyer), contracts=[contract])
    return made, moment


def _paid_at(payment: Payment) -> datetime:
    if payment.paid_on is not None and payment.method is PaymentMethod.TREASURY:
        return datetime.combine(payment.paid_on, time.min, tzinfo=SHANGHAI)
    return payment.created_at


def implementation(facts: OrderFacts, names: Names, ocid: str, prefix: str, *, award: str,
                   contract_id: str, after: datetime, tenderer: bool = False) -> Release | None:
    """The payments made (treasury vouchers, card payments), once the order is paid."""
    if facts.paid_at is None or not facts.payments:
        return None
    buyer, supplier = _parties(facts, names, prefix, None, paying=True, tenderer=tenderer)
    transactions = [{"id": p.voucher_number or f"card-{p.id}", "date": stamp(_paid_at(p)),
                     "value": value(p.amount_fen), "payer": reference(buyer),
                     "payee": reference(supplier)} for p in facts.payments]
    contract = {"id": contract_id, "awardID": award, "status": "active",
                "implementation": {"transactions": transactions}}
    return release(ocid, "implementation", max(facts.paid_at, after), ["implementation"],
                   parties=[buyer, supplier], contracts=[contract])


def after_award(facts: OrderFacts, names: Names, ocid: str, prefix: str, *, award: str,
                awarded_at: datetime, tenderer: bool = False) -> list[Release]:
    """The contract and implementation releases of an order whose award is public (a
    round's winner was a tenderer too)."""
    made = contract_release(facts, names, ocid, prefix, award=award, after=awarded_at,
                            tenderer=tenderer)
    if made is None:
        return []
    contract, moment = made
    paid = implementation(facts, names, ocid, prefix, award=award,
                          contract_id=contract["contracts"][0]["id"], after=moment,
                          tenderer=tenderer)
    return [contract] + ([paid] if paid else [])


def direct_releases(facts: OrderFacts, names: Names, ocid: str, prefix: str) -> list[Release]:
    """Every release of a direct purchase so far; none for a secret order."""
    if facts.order.secret or facts.order.purchase_mode is not PurchaseMode.DIRECT:
        return []
    award = direct_award(facts, names, ocid, prefix)
    if award is None:
        return []
    awarded_at = facts.notices[NoticeKind.RESULT].published_at
    assert awarded_at is not None  # direct_award released it
    return [award, *after_award(facts, names, ocid, prefix, award=award_id(facts.order),
                                awarded_at=awarded_at)]
