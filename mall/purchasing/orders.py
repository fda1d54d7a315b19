"""The order lifecycle: each transition is a service function that checks who acts, moves
stock and budget, records the step on the order's timeline and in the audit trail, and
tells the other party (DOMAIN.md: Direct-purchase flow, Lifecycle deadlines).

    pending_approval → sent → confirmed → supplier_signed → signed → shipped → delivered
      → accepted → invoiced → paid → rated;  cancelled / returned release what was held.

A small order without centrally procured items is settled by a settlement order (结算单)
instead of a contract: at confirmation it goes straight from confirmed to signed.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from catalog.models import Category
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import format_local, local_today, now, working_day_deadline
from mall.core.errors import MallError, NotFound, PermissionDenied, ValidationFailed
from mall.core.money import format_fen
from mall.i18n_messages import N_
from mall.purchasing import budget
from mall.purchasing.checkout import CONFIRM_HOURS, restock
from mall.purchasing.contract_document import (
    ContractDocument,
    ContractItem,
    ContractParty,
    PayeeAccount,
    fingerprint,
    render_html,
    render_settlement_html,
)
from mall.purchasing.models import (
    Acceptance,
    AcceptanceResult,
    Contract,
    Notice,
    NoticeKind,
    Order,
    OrderStatus,
    OrderStep,
    Paperwork,
    Rating,
)
from mall.purchasing.notifications import notify
from suppliers.models import SupplierProfile

S = OrderStatus
PAYMENT_DAYS = 30  # 财库〔2019〕38号: pay within 30 days of the invoice
NOTICE_WORKING_DAYS = 2
RAISE_REFUSED = N_("A confirmed price may be lowered, never raised.")
BUYER_ROLES = (Role.BUYER, Role.APPROVER)
SUPPLIER_ROLES = (Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR)
PAYER_ROLES = (Role.FINANCE, Role.BUYER, Role.APPROVER)


class WrongState(MallError):
    code = "order_state_conflict"
    status = 409
    title = "The order is not at this step"


class NoContractToSign(MallError):
    """A settlement order (结算单) replaced the contract: there is nothing to sign."""

    code = "no_contract_to_sign"
    status = 409
    title = "The order has no contract to sign"


# -- who may see and act ------------------------------------------------------------------

def get_order(session: Session, actor: Actor, order_id: int, *, lock: bool = False) -> Order:
    """An order its buyer unit, its supplier or oversight may see; others get 404.

    ``lock`` (every transition) takes the order's row lock and re-reads it, so that two
    steps on one order (a cancel and a confirmation, the 72-hour job and the supplier)
    run one after the other and the second sees the first's status.
    """
    order = (session.get(Order, order_id, with_for_update=True, populate_existing=True)
             if lock else session.get(Order, order_id))
    if order is None or not (actor.organisation_id in (order.buyer_org_id, order.supplier_id)
                             or actor.is_oversight):
        raise NotFound()
    return order


def get_by_number(session: Session, actor: Actor, number: str) -> Order:
    order = session.scalar(select(Order).where(Order.number == number))
    if order is None:
        raise NotFound()
    return get_order(session, actor, order.id)


def list_orders(session: Session, actor: Actor, *, status: str | None = None,
                limit: int = 50, offset: int = 0) -> list[Order]:
    query = select(Order)
    if actor.organisation_kind is OrganisationKind.SUPPLIER:
        query = query.where(Order.supplier_id == actor.organisation_id)
    elif actor.organisation_kind is OrganisationKind.PURCHASING_UNIT:
        query = query.where(Order.buyer_org_id == actor.organisation_id)
    elif not actor.is_oversight:
        return []
    if status:
        query = query.where(Order.status == status)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit).offset(offset)))


def _as_buyer(actor: Actor, order: Order, roles=BUYER_ROLES) -> None:
    if actor.organisation_id != order.buyer_org_id:
        if actor.organisation_id == order.supplier_id or actor.is_oversight:
            raise PermissionDenied("Only the purchasing unit does this.", code="buyer_required")
        raise NotFound()
    actor.require_role(*roles)


def _as_supplier(actor: Actor, order: Order) -> None:
    if actor.organisation_id != order.supplier_id:
        if actor.organisation_id == order.buyer_org_id or actor.is_oversight:
            raise PermissionDenied("Only the supplier does this.", code="supplier_required")
        raise NotFound()
    actor.require_role(*SUPPLIER_ROLES)


def _expect(order: Order, *states: OrderStatus) -> None:
    if order.status not in states:
        raise WrongState(f"Order {order.number} is {order.status.value}; this step needs "
                         f"{' or '.join(s.value for s in states)}.")


def _step(session: Session, order: Order, actor: Actor | None, status: OrderStatus, *,
          note: str | None = None, deadline=None, data: dict | None = None) -> None:
    order.status = status
    order.steps.append(OrderStep(status=status.value, at=now(), note=note, deadline=deadline,
                                 user_id=actor.user_id if actor else None))
    session.flush()
    record_event(session, action=f"order.{status.value}", object_type="order", object_id=order.id,
                 actor=actor, data={"number": order.number, "note": note, **(data or {})})


# -- approval -----------------------------------------------------------------------------

def set_approval_threshold(session: Session, actor: Actor, amount_fen: int | None) -> None:
    """A unit's approver sets the amount above which orders need internal approval."""
    from mall.purchasing.models import UnitSettings

    actor.require_role(Role.APPROVER)
    if actor.organisation_kind is not OrganisationKind.PURCHASING_UNIT:
        raise PermissionDenied(code="buyer_required")
    if amount_fen is not None and amount_fen < 0:
        raise ValidationFailed(errors={"approval_above_fen": ["Enter zero or more."]})
    settings = session.get(UnitSettings, actor.organisation_id)
    if settings is None:
        settings = UnitSettings(organisation_id=actor.organisation_id)
        session.add(settings)
    settings.approval_above_fen = amount_fen
    session.flush()
    record_event(session, action="unit_settings.approval", object_type="organisation",
                 object_id=actor.organisation_id, actor=actor, data={"approval_above_fen": amount_fen})


def approve(session: Session, actor: Actor, order_id: int) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    _as_buyer(actor, order, (Role.APPROVER,))
    _expect(order, S.PENDING_APPROVAL)
    if actor.user_id == order.buyer_user_id:
        raise PermissionDenied(N_("Another approver of the unit must approve your own order."),
                               code="own_order_approval")
    order.steps.append(OrderStep(status="approved", at=now(), user_id=actor.user_id))
    order.confirm_by = now() + timedelta(hours=CONFIRM_HOURS)
    _step(session, order, actor, S.SENT, deadline=order.confirm_by)
    notify(session, order.supplier_id, order, "order_received")
    notify(session, order.buyer_org_id, order, "order_approved")
    return order


def return_to_buyer(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    """The approver refuses: the order is cancelled and everything it held is released."""
    order = get_order(session, actor, order_id, lock=True)
    _as_buyer(actor, order, (Role.APPROVER,))
    _expect(order, S.PENDING_APPROVAL)
    _require_reason(reason)
    _release(session, order)
    order.cancel_reason = reason
    _step(session, order, actor, S.CANCELLED, note=f"returned by approver: {reason}")
    notify(session, order.buyer_org_id, order, "order_returned", reason=reason)
    return order


# -- supplier confirmation and contract ---------------------------------------------------

def confirm(session: Session, actor: Actor, order_id: int,
            prices: dict[int, int] | None = None) -> Order:
    """The supplier confirms, optionally lowering line prices (never raising them). A small
    order without centrally procured items is then settled by a settlement order, ready to
    ship; any other gets its contract to sign."""
    order = get_order(session, actor, order_id, lock=True)
    _as_supplier(actor, order)
    _expect(order, S.SENT)
    if order.confirm_by is not None and order.confirm_by <= now():
        raise WrongState(N_("The 72 hours to confirm this order have passed; it is being cancelled."),
                         code="confirmation_deadline_passed")
    prices = prices or {}
    lines = {line.id: line for line in order.lines}
    errors = {}
    for line_id, price in prices.items():
        line = lines.get(int(line_id))
        if line is None:
            errors[f"prices.{line_id}"] = [N_("No such line on this order.")]
        elif not isinstance(price, int) or price <= 0:
            errors[f"prices.{line_id}"] = [N_("Enter a price in fen above zero.")]
        elif price > line.unit_price_fen:
            errors[f"prices.{line_id}"] = [RAISE_REFUSED]
    if errors:
        raised = any(m == [RAISE_REFUSED] for m in errors.values())
        raise ValidationFailed(RAISE_REFUSED if raised else "",
                               errors=errors, code="price_raise_refused" if raised else None)
    savings: dict[str, int] = {}
    for line_id, price in prices.items():
        line = lines[int(line_id)]
        saving = (line.unit_price_fen - price) * line.quantity
        savings[line.category_code] = savings.get(line.category_code, 0) + saving
        line.unit_price_fen = price
    before = order.total_fen
    order.total_fen = sum(line.amount_fen for line in order.lines)
    saved = before - order.total_fen
    if saved:  # the lower price frees budget and room under the limit
        budget.move(session, order.budget_line_id, saved, "reserved", "released")
        budget.remove_from_running_totals(session, order.buyer_org_id, order.fiscal_year, savings)
    order.confirm_by = None
    _step(session, order, actor, S.CONFIRMED, data={"total_fen": order.total_fen, "saved_fen": saved})
    order.paperwork = _paperwork_for(session, order)
    _add_notice(session, order, NoticeKind.RESULT)
    if order.paperwork is Paperwork.SETTLEMENT:
        _issue_settlement(session, order, actor)
    else:
        _create_contract(session, order)
        notify(session, order.buyer_org_id, order, "order_confirmed")
    return order


def decline(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    _as_supplier(actor, order)
    _expect(order, S.SENT)
    _require_reason(reason)
    return _cancel(session, order, actor, f"declined by supplier: {reason}")


def cancel(session: Session, actor: Actor, order_id: int, reason: str) -> Order:
    """The buyer withdraws an order the supplier has not confirmed yet."""
    order = get_order(session, actor, order_id, lock=True)
    _as_buyer(actor, order)
    _expect(order, S.PENDING_APPROVAL, S.SENT)
    _require_reason(reason)
    return _cancel(session, order, actor, reason)


def _cancel(session: Session, order: Order, actor: Actor | None, reason: str) -> Order:
    _release(session, order)
    order.cancel_reason = reason
    order.confirm_by = None
    _step(session, order, actor, S.CANCELLED, note=reason)
    for organisation_id in (order.buyer_org_id, order.supplier_id):
        notify(session, organisation_id, order, "order_cancelled", reason=reason)
    return order


def _release(session: Session, order: Order, lines: list[tuple[int, int]] | None = None,
             amount_fen: int | None = None) -> None:
    """Give back stock, budget and running total: of the whole order, or of the given
    (offer id, quantity) pairs, valued at the order's line prices."""
    whole = lines is None
    if whole:
        lines = [(ln.offer_id, ln.quantity) for ln in order.lines]
    by_offer = {ln.offer_id: ln for ln in order.lines}
    by_category: dict[str, int] = {}
    for offer_id, quantity in lines:
        line = by_offer[offer_id]
        by_category[line.category_code] = (by_category.get(line.category_code, 0)
                                           + quantity * line.unit_price_fen)
    amount = sum(by_category.values())
    if amount_fen is not None and amount_fen != amount:
        raise ValueError(f"release of {amount_fen} fen does not match the lines ({amount})")
    restock(session, lines)
    if order.budget_state in ("reserved", "committed", "spent") and amount:
        budget.move(session, order.budget_line_id, amount, order.budget_state, "released")
    if amount:
        budget.remove_from_running_totals(session, order.buyer_org_id, order.fiscal_year,
                                          by_category)
    if whole:
        order.budget_state = "released"


def contract_document(session: Session, order: Order, number: str) -> ContractDocument:
    buyer = session.get(Organisation, order.buyer_org_id)
    supplier = session.get(Organisation, order.supplier_id)
    profile = session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == order.supplier_id))
    names = dict(session.execute(select(Category.code, Category.name).where(
        Category.code.in_({ln.category_code for ln in order.lines}))).all())
    line = session.get(budget.BudgetLine, order.budget_line_id)
    sme = bool(profile and profile.is_sme)
    return ContractDocument(
        number=number, order_number=order.number,
        buyer=ContractParty(buyer.name, buyer.credit_code or "", buyer.region_name or "",
                            order.contact),
        supplier=ContractParty(supplier.name, supplier.credit_code or "", "",
                               profile.contact_name if profile else "",
                               profile.contact_phone if profile else ""),
        items=tuple(ContractItem(ln.title, ln.category_code, names.get(ln.category_code, ""),
                                 ln.brand, ln.model, ln.unit, ln.quantity, ln.unit_price_fen)
                    for ln in order.lines),
        delivery_address=order.delivery_address, delivery_days=order.delivery_days,
        payment_terms=(f"验收合格并收到发票后{PAYMENT_DAYS}日内支付（国库集中支付或公务卡）"),
        payee=PayeeAccount(profile.bank_name if profile else "", supplier.name,
                           profile.bank_account if profile else ""),
        supplier_is_sme=sme, sme_size=profile.size.value if sme else None, secret=order.secret,
        budget_project=f"{line.project_code} {line.project_name}", created_at=now())


def _create_contract(session: Session, order: Order) -> Contract:
    number = "HT" + order.number[2:]
    html = render_html(contract_document(session, order, number))
    contract = Contract(order_id=order.id, number=number, html=html, sha256=fingerprint(html))
    session.add(contract)
    session.flush()
    return contract


def get_contract(session: Session, actor: Actor, order_id: int) -> Contract:
    """The order's document: its contract, or the settlement order that replaced it."""
    order = get_order(session, actor, order_id)
    contract = session.scalar(select(Contract).where(Contract.order_id == order.id))
    if contract is None:
        raise NotFound("The contract is made when the supplier confirms the order.")
    return contract


# -- settlement orders (结算单) -------------------------------------------------------------

def _paperwork_for(session: Session, order: Order) -> Paperwork:
    """A settlement order when no line is a centrally procured item and the confirmed total is
    within the buyer's regional threshold; a contract otherwise."""
    if order.total_fen > budget.settlement_threshold(session, order.buyer_org_id):
        return Paperwork.CONTRACT
    central = session.scalar(select(exists().where(
        Category.code.in_({ln.category_code for ln in order.lines}),
        Category.centrally_procured.is_(True))))
    return Paperwork.CONTRACT if central else Paperwork.SETTLEMENT


def _issue_settlement(session: Session, order: Order, actor: Actor) -> Contract:
    """Make the settlement order, commit the budget as a signature would, and move the order
    on to signed (ready to ship); its fingerprint goes into the audit trail."""
    number = "JS" + order.number[2:]
    html = render_settlement_html(contract_document(session, order, number))
    document = Contract(order_id=order.id, number=number, html=html, sha256=fingerprint(html))
    session.add(document)
    session.flush()
    budget.move(session, order.budget_line_id, order.total_fen, "reserved", "committed")
    order.budget_state = "committed"
    _step(session, order, actor, S.SIGNED, note=number,
          data={"paperwork": Paperwork.SETTLEMENT.value, "document_number": number,
                "sha256": document.sha256})
    notify(session, order.buyer_org_id, order, "settlement_issued", document=number)
    notify(session, order.supplier_id, order, "settlement_to_ship", document=number)
    return document


def _refuse_settlement(order: Order) -> None:
    if order.paperwork is Paperwork.SETTLEMENT:
        raise NoContractToSign(N_("Order %(number)s is settled by a settlement order; "
                                  "there is no contract to sign."), params={"number": order.number})


def _signable(contract: Contract, presented_sha256: str | None) -> str:
    """The fingerprint a signature records; the document must still match it."""
    current = fingerprint(contract.html)
    if current != contract.sha256:
        raise MallError("The contract document was changed after it was made.",
                        code="contract_tampered")
    if presented_sha256 and presented_sha256 != current:
        raise ValidationFailed("The contract you read is not the current one; reload it.",
                               code="contract_changed")
    return current


def sign_as_supplier(session: Session, actor: Actor, order_id: int,
                     sha256: str | None = None) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    _as_supplier(actor, order)
    _refuse_settlement(order)
    _expect(order, S.CONFIRMED)
    actor.require_role(Role.SUPPLIER_ADMIN)  # an authorised signatory
    contract = get_contract(session, actor, order_id)
    contract.supplier_signed_sha256 = _signable(contract, sha256)
    contract.supplier_signed_at, contract.supplier_signed_by = now(), actor.user_id
    _step(session, order, actor, S.SUPPLIER_SIGNED, data={"sha256": contract.supplier_signed_sha256})
    notify(session, order.buyer_org_id, order, "contract_to_sign")
    return order


def sign_as_buyer(session: Session, actor: Actor, order_id: int, sha256: str | None = None) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    _as_buyer(actor, order)
    _refuse_settlement(order)
    _expect(order, S.SUPPLIER_SIGNED)
    contract = get_contract(session, actor, order_id)
    signed = _signable(contract, sha256)
    if signed != contract.supplier_signed_sha256:
        raise MallError("The supplier signed another version of this contract.",
                        code="contract_tampered")
    contract.buyer_signed_sha256 = signed
    contract.buyer_signed_at, contract.buyer_signed_by = now(), actor.user_id
    budget.move(session, order.budget_line_id, order.total_fen, "reserved", "committed")
    order.budget_state = "committed"
    _step(session, order, actor, S.SIGNED, data={"sha256": signed})
    _add_notice(session, order, NoticeKind.CONTRACT)
    notify(session, order.supplier_id, order, "contract_signed")
    return order


def verify_signatures(session: Session, actor: Actor, order_id: int) -> dict[str, bool]:
    """Whether the stored document still matches what each party signed."""
    _refuse_settlement(get_order(session, actor, order_id))
    contract = get_contract(session, actor, order_id)
    current = fingerprint(contract.html)
    return {"supplier": contract.supplier_signed_sha256 == current,
            "buyer": contract.buyer_signed_sha256 == current}


# -- notices ------------------------------------------------------------------------------

def _add_notice(session: Session, order: Order, kind: NoticeKind) -> None:
    if kind is NoticeKind.CONTRACT and order.paperwork is Paperwork.SETTLEMENT:
        raise ValueError(f"order {order.number} has a settlement order, no contract to publish")
    buyer = session.get(Organisation, order.buyer_org_id)
    supplier = session.get(Organisation, order.supplier_id)
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
        contract = session.scalar(select(Contract).where(Contract.order_id == order.id))
        body["contract_number"] = contract.number
        body["signed_on"] = local_today().isoformat()
    session.add(Notice(
        order_id=order.id, kind=kind, title=title, buyer_name=buyer.name,
        supplier_name=supplier.name, amount_fen=order.total_fen, body=body,
        category_codes=" ".join(sorted({ln.category_code for ln in order.lines})),
        withheld=order.secret, created_at=moment,  # secret: neither notice is published
        due_by=working_day_deadline(moment, NOTICE_WORKING_DAYS)))


# -- delivery, acceptance, invoice ----------------------------------------------------------

def ship(session: Session, actor: Actor, order_id: int, *, carrier: str, tracking_number: str) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    _as_supplier(actor, order)
    _expect(order, S.SIGNED)
    errors = {}
    if not carrier.strip():
        errors["carrier"] = ["Enter the carrier."]
    if not tracking_number.strip():
        errors["tracking_number"] = ["Enter the tracking number."]
    if errors:
        raise ValidationFailed(errors=errors)
    order.carrier, order.tracking_number = carrier.strip(), tracking_number.strip()
    _step(session, order, actor, S.SHIPPED, note=f"{order.carrier} {order.tracking_number}")
    notify(session, order.buyer_org_id, order, "order_shipped", carrier=order.carrier,
           tracking=order.tracking_number)
    return order


def receive(session: Session, actor: Actor, order_id: int) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    _as_buyer(actor, order)
    _expect(order, S.SHIPPED)
    _step(session, order, actor, S.DELIVERED)
    notify(session, order.supplier_id, order, "order_delivered")
    return order


def accept(session: Session, actor: Actor, order_id: int, *, result: str,
           quantities: dict[int, int] | None = None, reasons: str = "",
           accepted_on: date | None = None) -> Order:
    """The acceptance record (验收书): pass, partial with accepted quantities, or reject."""
    order = get_order(session, actor, order_id, lock=True)
    _as_buyer(actor, order)
    _expect(order, S.DELIVERED)
    try:
        outcome = AcceptanceResult(result)
    except ValueError:
        raise ValidationFailed(errors={"result": ["Choose pass, partial or reject."]}) from None
    quantities = {int(k): v for k, v in (quantities or {}).items()}
    errors = {}
    accepted = {}
    for line in order.lines:
        if outcome is AcceptanceResult.PASS:
            accepted[line.id] = line.quantity
        elif outcome is AcceptanceResult.REJECT:
            accepted[line.id] = 0
        else:
            value = quantities.get(line.id, line.quantity)
            if not isinstance(value, int) or not 0 <= value <= line.quantity:
                errors[f"quantities.{line.id}"] = [N_("Enter 0 up to the quantity ordered.")]
            accepted[line.id] = value
    if outcome is not AcceptanceResult.PASS and not reasons.strip():
        errors["reasons"] = ["Say why the goods were not accepted in full."]
    if outcome is AcceptanceResult.PARTIAL and all(
            accepted[ln.id] == ln.quantity for ln in order.lines):
        errors["quantities"] = ["A partial acceptance keeps back at least one item."]
    if outcome is AcceptanceResult.PARTIAL and not errors and not any(accepted.values()):
        outcome = AcceptanceResult.REJECT  # nothing accepted: the goods all go back
    if errors:
        raise ValidationFailed(errors=errors)
    for line in order.lines:
        line.accepted_quantity = accepted[line.id]
    order.accepted_fen = sum(ln.unit_price_fen * accepted[ln.id] for ln in order.lines)
    session.add(Acceptance(
        order_id=order.id, result=outcome, reasons=reasons.strip() or None,
        accepted_on=accepted_on or local_today(), user_id=actor.user_id, created_at=now(),
        lines=[{"line_id": ln.id, "title": ln.title, "ordered": ln.quantity,
                "accepted": accepted[ln.id]} for ln in order.lines]))
    kept_back = order.total_fen - order.accepted_fen
    if kept_back:  # goods sent back: stock and the unspent budget return
        _release(session, order, lines=[(ln.offer_id, ln.quantity - accepted[ln.id])
                                        for ln in order.lines], amount_fen=kept_back)
    if outcome is AcceptanceResult.REJECT:
        order.budget_state = "released"
        _step(session, order, actor, S.RETURNED, note=reasons.strip(), data={"result": outcome.value})
        notify(session, order.supplier_id, order, "order_returned_goods", reason=reasons.strip())
        return order
    _step(session, order, actor, S.ACCEPTED, note=reasons.strip() or None,
          data={"result": outcome.value, "accepted_fen": order.accepted_fen})
    notify(session, order.supplier_id, order, "order_accepted", result=outcome.value)
    return order


def invoice(session: Session, actor: Actor, order_id: int, *, invoice_number: str) -> Order:
    order = get_order(session, actor, order_id, lock=True)
    _as_supplier(actor, order)
    _expect(order, S.ACCEPTED, S.PAID)
    if not invoice_number.strip():
        raise ValidationFailed(errors={"invoice_number": ["Enter the e-invoice number."]})
    order.invoice_number = invoice_number.strip()
    if order.status is S.PAID:  # paid by card on acceptance: the invoice follows
        if order.invoiced_at is not None:
            raise WrongState(N_("This order is invoiced already."), code="already_invoiced")
        order.invoiced_at = now()
        order.steps.append(OrderStep(status=S.INVOICED.value, at=order.invoiced_at,
                                     user_id=actor.user_id, note=order.invoice_number))
        record_event(session, action="order.invoice_recorded", object_type="order",
                     object_id=order.id, actor=actor, data={"invoice": order.invoice_number})
        return order
    order.invoiced_at = now()
    order.pay_by = order.invoiced_at + timedelta(days=PAYMENT_DAYS)
    _step(session, order, actor, S.INVOICED, deadline=order.pay_by, note=order.invoice_number)
    notify(session, order.buyer_org_id, order, "order_invoiced", invoice=order.invoice_number,
           pay_by=format_local(order.pay_by))
    return order


def mark_paid(session: Session, order: Order, actor: Actor | None, *, amount_fen: int,
              note: str) -> None:
    """Record money received for an order (a payment service calls this once it succeeded).

    Money that arrives for an order not waiting for it (returned, cancelled, already paid:
    a late card success) is still recorded, so the overpayment shows, and the unit and the
    supplier are told to settle the refund.
    """
    session.refresh(order, with_for_update=True)
    if order.status not in (S.ACCEPTED, S.INVOICED) or order.amount_due_fen < amount_fen:
        session.execute(update(Order).where(Order.id == order.id)
                        .values(paid_fen=Order.paid_fen + amount_fen)
                        .execution_options(synchronize_session=False))
        record_event(session, action="payment.unexpected", object_type="order", object_id=order.id,
                     actor=actor, data={"amount_fen": amount_fen, "status": order.status.value,
                                        "note": note})
        for organisation_id in (order.buyer_org_id, order.supplier_id):
            notify(session, organisation_id, order, "payment_unexpected",
                   amount=format_fen(amount_fen))
        return
    session.execute(update(Order).where(Order.id == order.id)
                    .values(paid_fen=Order.paid_fen + amount_fen)
                    .execution_options(synchronize_session=False))
    session.refresh(order, ["paid_fen"])
    if order.status in (S.ACCEPTED, S.INVOICED) and order.amount_due_fen <= 0:
        budget.move(session, order.budget_line_id, order.accepted_fen or order.total_fen,
                    "committed", "spent")
        order.budget_state = "spent"
        _step(session, order, actor, S.PAID, note=note, data={"paid_fen": order.paid_fen})
        notify(session, order.supplier_id, order, "order_paid")


def rate(session: Session, actor: Actor, order_id: int, *, quality: int, delivery: int,
         service: int, comment: str = "") -> Rating:
    order = get_order(session, actor, order_id, lock=True)
    _as_buyer(actor, order)
    _expect(order, S.PAID)
    errors = {name: ["Give 1 to 5 stars."] for name, value in
              (("quality", quality), ("delivery", delivery), ("service", service))
              if not isinstance(value, int) or not 1 <= value <= 5}
    if errors:
        raise ValidationFailed(errors=errors)
    rating = Rating(order_id=order.id, supplier_id=order.supplier_id, quality=quality,
                    delivery=delivery, service=service, comment=comment.strip() or None,
                    user_id=actor.user_id, created_at=now())
    session.add(rating)
    _step(session, order, actor, S.RATED, data={"quality": quality, "delivery": delivery,
                                                "service": service})
    notify(session, order.supplier_id, order, "order_rated")
    return rating


def _require_reason(reason: str) -> None:
    if not (reason or "").strip():
        raise ValidationFailed(errors={"reason": ["Give a reason."]})
