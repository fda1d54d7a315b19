"""Demo bidding rounds: two framework agreements and rounds in every state, made through the
bidding services so that each role can try both modes at once.

Unit 1 (``unit01-buyer``) put out five rounds:

- open, quick bidding for copy paper, 3 sealed quotes, deadline about a day away (``supplier1``
  has not quoted and may);
- open, admitted-supplier bidding for desktop computers under agreement KJ-DEMO-002, 2 sealed
  quotes (``supplier1`` is a member and may quote);
- failed (流标), quick bidding for toner with 2 quotes;
- awarded under KJ-DEMO-002: ``supplier1`` was first in rank and has 3 days to confirm;
- confirmed: quick bidding for filing cabinets, which the SME deduction gave to a small
  supplier; its award became an order with its contract.

The closed rounds were published six hours before the seeding and closed three hours before
it: the clock (mall.core.clock) is moved back around each step and restored after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bidding_rounds.awards import confirm_award
from bidding_rounds.closing import close_due_rounds
from bidding_rounds.models import BiddingRound
from bidding_rounds.quotes import Origin, submit_quote
from bidding_rounds.rounds import ItemInput, RoundInput, create_round
from catalog.models import Category, Offer, Product
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.clock import frozen_clock, local_today, now
from mall.purchasing.budget.models import BudgetLine
from suppliers.frameworks import create_agreement, set_price_cap

PAPER, TONER, CABINET, DESKTOP = "A05040101", "A05040201", "A05010501", "A02010105"
BUYER = "unit01-buyer"
ADDRESS = "长沙市岳麓区政务服务中心后勤处"
CONTACT = "王敏 13800001111"
# The framework agreements: (number, title, category, member logins).
AGREEMENTS = (
    ("KJ-DEMO-001", "2026年度复印纸框架协议", PAPER,
     ("supplier4", "supplier7", "supplier9", "supplier10")),
    ("KJ-DEMO-002", "2026年度台式计算机框架协议", DESKTOP,
     ("supplier1", "supplier2", "supplier5", "supplier8")),
)
DESKTOP_CAP_FEN = 520_000  # the agreement's ceiling for one desktop without a demo product


def has_demo_rounds(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(BiddingRound)))


def seed_rounds(session: Session) -> str:
    """Create the demo agreements and rounds (once: nothing if rounds exist); commits."""
    if has_demo_rounds(session):
        return "bidding rounds already present"
    users = {u.login: u for u in session.scalars(select(User).where(User.login.in_(
        ["operator", BUYER, *(f"supplier{n}" for n in range(1, 11))])))}
    actors = {login: actor_for(user) for login, user in users.items()}
    buyer = actors[BUYER]
    lines = {line.category_code: line.id for line in session.scalars(select(BudgetLine).where(
        BudgetLine.organisation_id == buyer.organisation_id))}
    moment = now()
    today = local_today()
    agreements = {}
    for number, title, code, members in AGREEMENTS:
        agreement = create_agreement(
            session, actors["operator"], number=number, title=title, category_code=code,
            starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=300),
            supplier_ids=[actors[login].organisation_id for login in members])
        agreements[code] = agreement.id
    desktop = _product(session, DESKTOP, [actors[login].organisation_id
                                          for login in AGREEMENTS[1][3]])
    desktop_id, desktop_name, desktop_cap = desktop or (None, "台式计算机", DESKTOP_CAP_FEN)
    if desktop_id is not None:
        set_price_cap(session, actors["operator"], agreement_id=agreements[DESKTOP],
                      product_id=desktop_id, cap_fen=desktop_cap)

    def put_out(mode: str, code: str, name: str, spec: str, quantity: int, unit: str,
                ceiling: int, product_id: int | None = None,
                deadline: datetime | None = None) -> BiddingRound:
        line = lines["A02000000" if code.startswith("A02") else "A05000000"]
        return create_round(session, buyer, RoundInput(
            mode=mode, items=[ItemInput(category_code=code, name=name, spec=spec,
                                        quantity=quantity, unit=unit, product_id=product_id)],
            budget_line_id=line, ceiling_fen=ceiling, delivery_address=ADDRESS,
            contact=CONTACT, deadline=deadline))

    def quotes(bidding_round: BiddingRound, clock: list[datetime],
               prices: Sequence[tuple[str, int, bool]]) -> None:
        """(supplier login, unit price, goods made by an SME), a few minutes apart."""
        for n, (login, price, sme_goods) in enumerate(prices, start=1):
            clock[0] += timedelta(minutes=7)
            submit_quote(session, actors[login], bidding_round.id,
                         lines=[(item.id, price) for item in bidding_round.items],
                         sme_goods=sme_goods,
                         origin=Origin(f"10.20.{n}.{len(login) * 7}", "Mozilla/5.0 (demo)",
                                       f"demo-{login}"))

    # Rounds that closed three hours ago: failed, awarded to supplier1, confirmed.
    closes_at = moment - timedelta(hours=3)
    with frozen_clock(moment - timedelta(hours=6)) as clock:
        failed = put_out("quick", TONER, "激光打印机硒鼓", "黑色，约2000页，兼容HP 88A", 50, "支",
                         2_000_000, deadline=closes_at)
        quotes(failed, clock, [("supplier4", 36_000, False), ("supplier9", 37_500, True)])
        awarded = put_out("framework", DESKTOP, desktop_name, "含23.8英寸显示器、键盘鼠标",
                          10, "台", 10 * desktop_cap, product_id=desktop_id,
                          deadline=closes_at)
        quotes(awarded, clock, [("supplier2", desktop_cap * 96 // 100, False),
                                ("supplier1", desktop_cap * 93 // 100, False),
                                ("supplier8", desktop_cap * 99 // 100, False)])
        confirmed = put_out("quick", CABINET, "钢制文件柜", "四门，1850×900×390mm", 20, "组",
                            2_000_000, deadline=closes_at)
        quotes(confirmed, clock, [("supplier3", 90_000, False), ("supplier6", 92_000, False),
                                  ("supplier7", 95_000, True)])  # 10 % off: 85,500 evaluated
        clock[0] = closes_at
        close_due_rounds(session)
        clock[0] = closes_at + timedelta(hours=1)
        confirm_award(session, actors["supplier7"], confirmed.id)

    # Rounds still open: their quotes sealed until the deadline a day from now.
    with frozen_clock(moment - timedelta(minutes=30)) as clock:
        paper = put_out("quick", PAPER, "A4复印纸 70g", "500张/包，5包/箱", 200, "箱", 2_600_000)
        quotes(paper, clock, [("supplier4", 11_800, False), ("supplier7", 12_200, True),
                              ("supplier10", 12_500, True)])
        computers = put_out("framework", DESKTOP, desktop_name, "第二批，含27英寸显示器",
                            6, "台", 6 * desktop_cap,
                            product_id=desktop_id)
        quotes(computers, clock, [("supplier5", desktop_cap * 97 // 100, False),
                                  ("supplier2", desktop_cap * 95 // 100, False)])
    session.commit()
    return (f"bidding rounds: {len(AGREEMENTS)} framework agreements, 5 rounds "
            f"(2 open, 1 failed, 1 awaiting supplier1, 1 confirmed into an order)")


def _product(session: Session, code: str, members: Sequence[int]) -> tuple[int, str, int] | None:
    """A demo product of the category that no member sells in the mall (so its mall price caps
    no member's quote), its title, and an agreement ceiling above its mall prices, so that
    the cap holds no offer back. None when the demo has no such product."""
    found = session.execute(
        select(Product.id, Product.title, func.max(Offer.price_fen))
        .join(Category, Category.id == Product.category_id)
        .join(Offer, Offer.product_id == Product.id)
        .where(Category.code == code, Product.id.not_in(
            select(Offer.product_id).where(Offer.supplier_id.in_(members))))
        .group_by(Product.id, Product.title).order_by(Product.id).limit(1)).first()
    if found is None:
        return None
    return found[0], found[1][:300], (int(found[2]) * 105 // 100 + 99) // 100 * 100
