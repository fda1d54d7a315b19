"""Demo data of random expert acceptance: the expert pool (expert1 … expert8, the demo
password), two of them tied to demo parties, and an order of unit 1 whose buyer asked for
experts, drawn from a fixed seed, received, and signed by one of the three experts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, Product
from mall.accounts.models import Organisation, User
from mall.accounts.services import actor_for
from mall.core.auth import Actor
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts import services as contracts
from mall.purchasing.experts import pool, reviews
from mall.purchasing.experts import services as experts
from mall.purchasing.experts.models import ExpertProfile
from mall.purchasing.orders import checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import OrderStatus, Paperwork

BUYER, APPROVER, SUPPLIER = "unit01-buyer", "unit01-approver", "supplier1"
SEED = "demo-2026-expert-draw"
# login, name, employer, catalogue codes (prefixes)
EXPERTS = (
    ("expert1", "周建国", "湖南大学信息科学与工程学院", "A0201 A0202"),
    ("expert2", "陈晓燕", "长沙市计量检测研究院", "A0201 A05"),
    ("expert3", "刘志强", "中南大学计算机学院", "A0201"),
    ("expert4", "黄丽华", "湖南省产品质量检验研究院", "A02 A05"),
    ("expert5", "杨文斌", "湖南师范大学", "A0201 A0202"),
    ("expert6", "赵敏", "长沙理工大学", "A0201"),
    ("expert7", "吴海涛", "湖南省信息中心", "A02"),
    ("expert8", "孙静", "长沙学院", "A05"),
)


def has_demo_experts(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(ExpertProfile)))


def _actor(session: Session, login: str) -> Actor | None:
    user = session.scalar(select(User).where(User.login == login))
    return actor_for(user) if user else None


def _computer_offer(session: Session, supplier: Actor):
    """The supplier's cheapest listed computer (a 集采 item: the order has a contract)."""
    return session.execute(
        select(Offer.id, Offer.price_fen, Category.code)
        .join(Product, Product.id == Offer.product_id)
        .join(Category, Category.id == Product.category_id)
        .where(Offer.supplier_id == supplier.organisation_id, Offer.status == OfferStatus.LISTED,
               Offer.stock >= 2, Category.code.like("A0201%"))
        .order_by(Category.centrally_procured.desc(), Offer.price_fen, Offer.id).limit(1)).first()


def seed_experts(session: Session) -> str:
    """Create the demo's experts (once); commits. Returns a one-line summary."""
    if has_demo_experts(session):
        return "experts already present"
    operator, buyer, approver, supplier = (_actor(session, login) for login in
                                           ("operator", BUYER, APPROVER, SUPPLIER))
    if operator is None or buyer is None or approver is None or supplier is None:
        return "experts skipped: the demo's operator, unit 1 or supplier1 is missing"
    password_hash = session.get_one(User, operator.user_id).password_hash
    supplier_code = session.get_one(Organisation, supplier.organisation_id).credit_code or ""
    buyer_code = session.get_one(Organisation, buyer.organisation_id).credit_code or ""
    made = []
    for login, name, employer, codes in EXPERTS:
        profile = pool.add_expert(session, operator, login=login, name=name,
                                  password="demo-password-replaced", employer_name=employer,
                                  category_codes=codes,
                                  employer_credit_code=supplier_code if login == "expert2" else "")
        session.get_one(User, profile.user_id).password_hash = password_hash  # the demo's
        made.append(profile)
    pool.add_tie(session, operator, made[4].id, credit_code=buyer_code,
                 note="2024年前在该单位信息中心任职（三年内）")
    found = _computer_offer(session, supplier)
    if found is None:
        session.commit()
        return "experts: 8 in the pool, no draw (supplier1 sells no computer here)"
    line = session.scalar(select(BudgetLine.id).where(
        BudgetLine.organisation_id == buyer.organisation_id,
        BudgetLine.category_code == "A02000000"))
    if line is None:
        session.commit()
        return "experts: 8 in the pool, no draw (unit 1 has no budget line for computers)"
    order = checkout.checkout(session, buyer, budget_line_id=line, token="demo-experts-1",
                              delivery_address="长沙市岳麓区麓山路1号 行政楼201",
                              contact="李四 13800000000", items=[(found.id, 2)]).orders[0]
    if order.status is OrderStatus.PENDING_APPROVAL:
        orders.approve(session, approver, order.id)
    orders.confirm(session, supplier, order.id)
    if order.paperwork is Paperwork.CONTRACT:
        contracts.sign(session, supplier, order.id)
        contracts.sign(session, buyer, order.id)
    experts.request_experts(session, buyer, order.id,
                            reason="信息化设备，请随机抽取专家参与履约验收。")
    draw = experts.draw_experts(session, operator, order.id, seed=SEED)
    orders.ship(session, supplier, order.id, carrier="顺丰速运", tracking_number="SF1234567890")
    orders.receive(session, buyer, order.id)
    first = session.get_one(ExpertProfile, draw.chosen_ids[0])
    reviews.record_review(session, actor_for(session.get_one(User, first.user_id)), draw.id,
                          result="pass", opinion="设备型号、配置与合同一致，运行正常，同意验收。")
    session.commit()
    return (f"experts: 8 in the pool (2 tied to demo parties), order {order.number} drawn "
            f"(seed {SEED}), 1 of 3 reviews signed")
