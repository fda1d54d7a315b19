"""Contract facts in bulk, for banks (政采贷): everything a lender reads about a contract,
for a page of orders at once in a fixed number of queries, whatever the page's size.

A bank pulls 100,000 contracts in pages of 1,000 within 20 s, so nothing here queries per
order: seven statements read the orders with their contracts, lines, parties, supplier
profiles, acceptances, payments and payee account history, and the dictionaries are
assembled in Python from plain rows (no ORM objects). Who may read which contract
(the supplier's consent) is the financing package's rule, not this module's; secret
contracts are included and marked (``secret``), as the consenting supplier shares them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation
from mall.core.bulk import among
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts.models import Contract, PayeeAccountChange
from mall.purchasing.orders.models import Acceptance, Order, OrderLine, Paperwork
from mall.purchasing.payments.models import Payment
from suppliers.models import SizeClass, SupplierProfile

STATEMENTS = 7  # what one call costs, whatever the number of orders
_PAID = "succeeded"


def contract_facts(session: Session, order_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The facts of each order's contract (or settlement order), by order id; an order without
    one yet is left out. Dates and times are ``date`` and aware UTC ``datetime`` values, money
    integer fen. Keys of each entry:

    order_id, contract_number, paperwork (contract/settlement), order_number, project_number
    (the bidding round's number, else the order's), round_number, budget_project_code,
    purchase_mode, purchaser and supplier {name, credit_code} (the supplier also sme, size),
    items [{title, brand, model, category_code, quantity, unit, unit_price_fen, amount_fen}],
    total_fen, accepted_fen, paid_fen, refunded_fen, signed_at (the buyer's signature, or the
    settlement order's issue), delivery_days, acceptance {result, accepted_on} or None,
    invoice {number, invoiced_at} or None, pay_by, payments [{method, reference, paid_on,
    amount_fen, refunded_fen, payee_account_number}] (the money that arrived), payee_account
    {bank_name, account_name, account_number, locked, lender_org_id}, payee_history [the
    same with at and reason, oldest first], status, secret.
    """
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    # Core execution: these are plain column selects, and the ORM's result machinery costs
    # a third of a 1,000-contract page's time for nothing here.
    connection = session.connection()
    orders = connection.execute(
        select(Order.id, Order.number, Order.reference, Order.purchase_mode, Order.paperwork,
               Order.buyer_org_id, Order.supplier_id, Order.total_fen, Order.accepted_fen,
               Order.paid_fen, Order.refunded_fen, Order.delivery_days, Order.invoice_number,
               Order.invoiced_at, Order.pay_by, Order.status, Order.secret,
               Contract.number.label("contract_number"), Contract.created_at.label("issued_at"),
               Contract.buyer_signed_at, BudgetLine.project_code)
        .join(Contract, Contract.order_id == Order.id)
        .join(BudgetLine, BudgetLine.id == Order.budget_line_id)
        .where(among(session, Order.id, ids)).order_by(Order.id)).all()
    if not orders:
        return {}
    ids = [row.id for row in orders]
    org_ids = {row.buyer_org_id for row in orders} | {row.supplier_id for row in orders}
    parties = {row.id: row for row in connection.execute(
        select(Organisation.id, Organisation.name, Organisation.credit_code)
        .where(among(session, Organisation.id, org_ids)))}
    profiles = {row.organisation_id: row for row in connection.execute(
        select(SupplierProfile.organisation_id, SupplierProfile.size, SupplierProfile.bank_name,
               SupplierProfile.bank_account)
        .where(among(session, SupplierProfile.organisation_id,
                     {row.supplier_id for row in orders})))}
    lines = _grouped(connection.execute(
        select(OrderLine.order_id, OrderLine.title, OrderLine.brand, OrderLine.model,
               OrderLine.category_code, OrderLine.quantity, OrderLine.unit,
               OrderLine.unit_price_fen)
        .where(among(session, OrderLine.order_id, ids)).order_by(OrderLine.order_id, OrderLine.id)))
    acceptances = {row.order_id: row for row in connection.execute(
        select(Acceptance.order_id, Acceptance.result, Acceptance.accepted_on)
        .where(among(session, Acceptance.order_id, ids)))}
    payments = _grouped(connection.execute(
        select(Payment.order_id, Payment.method, Payment.voucher_number, Payment.intent_id,
               Payment.paid_on, Payment.amount_fen, Payment.refunded_fen,
               Payment.payee_account_number)
        .where(among(session, Payment.order_id, ids), Payment.status == _PAID)
        .order_by(Payment.order_id, Payment.id)))
    history = _grouped(connection.execute(
        select(PayeeAccountChange.order_id, PayeeAccountChange.at, PayeeAccountChange.bank_name,
               PayeeAccountChange.account_name, PayeeAccountChange.account_number,
               PayeeAccountChange.locked, PayeeAccountChange.lender_org_id,
               PayeeAccountChange.reason)
        .where(among(session, PayeeAccountChange.order_id, ids))
        .order_by(PayeeAccountChange.order_id, PayeeAccountChange.id)))
    return {row.id: _facts(row, parties, profiles.get(row.supplier_id), lines[row.id],
                           acceptances.get(row.id), payments[row.id], history[row.id])
            for row in orders}


def _grouped(rows: Iterable[Any]) -> defaultdict[int, list[Any]]:
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.order_id].append(row)
    return grouped


def _party(row: Any) -> dict[str, Any]:
    return {"name": row.name if row else "", "credit_code": row.credit_code if row else None}


def _account(row: Any) -> dict[str, Any]:
    return {"bank_name": row.bank_name, "account_name": row.account_name,
            "account_number": row.account_number, "locked": row.locked,
            "lender_org_id": row.lender_org_id if row.locked else None}


def _facts(row: Any, parties: dict[int, Any], profile: Any, lines: list[Any], acceptance: Any,
           payments: list[Any], history: list[Any]) -> dict[str, Any]:
    supplier = parties.get(row.supplier_id)
    sme = profile is not None and profile.size is not SizeClass.LARGE
    settled = row.paperwork is Paperwork.SETTLEMENT
    changes = [{**_account(change), "at": change.at, "reason": change.reason,
                "lender_org_id": change.lender_org_id} for change in history]
    current = (_account(history[-1]) if history else
               {"bank_name": profile.bank_name if profile else "",
                "account_name": supplier.name if supplier else "",
                "account_number": profile.bank_account if profile else "",
                "locked": False, "lender_org_id": None})
    return {
        "order_id": row.id, "contract_number": row.contract_number,
        "paperwork": row.paperwork.value, "order_number": row.number,
        "project_number": row.reference or row.number, "round_number": row.reference,
        "budget_project_code": row.project_code, "purchase_mode": row.purchase_mode.value,
        "purchaser": _party(parties.get(row.buyer_org_id)),
        "supplier": {**_party(supplier), "sme": sme,
                     "size": profile.size.value if profile is not None else None},
        "items": [{"title": ln.title, "brand": ln.brand, "model": ln.model,
                   "category_code": ln.category_code, "quantity": ln.quantity, "unit": ln.unit,
                   "unit_price_fen": ln.unit_price_fen,
                   "amount_fen": ln.quantity * ln.unit_price_fen} for ln in lines],
        "total_fen": row.total_fen, "accepted_fen": row.accepted_fen, "paid_fen": row.paid_fen,
        "refunded_fen": row.refunded_fen,
        "signed_at": row.issued_at if settled else row.buyer_signed_at,
        "delivery_days": row.delivery_days,
        "acceptance": ({"result": acceptance.result.value, "accepted_on": acceptance.accepted_on}
                       if acceptance is not None else None),
        "invoice": ({"number": row.invoice_number, "invoiced_at": row.invoiced_at}
                    if row.invoice_number else None),
        "pay_by": row.pay_by,
        "payments": [{"method": p.method.value, "reference": p.voucher_number or p.intent_id,
                      "paid_on": p.paid_on, "amount_fen": p.amount_fen,
                      "refunded_fen": p.refunded_fen,
                      "payee_account_number": p.payee_account_number} for p in payments],
        "payee_account": current, "payee_history": changes,
        "status": row.status.value, "secret": row.secret,
    }
