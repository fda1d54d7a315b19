"""The payee account (收款账户) of an order's contract and its history.

The account written into the contract or settlement order is the history's first entry;
a 政采贷 lender that paid out a loan against the contract locks the account to its
repayment account (回款账户), published at once as a contract account change notice
(合同账户变更公告), and only that lender releases it, back to the supplier's own
account. The latest entry is the account the unit pays into (mall.purchasing.payments).

The financing package calls ``lock_payee_account`` and ``release_payee_lock`` after it
checked the lender's loan; these services check the lender's kind and role, the order's
state and the lock, not the loan.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import local_today, now
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.i18n_messages import N_
from mall.purchasing.contracts.document import PayeeAccount
from mall.purchasing.contracts.models import Contract, Notice, NoticeKind, PayeeAccountChange
from mall.purchasing.orders.models import Order, OrderStatus
from mall.purchasing.orders.notifications import notify
from mall.purchasing.orders.steps import WrongState, order_changed
from mall.purchasing.payments.models import Payment
from suppliers.models import SupplierProfile

# Money has gone (or the order is over): the account can no longer be locked.
CLOSED = (OrderStatus.PAID, OrderStatus.RATED, OrderStatus.CANCELLED, OrderStatus.RETURNED)
_UNFINISHED_PAYMENTS = ("pending", "processing", "requires_action")
_DIGITS = frozenset("0123456789")


class PayeeLocked(Conflict):
    """The contract's payee account is locked to a lender's repayment account."""

    code = "payee_locked"
    title = "The payee account is locked to a lender's repayment account"


def masked(account_number: str) -> str:
    """An account number as a public notice shows it: only its last 4 digits."""
    return "*" * max(len(account_number) - 4, 0) + account_number[-4:]


def _profile_account(session: Session, order: Order) -> PayeeAccount:
    """The supplier's own settlement account, from its profile (empty without one)."""
    row = session.execute(select(SupplierProfile.bank_name, SupplierProfile.bank_account)
                          .where(SupplierProfile.organisation_id == order.supplier_id)).first()
    name = session.scalar(select(Organisation.name).where(Organisation.id == order.supplier_id))
    return PayeeAccount(row.bank_name if row else "", name or "", row.bank_account if row else "")


def account_of(change: PayeeAccountChange) -> PayeeAccount:
    """The account an entry of the history names (a lender only while it is locked)."""
    return PayeeAccount(change.bank_name, change.account_name, change.account_number,
                        locked_for_financing=change.locked,
                        lender_org_id=change.lender_org_id if change.locked else None)


def record_initial(session: Session, order: Order, account: PayeeAccount,
                   actor: Actor | None = None) -> PayeeAccountChange:
    """The history's first entry: the account the contract or settlement order was made with."""
    change = PayeeAccountChange(order_id=order.id, at=now(), bank_name=account.bank,
                                account_name=account.account_name,
                                account_number=account.account_number, reason="", locked=False,
                                by_user_id=actor.user_id if actor else None)
    session.add(change)
    return change


def payee_history(session: Session, order_id: int) -> list[PayeeAccountChange]:
    """The order's payee accounts, oldest first: the contract's, then every change."""
    return list(session.scalars(select(PayeeAccountChange).where(
        PayeeAccountChange.order_id == order_id).order_by(PayeeAccountChange.id)))


def current_payee(session: Session, order: Order) -> PayeeAccount:
    """The account the unit pays into: the latest entry of the history, or (an order without
    one: no contract yet, or made before the history was kept) the supplier's own account."""
    latest = session.scalar(select(PayeeAccountChange).where(
        PayeeAccountChange.order_id == order.id).order_by(PayeeAccountChange.id.desc()).limit(1))
    return account_of(latest) if latest is not None else _profile_account(session, order)


def payee_accounts(session: Session, order_id: int) -> dict[str, object]:
    """The current payee account and the history, for the API (the caller checked access)."""
    return {"current": current_payee(session, session.get_one(Order, order_id)),
            "history": payee_history(session, order_id)}


# -- lenders lock and release -------------------------------------------------------------

def _as_lender(actor: Actor) -> None:
    if actor.organisation_kind is not OrganisationKind.FINANCE_PARTNER:
        raise PermissionDenied(N_("Only a lending bank changes a contract's payee account."),
                               code="finance_partner_required")
    actor.require_role(Role.BANK_USER)


def _order_with_contract(session: Session, order_id: int) -> tuple[Order, Contract]:
    """The order, row-locked so a payment and a lock run one after the other, and its
    contract or settlement order."""
    order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound()
    contract = session.scalar(select(Contract).where(Contract.order_id == order.id))
    if contract is None:
        raise WrongState(N_("Order %(number)s has no contract or settlement order yet."),
                         code="no_contract", params={"number": order.number})
    return order, contract


def _account_input(bank_name: str, account_name: str, account_number: str,
                   reason: str) -> tuple[str, str, str, str]:
    bank_name, account_name = (bank_name or "").strip(), (account_name or "").strip()
    account_number, reason = "".join((account_number or "").split()), (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not bank_name or len(bank_name) > 100:
        errors["bank_name"] = [N_("Enter the bank (up to 100 characters).")]
    if not account_name or len(account_name) > 200:
        errors["account_name"] = [N_("Enter the account name (up to 200 characters).")]
    if not 8 <= len(account_number) <= 40 or not set(account_number) <= _DIGITS:
        errors["account_number"] = [N_("Enter the account number (8 to 40 digits).")]
    errors.update(_reason_errors(reason))
    if errors:
        raise ValidationFailed(errors=errors)
    for field, value in (("bank_name", bank_name), ("account_name", account_name)):
        check_text(field, value)
    check_text("reason", reason, multiline=True)
    return bank_name, account_name, account_number, reason


def _reason_errors(reason: str) -> dict[str, list[str]]:
    if not reason:
        return {"reason": [N_("Give a reason.")]}
    if len(reason) > 300:
        return {"reason": [N_("Keep the reason under 300 characters.")]}
    return {}


def lock_payee_account(session: Session, actor: Actor, order_id: int, *, bank_name: str,
                       account_name: str, account_number: str, reason: str
                       ) -> PayeeAccountChange:
    """Lock the order's payee account to the lender's repayment account (回款账户) once its
    loan is paid out: recorded in the history, published at once as a contract account
    change notice (withheld for a secret contract), the buyer and the supplier told.

    Refused for an order without a contract or settlement order, once it is paid,
    cancelled or returned, while a card payment is under way, and (``payee_locked``) while
    another lender holds the lock; the lender holding it may lock another of its accounts.
    """
    _as_lender(actor)
    bank_name, account_name, account_number, reason = _account_input(
        bank_name, account_name, account_number, reason)
    order, contract = _order_with_contract(session, order_id)
    if order.status in CLOSED:
        raise WrongState(N_("Order %(number)s is %(status)s: its payee account can no longer be "
                            "locked."), code="order_closed",
                         params={"number": order.number, "status": order.status.value})
    if session.scalar(select(Payment.id).where(Payment.order_id == order.id,
                                               Payment.status.in_(_UNFINISHED_PAYMENTS)).limit(1)):
        raise WrongState(N_("A payment of this order is still being processed."),
                         code="payment_in_progress")
    current = current_payee(session, order)
    if current.locked and current.lender_org_id != actor.organisation_id:
        raise PayeeLocked(N_("The payee account of contract %(contract)s is locked to another "
                             "lender's repayment account."), params={"contract": contract.number})
    change = PayeeAccountChange(order_id=order.id, at=now(), bank_name=bank_name,
                                account_name=account_name, account_number=account_number,
                                reason=reason, locked=True, lender_org_id=actor.organisation_id,
                                by_user_id=actor.user_id)
    session.add(change)
    session.flush()
    _announce(session, actor, order, contract, change, "payee_locked")
    return change


def release_payee_lock(session: Session, actor: Actor, order_id: int, *,
                       reason: str) -> PayeeAccountChange:
    """The lender that locked the payee account releases it (loan repaid, or its consent):
    the account goes back to the supplier's own, recorded, published and told as a lock is.
    ``payee_not_locked`` when nothing is locked, ``payee_locked`` for another lender."""
    _as_lender(actor)
    reason = (reason or "").strip()
    if errors := _reason_errors(reason):
        raise ValidationFailed(errors=errors)
    check_text("reason", reason, multiline=True)
    order, contract = _order_with_contract(session, order_id)
    current = current_payee(session, order)
    if not current.locked:
        raise Conflict(N_("The payee account of contract %(contract)s is not locked."),
                       code="payee_not_locked", params={"contract": contract.number})
    if current.lender_org_id != actor.organisation_id:
        raise PayeeLocked(N_("Only the lender that locked the payee account of contract "
                             "%(contract)s may release it."), params={"contract": contract.number})
    own = _profile_account(session, order)
    change = PayeeAccountChange(order_id=order.id, at=now(), bank_name=own.bank,
                                account_name=own.account_name, account_number=own.account_number,
                                reason=reason, locked=False, lender_org_id=actor.organisation_id,
                                by_user_id=actor.user_id)
    session.add(change)
    session.flush()
    _announce(session, actor, order, contract, change, "payee_released")
    return change


def _announce(session: Session, actor: Actor, order: Order, contract: Contract,
              change: PayeeAccountChange, kind: str) -> None:
    """The notice, the notifications, the audit event and the change event of a change."""
    lender = session.get_one(Organisation, actor.organisation_id)
    record_account_notice(session, order, contract, change)
    for organisation_id in (order.buyer_org_id, order.supplier_id):
        notify(session, organisation_id, order, kind, contract=contract.number,
               lender=lender.name, bank=change.bank_name, account=change.account_number)
    record_event(session, action=f"contract.{kind}", object_type="order", object_id=order.id,
                 actor=actor, data={"contract": contract.number, "bank_name": change.bank_name,
                                    "account_name": change.account_name,
                                    "account_number": change.account_number,
                                    "reason": change.reason, "change_id": change.id})
    order_changed(session, order, "payee_changed")


def record_account_notice(session: Session, order: Order, contract: Contract,
                          change: PayeeAccountChange) -> Notice:
    """The contract account change notice (合同账户变更公告), published at once (a secret
    contract's is recorded and withheld). An order may have several, so it is kept under the
    contract's number (``reference``), not the order."""
    buyer = session.get_one(Organisation, order.buyer_org_id)
    supplier = session.get_one(Organisation, order.supplier_id)
    codes = sorted({ln.category_code for ln in order.lines})
    moment = now()
    body = {"contract_number": contract.number, "order_number": order.number,
            "buyer": buyer.name, "buyer_credit_code": buyer.credit_code,
            "supplier": supplier.name, "supplier_credit_code": supplier.credit_code,
            "change": "locked" if change.locked else "released",
            "account": {"bank_name": change.bank_name, "account_name": change.account_name,
                        "account_number": masked(change.account_number)},
            "reason": change.reason, "changed_on": local_today().isoformat()}
    notice = Notice(order_id=None, reference=contract.number, kind=NoticeKind.ACCOUNT_CHANGE,
                    title=f"{buyer.name}合同账户变更公告（{contract.number}）",
                    buyer_name=buyer.name, supplier_name=supplier.name,
                    amount_fen=order.total_fen, body=body, category_codes=" ".join(codes),
                    withheld=order.secret, created_at=moment, due_by=moment,
                    published_at=None if order.secret else moment)
    session.add(notice)
    return notice
