"""Demo anti-splitting (化整为零): a unit that bought office goods in many small orders under
one budget project, and the alerts the running totals raise, all made through the services.

雨花区民政局 (``unit26-buyer``; approver ``unit26-approver``) enters a budget line for project
``<year>-YH-MZ-01`` and buys, by direct purchase in orders of at most 20万元 each (approved by
its approver), about 95万元 in one catalogue category and about 70万元 in another. Both stay
under the mall's open-tender threshold (200万元) and raise nothing. Then the operator sets
雨花区's limits lower (direct-purchase limit 60万元, open-tender threshold 80万元), and the
daily sweep finds the first category above the new threshold (a "passed" alert, told to the
supervisors) and the second at 80 % of it (an "approaching" alert). The supervisor
(``supervisor``) finds both open on /supervision/splitting-alerts.

Seeded once: nothing is done when the project's budget line exists.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, Product
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.clock import local_today, now
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.orders import checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import OrderStatus
from supervision.splitting.models import SplittingAlert
from supervision.splitting.totals import GRACE, process_changes, sweep_year

UNIT = "unit26"  # 雨花区民政局, region 430111
REGION = "430111"
ADDRESS = "长沙市雨花区民政局综合办公楼"
CONTACT = "周婷 13800002626"
ORDER_MOST_FEN = 20_000_000  # each order at most 20万元: the split the alerts are about
# What the unit buys in its two categories (at most, at least): the first passes the lowered
# threshold (80万元), the second reaches its 80 % (64万元) and stays under it.
TARGETS = ((95_000_000, 85_000_000), (76_000_000, 66_000_000))
LOWER_DIRECT_FEN, LOWER_THRESHOLD_FEN = 60_000_000, 80_000_000


def _project(year: int) -> str:
    return f"{year}-YH-MZ-01"


def seed_splitting(session: Session) -> str:
    """Create the demo's split purchases and run the totals over them (once); commits.
    Returns a one-line summary."""
    year = local_today().year
    users = {u.login: u for u in session.scalars(select(User).where(User.login.in_(
        [f"{UNIT}-buyer", f"{UNIT}-approver", f"{UNIT}-finance", "operator"])))}
    if len(users) < 4:
        return "splitting skipped: the demo unit or the operator is missing"
    buyer, approver = actor_for(users[f"{UNIT}-buyer"]), actor_for(users[f"{UNIT}-approver"])
    if session.scalar(select(func.count()).select_from(BudgetLine).where(
            BudgetLine.organisation_id == buyer.organisation_id,
            BudgetLine.project_code == _project(year))):
        return "splitting already present"
    plan = _plan(session)
    if plan is None:
        return "splitting skipped: too few offers in stock in this small catalogue"
    line = budget.create_budget_line(
        session, actor_for(users[f"{UNIT}-finance"]), fiscal_year=year,
        project_code=_project(year), project_name="社区养老服务中心办公设施购置",
        category_code="A00000000", amount_fen=300_000_000)
    made = 0
    for n, (offer_id, quantity) in enumerate(plan, start=1):
        result = checkout.checkout(session, buyer, budget_line_id=line.id,
                                   delivery_address=ADDRESS, contact=CONTACT,
                                   token=f"demo-splitting-{n}", items=[(offer_id, quantity)])
        for order in result.orders:
            if order.status is OrderStatus.PENDING_APPROVAL:
                orders.approve(session, approver, order.id)
            made += 1
    session.flush()
    # The job, as the scheduler would run it a minute on; then the region lowers its limits
    # and the daily sweep checks the year against them.
    process_changes(session, moment=now() + 2 * GRACE)
    budget.set_limits(session, actor_for(users["operator"]), region_code=REGION,
                      direct_limit_fen=LOWER_DIRECT_FEN, open_tender_fen=LOWER_THRESHOLD_FEN)
    sweep_year(session, year)
    alerts = session.scalars(select(SplittingAlert).where(
        SplittingAlert.organisation_id == buyer.organisation_id)).all()
    session.commit()
    levels = sorted(a.level.value for a in alerts)
    return f"splitting: {made} split orders of {UNIT}, alerts {', '.join(levels) or 'none'}"


def _plan(session: Session) -> list[tuple[int, int]] | None:
    """(offer id, quantity) of orders of at most ORDER_MOST_FEN that make up each target in
    its own category, from the categories whose listed stock is worth the most; None when the
    catalogue is too small."""
    worth = func.sum(Offer.price_fen * Offer.stock)
    codes = session.scalars(
        select(Category.code)
        .join(Product, Product.category_id == Category.id)
        .join(Offer, Offer.product_id == Product.id)
        .where(*_buyable(), Category.centrally_procured.is_(False),
               Category.code.like("A02%") | Category.code.like("A05%"))
        .group_by(Category.code).order_by(worth.desc(), Category.code).limit(20)).all()
    plan: list[tuple[int, int]] = []
    targets = list(TARGETS)
    for code in codes:
        if not targets:
            break
        found = _fill(session, code, *targets[0])
        if found:
            plan += found
            targets.pop(0)
    return None if targets else plan


def _buyable():
    return (Offer.status == OfferStatus.LISTED, Offer.suspended.is_(False), Offer.stock > 0,
            Offer.price_fen <= ORDER_MOST_FEN)


def _fill(session: Session, code: str, target: int, least: int) -> list[tuple[int, int]]:
    """Orders of the category's offers, dearest first, that come to ``least`` … ``target``."""
    left, plan = target, []
    for offer_id, price, stock in session.execute(
            select(Offer.id, Offer.price_fen, Offer.stock)
            .join(Product, Product.id == Offer.product_id)
            .join(Category, Category.id == Product.category_id)
            .where(Category.code == code, *_buyable())
            .order_by(Offer.price_fen.desc(), Offer.id)).all():
        while left >= price and stock > 0:
            quantity = min(stock, left // price, ORDER_MOST_FEN // price)
            plan.append((offer_id, quantity))
            stock -= quantity
            left -= quantity * price
    return plan if target - left >= least else []
