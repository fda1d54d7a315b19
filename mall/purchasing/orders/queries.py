"""Read-only helpers of the purchasing pages: names, the records around an order, which steps
an actor may take now, and suppliers' average ratings. Nothing here writes; the services
remain the authority on every rule (a form shown here is still checked when it is posted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation, User
from mall.core.auth import BUYERS, SUPPLIER_STAFF, UNIT_STAFF, Actor, OrganisationKind, Role
from mall.core.clock import now
from mall.purchasing.budget.models import BudgetLine, UnitSettings
from mall.purchasing.contracts.document import PayeeAccount, fingerprint
from mall.purchasing.contracts.models import Contract, Notice, NoticeKind, PayeeAccountChange
from mall.purchasing.contracts.payee import current_payee, payee_history
from mall.purchasing.orders.models import (
    OPEN_RETURN_STATUSES,
    Acceptance,
    Order,
    OrderReturn,
    OrderStatus,
    Rating,
    ReturnStatus,
)
from mall.purchasing.orders.returns import (
    DEFAULT_WINDOW_DAYS,
    RETURNABLE,
    returnable_quantities,
    returns_of,
    window_closes,
)
from mall.purchasing.payments.models import Payment
from mall.purchasing.payments.services import FINAL_STATUSES, REQUIRES_ACTION

S = OrderStatus



@dataclass(frozen=True)
class RatingSummary:
    """A supplier's average of (quality + delivery + service) / 3 over its ratings."""

    average: float
    count: int


@dataclass
class OrderRecord:
    """Everything the order page shows beside the order itself."""

    buyer_name: str
    supplier_name: str
    budget_line: BudgetLine | None
    contract: Contract | None
    notices: list[Notice]
    payments: list[Payment]
    acceptance: Acceptance | None
    rating: Rating | None
    user_names: dict[int, str] = field(default_factory=dict)
    returns: list[OrderReturn] = field(default_factory=list)
    return_window_closes: datetime | None = None
    returnable: dict[int, int] = field(default_factory=dict)  # line id → items not yet returned
    payee: PayeeAccount | None = None  # the account the unit pays into (once there is a contract)
    payee_history: list[PayeeAccountChange] = field(default_factory=list)
    lender_name: str = ""  # the lender that locked the payee account

    @property
    def payee_locked(self) -> bool:
        return self.payee is not None and self.payee.locked

    @property
    def return_open(self) -> bool:
        return any(r.status in OPEN_RETURN_STATUSES for r in self.returns)

    @property
    def document_intact(self) -> bool:
        """Whether the stored contract still has the fingerprint it was made (and signed) with."""
        return self.contract is None or fingerprint(self.contract.html) == self.contract.sha256

    @property
    def payment_in_progress(self) -> bool:
        """A card payment the gateway is still working on (the page polls until it ends)."""
        return any(p.status not in FINAL_STATUSES and p.status != REQUIRES_ACTION
                   for p in self.payments)

    @property
    def verification_pending(self) -> bool:
        """A card payment waiting for the buyer's 3-D Secure check in the browser."""
        return any(p.status == REQUIRES_ACTION for p in self.payments)


def organisation_names(session: Session, ids: set[int] | list[int]) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(session.execute(select(Organisation.id, Organisation.name)
                                .where(Organisation.id.in_(ids))).all())


def user_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def order_record(session: Session, order: Order, *,
                 window_days: int = DEFAULT_WINDOW_DAYS) -> OrderRecord:
    """The contract, notices, payments, acceptance, returns and rating of an order, with names."""
    contract = session.scalar(select(Contract).where(Contract.order_id == order.id))
    names = organisation_names(session, {order.buyer_org_id, order.supplier_id})
    record = OrderRecord(
        buyer_name=names.get(order.buyer_org_id, ""),
        supplier_name=names.get(order.supplier_id, ""),
        budget_line=session.get(BudgetLine, order.budget_line_id),
        contract=contract,
        notices=list(session.scalars(select(Notice).where(_notices_of(order, contract))
                                     .order_by(Notice.id))),
        payments=list(session.scalars(select(Payment).where(Payment.order_id == order.id)
                                      .order_by(Payment.id))),
        acceptance=session.scalar(select(Acceptance).where(Acceptance.order_id == order.id)),
        rating=session.scalar(select(Rating).where(Rating.order_id == order.id)))
    record.returns = returns_of(session, order)
    record.return_window_closes = window_closes(session, order, window_days)
    record.returnable = returnable_quantities(session, order) if record.acceptance else {}
    people = {step.user_id for step in order.steps}
    if contract is not None:
        people |= {contract.supplier_signed_by, contract.buyer_signed_by}
        record.payee = current_payee(session, order)
        record.payee_history = payee_history(session, order.id)
        if record.payee.lender_org_id is not None:
            record.lender_name = organisation_names(
                session, {record.payee.lender_org_id}).get(record.payee.lender_org_id, "")
    record.user_names = user_names(session, people)
    return record


def _notices_of(order: Order, contract: Contract | None) -> ColumnElement[bool]:
    """An order's notices, with its contract's account changes (kept under the contract's
    number: mall.purchasing.contracts.payee)."""
    if contract is None:
        return Notice.order_id == order.id
    return or_(Notice.order_id == order.id, and_(Notice.kind == NoticeKind.ACCOUNT_CHANGE,
                                                 Notice.reference == contract.number))


def order_actions(actor: Actor, order: Order, *, payment_in_progress: bool,
                  verification_pending: bool = False,
                  record: OrderRecord | None = None) -> set[str]:
    """The steps whose forms the order page offers this actor at the order's status.

    Mirrors the checks of mall.purchasing.orders.services and payments so that nobody sees a button
    that can only be refused; the services check again when the form is posted.
    """
    allowed: set[str] = set()
    status = order.status
    if actor.organisation_id == order.buyer_org_id:
        buyer = actor.has_role(*BUYERS)
        if actor.has_role(Role.APPROVER) and status is S.PENDING_APPROVAL:
            allowed |= {"approve", "return"}
        if buyer and status in (S.PENDING_APPROVAL, S.SENT):
            allowed.add("cancel")
        if buyer and status is S.SUPPLIER_SIGNED:
            allowed.add("sign")
        if buyer and status is S.SHIPPED:
            allowed.add("receive")
        if buyer and status is S.DELIVERED:
            allowed.add("accept")
        # Payment follows the invoice, one attempt at a time: a waiting 3-D Secure check is
        # finished or cancelled first (the page shows it instead of another card form).
        payable = (status is S.INVOICED and order.amount_due_fen > 0
                   and not payment_in_progress and not verification_pending)
        payer = actor.has_role(*UNIT_STAFF)
        locked = record is not None and record.payee_locked  # a lender's account: treasury only
        if payable and payer and not locked:
            allowed.add("pay-card")
        if payable and actor.has_role(Role.FINANCE):
            allowed.add("pay-treasury")
        if verification_pending and payer:
            allowed.add("cancel-card-check")
        if buyer and record is not None and _may_ask_return(order, record):
            allowed.add("return-request")
        if buyer and status is S.PAID:
            allowed.add("rate")
    elif actor.organisation_id == order.supplier_id and actor.has_role(*SUPPLIER_STAFF):
        if status is S.SENT:
            allowed |= {"confirm", "decline"}
        if status is S.CONFIRMED and actor.has_role(Role.SUPPLIER_ADMIN):
            allowed.add("sign")
        if status is S.SIGNED:
            allowed.add("ship")
        if status is S.ACCEPTED or (status is S.PAID and not order.invoice_number):
            allowed.add("invoice")  # after a card payment on acceptance the invoice follows
    return allowed


def _may_ask_return(order: Order, record: OrderRecord) -> bool:
    return (order.status in RETURNABLE and record.return_window_closes is not None
            and now() <= record.return_window_closes and not record.return_open
            and any(record.returnable.values()))


def return_actions(actor: Actor, order: Order, ret: OrderReturn, record: OrderRecord) -> set[str]:
    """The steps of one return the order page offers this actor (mall.purchasing.orders.returns
    checks them again when posted)."""
    allowed: set[str] = set()
    buyer = actor.organisation_id == order.buyer_org_id
    supplier = actor.organisation_id == order.supplier_id and actor.has_role(*SUPPLIER_STAFF)
    buying = buyer and actor.has_role(*BUYERS)
    if ret.status is ReturnStatus.REQUESTED and supplier:
        allowed |= {"return-agree", "return-refuse"}
    if ret.status is ReturnStatus.REFUSED and buying and not record.return_open:
        allowed.add("return-dispute")
    if ret.status is ReturnStatus.DISPUTED and actor.organisation_kind is \
            OrganisationKind.OPERATOR and actor.has_role(Role.OPERATOR):
        allowed.add("return-decide")
    if ret.status is ReturnStatus.AGREED and buying:
        allowed.add("return-ship")
    if ret.status is ReturnStatus.SHIPPED and supplier and not record.payment_in_progress \
            and not record.verification_pending:
        allowed.add("return-receive")
    if ret.status is ReturnStatus.RECEIVED and ret.refund_method == "card" and supplier:
        allowed.add("return-refund-card")
    if ret.status is ReturnStatus.RECEIVED and ret.refund_method == "treasury" and buyer \
            and actor.has_role(Role.FINANCE):
        allowed.add("return-refund-treasury")
    return allowed


def count_orders(session: Session, actor: Actor, *, status: str | None = None) -> int:
    """How many orders ``mall.purchasing.orders.steps.list_orders`` would page through."""
    query = select(func.count()).select_from(Order)
    if actor.organisation_kind is OrganisationKind.SUPPLIER:
        query = query.where(Order.supplier_id == actor.organisation_id)
    elif actor.organisation_kind is OrganisationKind.PURCHASING_UNIT:
        query = query.where(Order.buyer_org_id == actor.organisation_id)
    elif not actor.is_oversight:
        return 0
    if status:
        query = query.where(Order.status == status)
    return session.scalar(query) or 0


def supplier_ratings(session: Session, supplier_ids: list[int]) -> dict[int, RatingSummary]:
    """Each supplier's average rating and number of ratings (suppliers never rated are left out)."""
    ids = set(supplier_ids)
    if not ids:
        return {}
    score = Rating.quality + Rating.delivery + Rating.service
    rows = session.execute(select(Rating.supplier_id, func.avg(score), func.count())
                           .where(Rating.supplier_id.in_(ids)).group_by(Rating.supplier_id)).all()
    return {supplier_id: RatingSummary(round(float(total) / 3, 1), count)
            for supplier_id, total, count in rows}


def approval_threshold(session: Session, organisation_id: int) -> int | None:
    """The amount above which the unit's orders wait for its approver (None: never)."""
    settings = session.get(UnitSettings, organisation_id)
    return settings.approval_above_fen if settings else None
