"""Demo supplier performance and sanctions: every supplier's scores of the last twelve months
computed from the demo's orders, and three sanctions on suppliers the other demo flows leave
alone (``supplier1``, the main demo login, is never sanctioned):

- ``supplier10``: a warning and 4 points from the operator (nothing is taken away);
- ``supplier9``: one category suspended for 30 days by the operator (a category outside the
  paper and toner it quotes for in the demo rounds), its offers there out of search;
- ``supplier6``: on the public bad-conduct list for a year by the supervisor (政府采购法
  第七十七条); its admissions are suspended meanwhile, so its offers leave search. It only
  quoted in a round that closed before.

Seeded once: nothing is done when a sanction exists.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Category
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.clock import local_today
from supervision.performance.models import Sanction
from supervision.performance.sanctions import SanctionInput, impose
from supervision.performance.services import HISTORY_MONTHS, compute_month, previous_month
from suppliers.models import AdmissionStatus, CategoryAdmission

# Categories the demo rounds use: supplier9 keeps these.
ROUND_CATEGORIES = ("A05040101", "A05040201", "A05010501", "A02010105")


def seed_performance(session: Session) -> str:
    """Compute the demo's scores and decide its sanctions (once); commits. Returns a summary."""
    if session.scalar(select(func.count()).select_from(Sanction)):
        return "supplier performance already present"
    month = local_today()
    scored = 0
    for _ in range(HISTORY_MONTHS):
        scored += compute_month(session, month=month)
        month = previous_month(month)
    users = {u.login: u for u in session.scalars(select(User).where(User.login.in_(
        ["operator", "supervisor", "supplier6", "supplier9", "supplier10"])))}
    if len(users) < 5:
        session.commit()
        return f"supplier performance: {scored} supplier-months scored, no demo sanctions"
    operator, supervisor = actor_for(users["operator"]), actor_for(users["supervisor"])
    today = local_today()
    warned = users["supplier10"].organisation_id
    impose(session, operator, supplier_id=warned, data=SanctionInput(
        "warning", "多次超过48小时才确认订单，请改进订单确认流程。"))
    impose(session, operator, supplier_id=warned, data=SanctionInput(
        "points", "发货信息与实际承运单号不符。", points=4))
    suspended = users["supplier9"].organisation_id
    admission_id = session.scalar(
        select(CategoryAdmission.id).join(Category, Category.id == CategoryAdmission.category_id)
        .where(CategoryAdmission.supplier_id == suspended,
               CategoryAdmission.status == AdmissionStatus.ACTIVE,
               Category.code.not_in(ROUND_CATEGORIES)).order_by(Category.code).limit(1))
    if admission_id is not None:
        impose(session, operator, supplier_id=suspended, data=SanctionInput(
            "suspension", "月度巡检发现该品目多个商品价格高于参考价，暂停整改。",
            admission_ids=[admission_id], ends_on=today + timedelta(days=30)))
    impose(session, supervisor, supplier_id=users["supplier6"].organisation_id,
           data=SanctionInput("bad_conduct", "在竞价采购中提供虚假的中小企业声明函。",
                              ban_years=1))
    session.commit()
    return (f"supplier performance: {scored} supplier-months scored; a warning and points "
            "(supplier10), a category suspension (supplier9), a bad-conduct entry (supplier6)")
