"""Loans against contracts (政采贷贷款): the supplier applies to a bank's product from a
signed contract; the bank approves or rejects, pays out (the contract's payee account is then
locked to the bank's repayment account, 回款账户), records repayments, and closes.

Applying needs a live consent of the supplier that covers the contract for that bank: the
bank must be able to read what it lends against, so the supplier grants access first (the
page links to the consent form) rather than the application granting it silently.

A contract has at most one loan under way (applied, approved or paid out): two lenders
cannot both be repaid from one payee account. The lock is released by the bank only: on
full repayment, or earlier by its consent (``release_lock_by_consent``). Every step is a
``LoanEvent``, an audit entry and a message to the other side; a step in the wrong state is
refused with 409 ``loan_state_conflict`` and the reason."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from financing.consent import readable, require_bank, require_supplier_admin
from financing.models import FinanceProduct, Loan, LoanEvent, LoanStatus
from financing.products import MAX_RATE_BP, MAX_TERM_DAYS, percent_text
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import SUPPLIER_STAFF, Actor, OrganisationKind
from mall.core.clock import SHANGHAI, local_today, now, to_local
from mall.core.errors import Conflict, FieldMessage, NotFound, ValidationFailed
from mall.core.inputs import control_characters, in_id_range
from mall.core.money import POSITIVE_AMOUNT, format_fen, within
from mall.i18n_messages import N_
from mall.purchasing.contracts.models import Contract
from mall.purchasing.contracts.payee import lock_payee_account, release_payee_lock
from mall.purchasing.orders.models import Order, OrderStatus
from mall.purchasing.orders.notifications import MESSAGES, notify

S = OrderStatus
# Signed (or settled by a settlement order) and not yet paid, cancelled or returned.
FINANCEABLE = frozenset({S.SIGNED, S.SHIPPED, S.DELIVERED, S.ACCEPTED, S.INVOICED})
UNDER_WAY = frozenset({LoanStatus.APPLIED, LoanStatus.APPROVED, LoanStatus.DISBURSED})
RELEASED = "released"  # the event kind of a lock released before full repayment
REPAYMENT = "repayment"

LOAN_MESSAGES = {
    "loan_applied": N_("%(supplier)s applied for a loan of %(amount)s against order %(number)s "
                       "(loan %(loan)s)."),
    "loan_approved": N_("Loan %(loan)s against order %(number)s was approved: %(amount)s at "
                        "%(rate)s a year for %(days)s days."),
    "loan_rejected": N_("Loan %(loan)s against order %(number)s was rejected: %(reason)s"),
    "loan_disbursed": N_("Loan %(loan)s: %(amount)s was paid out; order %(number)s is now paid "
                         "into the bank's account %(account)s."),
    "loan_repayment": N_("Loan %(loan)s: a repayment of %(amount)s was recorded; %(outstanding)s "
                         "is outstanding."),
    "loan_repaid": N_("Loan %(loan)s is fully repaid; the payee account of order %(number)s is "
                      "released."),
    "loan_closed": N_("Loan %(loan)s against order %(number)s was closed."),
    "loan_lock_released": N_("The bank released the payee account of order %(number)s before "
                             "loan %(loan)s was repaid: %(reason)s"),
}
MESSAGES.update(LOAN_MESSAGES)

# Why a step is refused in the loan's present state (409 loan_state_conflict).
STATE_REFUSALS = {
    "approve": N_("Only an application can be approved."),
    "reject": N_("Only an application or an approved loan not yet paid out can be rejected."),
    "disburse": N_("Only an approved loan can be paid out."),
    "repay": N_("Only a paid-out loan takes repayments."),
    "close": N_("Only a fully repaid or rejected loan can be closed."),
    "release": N_("Only the account lock of a paid-out loan can be released."),
}
STEP_STATES = {
    "approve": {LoanStatus.APPLIED},
    "reject": {LoanStatus.APPLIED, LoanStatus.APPROVED},
    "disburse": {LoanStatus.APPROVED},
    "repay": {LoanStatus.DISBURSED},
    "close": {LoanStatus.REPAID, LoanStatus.REJECTED},
    "release": {LoanStatus.DISBURSED},
}


class LoanStateConflict(Conflict):
    """A loan step asked for in a state that does not allow it."""

    code = "loan_state_conflict"


# -- reads ---------------------------------------------------------------------------------


# The reasons written into the contract's account history and its public amendment notice
# (合同账户变更公告): published as they are, in the language of the notices, and naming no loan.
LOCK_REASON = "依政采贷约定，收款账户变更为贷款银行回款账户"
REPAID_REASON = "政采贷已结清，收款账户恢复为供应商账户"
RELEASED_REASON = "经贷款银行同意，收款账户恢复为供应商账户"

def contract_value(order: Order) -> int:
    """What a loan is measured against: the accepted value once accepted, else the total."""
    return order.total_fen if order.accepted_fen is None else order.accepted_fen


def loan_cap(value_fen: int, product: FinanceProduct) -> int:
    """The most a product lends against a contract worth ``value_fen``: its share of it."""
    return value_fen * product.max_share_pct // 100


def lock_released(loan: Loan) -> bool:
    """Whether the payee account of the loan's contract is no longer locked by it."""
    return loan.status in (LoanStatus.REPAID, LoanStatus.CLOSED) and loan.disbursed_fen > 0 \
        or any(e.kind == RELEASED for e in loan.events)


def loans_of(session: Session, actor: Actor) -> list[Loan]:
    """A supplier's loans, or the loans a bank gave or was asked for (newest first)."""
    if actor.organisation_kind is OrganisationKind.FINANCE_PARTNER:
        require_bank(actor)
        column = Loan.bank_org_id
    elif actor.organisation_kind is OrganisationKind.SUPPLIER:
        actor.require_role(*SUPPLIER_STAFF)
        column = Loan.supplier_id
    else:
        raise NotFound()
    return list(session.scalars(select(Loan).where(column == actor.organisation_id)
                                .order_by(Loan.id.desc())))


def get_loan(session: Session, actor: Actor, loan_id: int) -> Loan:
    """A loan its supplier or its bank may see; anybody else finds none."""
    loan = session.get(Loan, loan_id) if in_id_range(loan_id) else None
    if loan is None or actor.organisation_id not in (loan.supplier_id, loan.bank_org_id):
        raise NotFound()
    return loan


# -- helpers -------------------------------------------------------------------------------

def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def _text(errors: dict[str, list[str]], field: str, text: str | None, *, limit: int,
          needed: str | None) -> str:
    value = (text or "").strip()
    if needed and not value:
        errors[field] = [needed]
    elif len(value) > limit or control_characters(value):
        errors[field] = [FieldMessage(N_("Keep it to one line of at most %(limit)s characters."),
                                      limit=limit)]
    return value


def _event(session: Session, actor: Actor, loan: Loan, kind: str, *,
           amount_fen: int | None = None, on_day: date | None = None,
           note: str | None = None, data: dict | None = None) -> None:
    loan.events.append(LoanEvent(kind=kind, at=now(), amount_fen=amount_fen,
                                 on_day=_day_start(on_day) if on_day else None, note=note,
                                 user_id=actor.user_id, token_id=actor.token_id))
    record_event(session, action=f"loan.{kind}", object_type="finance_loan", object_id=loan.id,
                 actor=actor, data={"number": loan.number, "order_id": loan.order_id,
                                    "amount_fen": amount_fen, **(data or {})})


def _bank_loan(session: Session, actor: Actor, loan_id: int, step: str) -> tuple[Loan, Order]:
    """The bank's own loan, locked, in a state that allows ``step``."""
    require_bank(actor)
    loan = session.get(Loan, loan_id, with_for_update=True) if in_id_range(loan_id) else None
    if loan is None or loan.bank_org_id != actor.organisation_id:
        raise NotFound()
    if loan.status not in STEP_STATES[step] or (step == "release" and lock_released(loan)):
        detail = (N_("The account lock of this loan is already released.")
                  if loan.status in STEP_STATES[step] else STATE_REFUSALS[step])
        raise LoanStateConflict(detail)
    return loan, session.get_one(Order, loan.order_id)


def _amount(errors: dict[str, list[str]], amount_fen: object, most: int, *,
            field: str = "amount", above: str) -> int:
    if not within(amount_fen, POSITIVE_AMOUNT):
        errors[field] = [POSITIVE_AMOUNT.message]
        return 0
    if amount_fen > most:
        errors[field] = [FieldMessage(above, most=format_fen(most))]
    return amount_fen


def _day(errors: dict[str, list[str]], field: str, day: object, earliest: date) -> date:
    if not isinstance(day, date) or not earliest <= day <= local_today():
        errors[field] = [FieldMessage(N_("Enter a date from %(earliest)s to today."),
                                      earliest=earliest.isoformat())]
        return earliest
    return day


# -- the supplier's application ------------------------------------------------------------

def apply_for_loan(session: Session, actor: Actor, *, order_id: int, product_id: int,
                   amount_fen: int, note: str = "") -> Loan:
    """The supplier asks a bank's product for a loan against one of its signed contracts, for
    at most the product's share of the contract amount; the bank is told."""
    require_supplier_admin(actor)
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update()) \
        if in_id_range(order_id) else None
    if order is None or order.supplier_id != actor.organisation_id:
        raise NotFound()
    contract = session.scalar(select(Contract).where(Contract.order_id == order.id))
    if contract is None or order.status not in FINANCEABLE:
        raise Conflict(N_("Only a signed contract or settlement order that is not yet paid, "
                          "cancelled or returned can be financed."), code="not_financeable")
    errors: dict[str, list[str]] = {}
    product = session.get(FinanceProduct, product_id) if in_id_range(product_id) else None
    if product is None or not product.active:
        raise ValidationFailed(errors={"product_id": [N_("Choose one of the banks' products.")]})
    _amount(errors, amount_fen, loan_cap(contract_value(order), product),
            above=N_("This product lends at most %(most)s against this contract."))
    text = _text(errors, "note", note, limit=500, needed=None)
    if errors:
        raise ValidationFailed(errors=errors)
    moment = now()
    allowed = session.scalar(select(readable(product.bank_org_id, moment,
                                             order_id=literal(order.id),
                                             supplier_id=literal(order.supplier_id))))
    if not allowed:
        raise Conflict(N_("Grant the bank access to this contract first."),
                       code="consent_required")
    if session.scalar(select(Loan.id).where(Loan.order_id == order.id,
                                            Loan.status.in_(UNDER_WAY)).limit(1)):
        raise Conflict(N_("This contract already has a loan under way."), code="loan_exists")
    loan = Loan(number="DK-" + uuid.uuid4().hex, order_id=order.id, supplier_id=order.supplier_id,
                bank_org_id=product.bank_org_id, product_id=product.id,
                status=LoanStatus.APPLIED, requested_fen=amount_fen, note=text or None)
    session.add(loan)
    session.flush()
    loan.number = f"DK{to_local(moment):%Y%m%d}{loan.id:06d}"
    _event(session, actor, loan, LoanStatus.APPLIED.value, amount_fen=amount_fen, note=text or None,
           data={"product_id": product.id, "bank_org_id": product.bank_org_id})
    supplier = session.get_one(Organisation, order.supplier_id)
    notify(session, loan.bank_org_id, order, "loan_applied", supplier=supplier.name,
           amount=format_fen(amount_fen), loan=loan.number)
    session.flush()
    return loan


# -- the bank's steps ----------------------------------------------------------------------

def approve(session: Session, actor: Actor, loan_id: int, *, amount_fen: int, rate_bp: int,
            term_days: int, note: str = "") -> Loan:
    """The bank approves at most the amount asked for, at a rate within its product's range."""
    loan, order = _bank_loan(session, actor, loan_id, "approve")
    errors: dict[str, list[str]] = {}
    _amount(errors, amount_fen, loan.requested_fen,
            above=N_("Approve at most the %(most)s asked for."))
    product = session.get(FinanceProduct, loan.product_id) if loan.product_id else None
    low, high = (product.rate_min_bp, product.rate_max_bp) if product else (1, MAX_RATE_BP)
    if not isinstance(rate_bp, int) or isinstance(rate_bp, bool) or not low <= rate_bp <= high:
        errors["rate"] = [FieldMessage(N_("Enter a yearly rate from %(low)s to %(high)s."),
                                       low=f"{percent_text(low)} %", high=f"{percent_text(high)} %")]
    if not isinstance(term_days, int) or not 1 <= term_days <= MAX_TERM_DAYS:
        errors["term_days"] = [N_("Enter a term from 1 to 3650 days.")]
    text = _text(errors, "note", note, limit=500, needed=None)
    if errors:
        raise ValidationFailed(errors=errors)
    loan.status, loan.approved_fen = LoanStatus.APPROVED, amount_fen
    loan.rate_bp, loan.term_days = rate_bp, term_days
    _event(session, actor, loan, LoanStatus.APPROVED.value, amount_fen=amount_fen,
           note=text or None, data={"rate_bp": rate_bp, "term_days": term_days})
    notify(session, loan.supplier_id, order, "loan_approved", loan=loan.number,
           amount=format_fen(amount_fen), rate=f"{percent_text(rate_bp)} %", days=term_days)
    return loan


def reject(session: Session, actor: Actor, loan_id: int, *, reason: str) -> Loan:
    """The bank turns the application down (or withdraws its approval), with the reason."""
    loan, order = _bank_loan(session, actor, loan_id, "reject")
    errors: dict[str, list[str]] = {}
    text = _text(errors, "reason", reason, limit=500, needed=N_("Give a reason."))
    if errors:
        raise ValidationFailed(errors=errors)
    loan.status = LoanStatus.REJECTED
    _event(session, actor, loan, LoanStatus.REJECTED.value, note=text)
    notify(session, loan.supplier_id, order, "loan_rejected", loan=loan.number, reason=text)
    return loan


def disburse(session: Session, actor: Actor, loan_id: int, *, amount_fen: int,
             value_date: date, bank_name: str, account_name: str, account_number: str,
             bank_reference: str) -> Loan:
    """The bank pays out at most the approved amount; the contract's payee account is locked
    to the bank's repayment account (an amendment notice is published by purchasing)."""
    loan, order = _bank_loan(session, actor, loan_id, "disburse")
    errors: dict[str, list[str]] = {}
    _amount(errors, amount_fen, loan.approved_fen,
            above=N_("Pay out at most the %(most)s approved."))
    applied = to_local(loan.events[0].at).date() if loan.events else local_today()
    day = _day(errors, "value_date", value_date, applied)
    bank = _text(errors, "bank_name", bank_name, limit=100,
                 needed=N_("Enter the bank (branch) of the repayment account."))
    holder = _text(errors, "account_name", account_name, limit=200,
                   needed=N_("Enter the name of the repayment account."))
    number = _text(errors, "account_number", account_number, limit=40,
                   needed=N_("Enter the number of the repayment account."))
    number = "".join(c for c in number if c not in " -")  # as printed: 6222 0000-1234
    if number and "account_number" not in errors and not (
            number.isascii() and number.isdigit() and 8 <= len(number) <= 40):
        errors["account_number"] = [N_("Enter the account number (8 to 40 digits).")]
    reference = _text(errors, "bank_reference", bank_reference, limit=60,
                      needed=N_("Enter the bank's own reference of the loan."))
    if errors:
        raise ValidationFailed(errors=errors)
    lock_payee_account(session, actor, order.id, bank_name=bank, account_name=holder,
                       account_number=number, reason=LOCK_REASON)
    loan.status, loan.disbursed_fen, loan.disbursed_on = (LoanStatus.DISBURSED, amount_fen,
                                                          _day_start(day))
    loan.repayment_bank_name, loan.repayment_account_name = bank, holder
    loan.repayment_account_number, loan.bank_reference = number, reference
    _event(session, actor, loan, LoanStatus.DISBURSED.value, amount_fen=amount_fen, on_day=day,
           note=reference, data={"account_number": number, "bank_name": bank})
    notify(session, loan.supplier_id, order, "loan_disbursed", loan=loan.number,
           amount=format_fen(amount_fen), account=f"{bank} {number}")
    return loan


def repay(session: Session, actor: Actor, loan_id: int, *, amount_fen: int,
          on_day: date) -> Loan:
    """The bank records a repayment; once the whole payout is back the loan is repaid and the
    contract's payee account released (unless the bank released it already)."""
    loan, order = _bank_loan(session, actor, loan_id, "repay")
    errors: dict[str, list[str]] = {}
    outstanding = loan.disbursed_fen - loan.repaid_fen
    _amount(errors, amount_fen, outstanding,
            above=N_("Record at most the %(most)s outstanding."))
    earliest = to_local(loan.disbursed_on).date() if loan.disbursed_on else local_today()
    day = _day(errors, "on_day", on_day, earliest)
    if errors:
        raise ValidationFailed(errors=errors)
    loan.repaid_fen += amount_fen  # the loan's row is locked (_bank_loan)
    _event(session, actor, loan, REPAYMENT, amount_fen=amount_fen, on_day=day)
    if loan.repaid_fen < loan.disbursed_fen:
        notify(session, loan.supplier_id, order, "loan_repayment", loan=loan.number,
               amount=format_fen(amount_fen),
               outstanding=format_fen(loan.disbursed_fen - loan.repaid_fen))
        return loan
    was_released = lock_released(loan)
    loan.status = LoanStatus.REPAID
    _event(session, actor, loan, LoanStatus.REPAID.value, amount_fen=loan.repaid_fen, on_day=day)
    if not was_released:
        release_payee_lock(session, actor, order.id, reason=REPAID_REASON)
    notify(session, loan.supplier_id, order, "loan_repaid", loan=loan.number)
    return loan


def close(session: Session, actor: Actor, loan_id: int, *, note: str = "") -> Loan:
    """The bank closes a repaid loan, or files away a rejected application."""
    loan, order = _bank_loan(session, actor, loan_id, "close")
    errors: dict[str, list[str]] = {}
    text = _text(errors, "note", note, limit=500, needed=None)
    if errors:
        raise ValidationFailed(errors=errors)
    loan.status = LoanStatus.CLOSED
    _event(session, actor, loan, LoanStatus.CLOSED.value, note=text or None)
    notify(session, loan.supplier_id, order, "loan_closed", loan=loan.number)
    return loan


def release_lock_by_consent(session: Session, actor: Actor, loan_id: int, *,
                            reason: str) -> Loan:
    """The bank lets the contract be paid to the supplier again before full repayment."""
    loan, order = _bank_loan(session, actor, loan_id, "release")
    errors: dict[str, list[str]] = {}
    text = _text(errors, "reason", reason, limit=300, needed=N_("Give a reason."))
    if errors:
        raise ValidationFailed(errors=errors)
    # The public notice says why in general terms; the bank's own words stay in the loan.
    release_payee_lock(session, actor, order.id, reason=RELEASED_REASON)
    _event(session, actor, loan, RELEASED, note=text)
    notify(session, loan.supplier_id, order, "loan_lock_released", loan=loan.number,
           reason=text)
    return loan
