"""Demo contract financing (政采贷): two banks with their products, suppliers' consents, loans
in every state and a webhook endpoint, all made through the financing services so that each
side can be tried at once.

- ``bank`` (潇湘农村商业银行, already in the demo) and ``bank2`` (a second finance partner,
  made here), each with two products;
- ``supplier1`` lets ``bank`` read all its contracts for a year; ``supplier2`` lets it read
  two chosen contracts; ``supplier3`` lets ``bank2`` read all its contracts;
- contracts of unit 1 (``unit01-buyer``), signed by both sides, with one loan each: applied,
  approved and paid out (the payee account locked to the bank's repayment account) with
  ``bank`` for supplier1; rejected with ``bank`` for supplier2; repaid, and repaid then
  closed, with ``bank2`` for supplier3; supplier1 keeps one signed contract without a loan
  to apply from;
- ``bank`` has a webhook endpoint at http://127.0.0.1:8765/webhook. Nothing listens there in
  the demo: the scheduler's deliveries fail and are retried, then given up (the bank's
  deliveries page shows them and replays one).

Seeded once: nothing is done when ``bank2`` exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, Product
from financing import consent, loans, products
from financing.models import FinanceProduct
from financing.webhook_endpoints import add_endpoint
from mall.accounts import services as accounts
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import local_today
from mall.core.credit_codes import uscc_with_check_digit
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts import services as contracts
from mall.purchasing.orders import checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Order, OrderStatus, Paperwork

BANK2 = ("湘江银行股份有限公司", "91430100MA4M54321")  # credit code without its check character
BANK2_LOGIN = "bank2"
WEBHOOK_URL = "http://127.0.0.1:8765/webhook"
SUPPLIERS = ("supplier1", "supplier2", "supplier3")
BUYER, APPROVER = "unit01-buyer", "unit01-approver"
ADDRESS = "长沙市岳麓区政务服务中心后勤处"
CONTACT = "王敏 13800001111"
MOST_FEN = 4_000_000  # each contract stays under the unit's approval amount (5万元)
# (bank login, name, max share %, lowest and highest yearly rate %, term days)
PRODUCTS = (
    ("bank", "政采贷·订单快贷", "70", "3.65", "5.50", "180"),
    ("bank", "政采贷·验收贷", "90", "3.45", "4.80", "90"),
    ("bank2", "湘江政采e贷", "80", "3.85", "6.00", "365"),
    ("bank2", "湘江小微合同贷", "60", "4.20", "7.20", "120"),
)
REPAYMENT = {  # the banks' repayment accounts (回款账户) a payout locks the payee to
    "bank": ("潇湘农村商业银行营业部", "潇湘农村商业银行政采贷回款专户", "6230901000088880001"),
    "bank2": ("湘江银行长沙分行", "湘江银行政采贷回款专户", "6217995500012345678"),
}


@dataclass
class _People:
    banks: dict[str, Actor]
    suppliers: dict[str, Actor]
    buyer: Actor
    approver: Actor


def has_demo_financing(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)
                               .where(User.login == BANK2_LOGIN)))


def seed_financing(session: Session, *, password_hash: str | None = None) -> str:
    """Create the demo's second bank, products, consents, loans and endpoint (once); commits.
    ``password_hash``: the second bank's login, else that of the demo's ``bank``."""
    if has_demo_financing(session):
        return "financing already present"
    sellers = session.scalars(select(User).where(User.login.in_(SUPPLIERS))).all()
    if len(sellers) < len(SUPPLIERS) or not all(_offers(session, actor_for(u)) for u in sellers):
        return "financing skipped: a supplier it needs sells nothing in this small catalogue"
    people = _people(session, password_hash)
    made = {}
    for login, name, share, low, high, days in PRODUCTS:
        made[name] = products.create_product(session, people.banks[login], products.product_data({
            "name": name, "max_share_pct": share, "rate_min": low, "rate_max": high,
            "term_days": days, "regions": "430000",
            "description": "面向湖南省政府采购中标、成交供应商，凭已签订的政府采购合同申请，"
                           "无需抵押担保，回款账户锁定至本行。"})).id
    s1, s2, s3 = (people.suppliers[f"supplier{n}"] for n in (1, 2, 3))
    signed = {login: [_signed_order(session, people, actor, n) for n in range(count)]
              for login, actor, count in (("supplier1", s1, 4), ("supplier2", s2, 3),
                                          ("supplier3", s3, 2))}
    year = local_today() + timedelta(days=365)
    bank, bank2 = people.banks["bank"], people.banks[BANK2_LOGIN]
    consent.grant(session, s1, bank_org_id=bank.organisation_id, scope="all", expires_on=year)
    consent.grant(session, s2, bank_org_id=bank.organisation_id, scope="chosen",
                  order_ids=[o.id for o in signed["supplier2"][:2]],
                  expires_on=local_today() + timedelta(days=180))
    consent.grant(session, s3, bank_org_id=bank2.organisation_id, scope="all", expires_on=year)

    def apply(supplier: Actor, order: Order, product: str) -> int:
        cap = loans.loan_cap(loans.contract_value(order), _product(session, made[product]))
        return loans.apply_for_loan(session, supplier, order_id=order.id,
                                    product_id=made[product], amount_fen=cap,
                                    note="用于本合同货物采购备货。").id

    def approve(actor: Actor, loan_id: int, rate_bp: int, days: int) -> None:
        loan = loans.get_loan(session, actor, loan_id)
        loans.approve(session, actor, loan_id, amount_fen=loan.requested_fen, rate_bp=rate_bp,
                      term_days=days)

    def pay_out(actor: Actor, login: str, loan_id: int, reference: str) -> None:
        loan = loans.get_loan(session, actor, loan_id)
        bank_name, account_name, number = REPAYMENT[login]
        loans.disburse(session, actor, loan_id, amount_fen=loan.approved_fen,
                       value_date=local_today(), bank_name=bank_name,
                       account_name=account_name, account_number=number,
                       bank_reference=reference)

    def repay_all(actor: Actor, loan_id: int) -> None:
        loan = loans.get_loan(session, actor, loan_id)
        half = loan.disbursed_fen // 2
        loans.repay(session, actor, loan_id, amount_fen=half, on_day=local_today())
        loans.repay(session, actor, loan_id, amount_fen=loan.disbursed_fen - half,
                    on_day=local_today())

    o1 = signed["supplier1"]
    apply(s1, o1[0], "政采贷·订单快贷")  # applied: waits for the bank
    approve(bank, apply(s1, o1[1], "政采贷·订单快贷"), 435, 180)  # approved
    paid = apply(s1, o1[2], "政采贷·验收贷")
    approve(bank, paid, 385, 90)
    pay_out(bank, "bank", paid, "XX-DEMO-0001")  # disbursed: payee locked to the bank
    loans.reject(session, bank, apply(s2, signed["supplier2"][0], "政采贷·订单快贷"),
                 reason="该合同已有其他融资登记，请核实后重新申请。")  # rejected
    o3 = signed["supplier3"]
    for n, order in enumerate(o3):
        loan_id = apply(s3, order, "湘江政采e贷")
        approve(bank2, loan_id, 420, 365)
        pay_out(bank2, BANK2_LOGIN, loan_id, f"XJ-DEMO-{n + 1:04d}")
        repay_all(bank2, loan_id)  # repaid: the payee account released
        if n:
            loans.close(session, bank2, loan_id, note="贷款结清，归档。")  # closed
    add_endpoint(session, bank, WEBHOOK_URL, allow_local=True)
    session.commit()
    return ("financing: 2 banks, 4 products, 3 consents, 6 loans (applied, approved, "
            "disbursed, rejected, repaid, closed), 1 webhook endpoint")


def _people(session: Session, password_hash: str | None) -> _People:
    users = {u.login: u for u in session.scalars(select(User).where(User.login.in_(
        ["bank", BUYER, APPROVER, "supplier1", "supplier2", "supplier3"])))}
    first = users["bank"]
    second = accounts.create_organisation(
        session, kind=OrganisationKind.FINANCE_PARTNER, name=BANK2[0],
        credit_code=uscc_with_check_digit(BANK2[1]), region_code="430100", region_name="长沙市")
    user = accounts.create_user(session, organisation=second, login=BANK2_LOGIN,
                                display_name="湘江银行客户经理", password="",
                                roles=[Role.BANK_USER],
                                password_hash=password_hash or first.password_hash)
    return _People(banks={"bank": actor_for(first), BANK2_LOGIN: actor_for(user)},
                   suppliers={login: actor_for(users[login])
                              for login in ("supplier1", "supplier2", "supplier3")},
                   buyer=actor_for(users[BUYER]), approver=actor_for(users[APPROVER]))


def _product(session: Session, product_id: int) -> FinanceProduct:
    return session.get_one(FinanceProduct, product_id)


def _offers(session: Session, supplier: Actor) -> list:
    """The supplier's cheapest offers the demo's budget lines pay for, 集采 items first."""
    return list(session.execute(
        select(Offer.id, Offer.price_fen, Offer.stock, Category.code)
        .join(Product, Product.id == Offer.product_id)
        .join(Category, Category.id == Product.category_id)
        .where(Offer.supplier_id == supplier.organisation_id,
               Offer.status == OfferStatus.LISTED, Offer.stock >= 1,
               Category.code.like("A02%") | Category.code.like("A05%"))
        .order_by(Category.centrally_procured.desc(), Offer.price_fen, Offer.id)
        .limit(8)).all())


def _signed_order(session: Session, people: _People, supplier: Actor, n: int) -> Order:
    """An order of unit 1 from the supplier's n-th listed offer (a 集采 item, so that it is
    concluded by a contract), approved by the unit when its orders of the day add up above
    the approval amount, confirmed and signed by both."""
    buyer = people.buyer
    offers = _offers(session, supplier)
    found = offers[n % len(offers)]  # again from the first when a small catalogue has fewer
    line = session.scalars(select(BudgetLine).where(
        BudgetLine.organisation_id == buyer.organisation_id,
        BudgetLine.category_code == ("A02000000" if found.code.startswith("A02")
                                     else "A05000000"))).one()
    quantity = max(1, min(10, found.stock, MOST_FEN // found.price_fen))
    made = checkout.checkout(session, buyer, budget_line_id=line.id, delivery_address=ADDRESS,
                             contact=CONTACT, token=f"demo-financing-{supplier.user_id}-{n}",
                             items=[(found.id, quantity)]).orders[0]
    if made.status is OrderStatus.PENDING_APPROVAL:
        orders.approve(session, people.approver, made.id)
    orders.confirm(session, supplier, made.id)
    if made.paperwork is Paperwork.CONTRACT:
        contracts.sign(session, supplier, made.id)
        contracts.sign(session, buyer, made.id)
    return made

