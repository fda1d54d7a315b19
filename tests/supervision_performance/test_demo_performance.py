"""The demo's supplier performance: scores computed from the demo's orders, a warning with
points, a category suspension and a public bad-conduct entry on suppliers other than the main
demo login, seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from catalog.models import Category
from mall.accounts.models import User
from mall.demo.performance import ROUND_CATEGORIES, seed_performance
from mall.demo.seed import seed_demo
from supervision.performance.models import Sanction, SanctionKind, SupplierMonth
from supervision.performance.sanctions import bad_conduct_list, current_sanctions
from suppliers.models import AdmissionStatus, CategoryAdmission

PASSWORD = "Demo-Password-1"


def _org(session, login: str) -> int:
    return session.scalars(select(User.organisation_id).where(User.login == login)).one()


def test_the_demo_scores_its_suppliers_and_sanctions_three_others_than_supplier1(session):
    seed_demo(session, offers=300, seed=12, password=PASSWORD, echo=lambda _m: None)
    assert session.scalar(select(func.count()).select_from(SupplierMonth)) >= 1
    assert current_sanctions(session, _org(session, "supplier1")) == []
    warned = {s.kind for s in current_sanctions(session, _org(session, "supplier10"))}
    assert warned == {SanctionKind.WARNING, SanctionKind.POINTS}
    (suspension,) = current_sanctions(session, _org(session, "supplier9"))
    assert suspension.kind is SanctionKind.SUSPENSION
    admission = session.get(CategoryAdmission, suspension.admission_ids[0])
    assert admission.status is AdmissionStatus.SUSPENDED
    assert session.get(Category, admission.category_id).code not in ROUND_CATEGORIES
    listed = [entry.name for entry in bad_conduct_list(session)]
    assert len(listed) == 1
    assert "already present" in seed_performance(session)
    assert session.scalar(select(func.count()).select_from(Sanction)) == 4
