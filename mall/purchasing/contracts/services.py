"""The paper an order is concluded with: its contract, generated at confirmation and signed
by the supplier, then the buyer (each signature records the SHA-256 of the document it
saw), or, for a small order without centrally procured items, its settlement order
(结算单), which nobody signs and which makes the order ready to ship at once."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from catalog.models import Category
from mall.accounts.models import Organisation
from mall.core.auth import BUYERS, Actor, Role
from mall.core.clock import now
from mall.core.errors import MallError, NotFound, ValidationFailed
from mall.i18n_messages import N_
from mall.purchasing.budget import services as budget
from mall.purchasing.contracts.document import (
    ContractDocument,
    ContractItem,
    ContractParty,
    PayeeAccount,
    fingerprint,
    render_html,
    render_settlement_html,
)
from mall.purchasing.contracts.models import Contract, NoticeKind
from mall.purchasing.contracts.notices import record_notice
from mall.purchasing.contracts.payee import record_initial
from mall.purchasing.contracts.schemas import SignSchema
from mall.purchasing.orders.models import Order, Paperwork
from mall.purchasing.orders.notifications import notify
from mall.purchasing.orders.steps import (
    PAYMENT_DAYS,
    Moved,
    Party,
    S,
    as_buyer,
    expect,
    get_order,
    record_step,
    step,
    transition,
)
from suppliers.models import SupplierProfile


class NoContractToSign(MallError):
    """A settlement order (结算单) replaced the contract: there is nothing to sign."""

    code = "no_contract_to_sign"
    status = 409
    title = "The order has no contract to sign"


def contract_document(session: Session, order: Order, number: str) -> ContractDocument:
    buyer = session.get_one(Organisation, order.buyer_org_id)
    supplier = session.get_one(Organisation, order.supplier_id)
    profile = session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == order.supplier_id))
    names = dict(session.execute(select(Category.code, Category.name).where(
        Category.code.in_({ln.category_code for ln in order.lines}))).all())
    line = session.get_one(budget.BudgetLine, order.budget_line_id)
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
        supplier_is_sme=sme, sme_size=profile.size.value if profile and profile.is_sme else None,
        secret=order.secret,
        budget_project=f"{line.project_code} {line.project_name}", created_at=now())


def create_contract(session: Session, order: Order) -> Contract:
    """Make the order's contract; its payee account starts the account history."""
    number = "HT" + order.number[2:]
    document = contract_document(session, order, number)
    html = render_html(document)
    contract = Contract(order_id=order.id, number=number, html=html, sha256=fingerprint(html))
    session.add(contract)
    record_initial(session, order, document.payee)
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

def paperwork_for(session: Session, order: Order) -> Paperwork:
    """A settlement order when no line is a centrally procured item and the confirmed total is
    within the buyer's regional threshold; a contract otherwise."""
    if order.total_fen > budget.settlement_threshold(session, order.buyer_org_id):
        return Paperwork.CONTRACT
    central = session.scalar(select(exists().where(
        Category.code.in_({ln.category_code for ln in order.lines}),
        Category.centrally_procured.is_(True))))
    return Paperwork.CONTRACT if central else Paperwork.SETTLEMENT


def issue_settlement(session: Session, order: Order, actor: Actor) -> Contract:
    """Make the settlement order, commit the budget as a signature would, and move the order
    on to signed (ready to ship); its fingerprint goes into the audit trail."""
    number = "JS" + order.number[2:]
    terms = contract_document(session, order, number)
    html = render_settlement_html(terms)
    document = Contract(order_id=order.id, number=number, html=html, sha256=fingerprint(html))
    session.add(document)
    record_initial(session, order, terms.payee, actor)
    session.flush()
    budget.move(session, order.budget_line_id, order.total_fen, "reserved", "committed")
    order.budget_state = "committed"
    record_step(session, order, actor, S.SIGNED, note=number,
          data={"paperwork": Paperwork.SETTLEMENT.value, "document_number": number,
                "sha256": document.sha256})
    notify(session, order.buyer_org_id, order, "settlement_issued", document=number)
    notify(session, order.supplier_id, order, "settlement_to_ship", document=number)
    return document


# -- signing guards -----------------------------------------------------------------------

SigningGuard = Callable[[Session, Order], None]
# Checks every signature waits for; a guard refuses by raising a MallError with the reason
# (bidding_rounds: a pending challenge that may change the award).
SIGNING_GUARDS: list[SigningGuard] = []


def guard_signing(guard: SigningGuard) -> SigningGuard:
    """Register a check that runs before either party signs an order's contract."""
    SIGNING_GUARDS.append(guard)
    return guard


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


@step("sign", party=Party.PARTY, roles=(*BUYERS, Role.SUPPLIER_ADMIN), schema=SignSchema)
def _sign(session: Session, actor: Actor, order: Order, data: dict, **_context) -> Moved:
    """Sign the contract as read (its fingerprint): the supplier's authorised signatory first,
    then the purchasing unit (no_contract_to_sign for a settlement order). Signed by both,
    the reserved budget is committed and the contract notice is published. Every registered
    signing guard may refuse first (a pending challenge of a bidding round's award)."""
    _refuse_settlement(order)
    for guard in SIGNING_GUARDS:
        guard(session, order)
    sha256 = data.get("sha256")
    if actor.organisation_id == order.supplier_id:
        expect(order, S.CONFIRMED)
        actor.require_role(Role.SUPPLIER_ADMIN)  # an authorised signatory
        contract = get_contract(session, actor, order.id)
        contract.supplier_signed_sha256 = _signable(contract, sha256)
        contract.supplier_signed_at, contract.supplier_signed_by = now(), actor.user_id
        return Moved(S.SUPPLIER_SIGNED, data={"sha256": contract.supplier_signed_sha256},
                     tell=((order.buyer_org_id, "contract_to_sign", {}),))
    as_buyer(actor, order)
    expect(order, S.SUPPLIER_SIGNED)
    contract = get_contract(session, actor, order.id)
    signed = _signable(contract, sha256)
    if signed != contract.supplier_signed_sha256:
        raise MallError("The supplier signed another version of this contract.",
                        code="contract_tampered")
    contract.buyer_signed_sha256 = signed
    contract.buyer_signed_at, contract.buyer_signed_by = now(), actor.user_id
    budget.move(session, order.budget_line_id, order.total_fen, "reserved", "committed")
    order.budget_state = "committed"
    record_notice(session, order, NoticeKind.CONTRACT)
    return Moved(S.SIGNED, data={"sha256": signed}, tell=((order.supplier_id, "contract_signed", {}),))


def sign(session: Session, actor: Actor, order_id: int, sha256: str | None = None) -> Order:
    """Sign the order's contract as whichever party the actor is."""
    return transition(session, actor, order_id, "sign", {"sha256": sha256})



def verify_signatures(session: Session, actor: Actor, order_id: int) -> dict[str, bool]:
    """Whether the stored document still matches what each party signed."""
    _refuse_settlement(get_order(session, actor, order_id))
    contract = get_contract(session, actor, order_id)
    current = fingerprint(contract.html)
    return {"supplier": contract.supplier_signed_sha256 == current,
            "buyer": contract.buyer_signed_sha256 == current}
