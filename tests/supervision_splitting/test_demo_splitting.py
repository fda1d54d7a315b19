"""The demo's anti-splitting: a unit's split purchases made through the services, and the two
alerts (above the lowered threshold, and approaching it) open for the supervisor."""

from __future__ import annotations

from sqlalchemy import select

from mall.accounts.models import User
from mall.demo.seed import seed_demo
from mall.demo.splitting import seed_splitting
from mall.purchasing.orders.models import Notification, Order
from supervision.splitting.models import AlertLevel, AlertStatus, SplittingAlert

PASSWORD = "Demo-Password-1"


def test_the_demo_has_a_passed_and_an_approaching_alert_of_one_unit(session):
    seed_demo(session, offers=300, seed=12, password=PASSWORD, echo=lambda _m: None)
    unit = session.scalars(select(User).where(User.login == "unit26-buyer")).one()
    alerts = session.scalars(select(SplittingAlert).where(
        SplittingAlert.organisation_id == unit.organisation_id)).all()
    assert sorted(a.level for a in alerts) == [AlertLevel.APPROACHING, AlertLevel.PASSED]
    assert all(a.status is AlertStatus.OPEN and a.threshold_fen == 80_000_000 for a in alerts)
    assert len({a.category_code for a in alerts}) == 2
    orders = session.scalars(select(Order).where(Order.buyer_org_id == unit.organisation_id)).all()
    assert len(orders) >= 5 and all(o.total_fen <= 20_000_000 for o in orders)
    supervisor = session.scalars(select(User).where(User.login == "supervisor")).one()
    kinds = session.scalars(select(Notification.kind).where(
        Notification.organisation_id == supervisor.organisation_id)).all()
    assert "splitting_passed" in kinds
    assert seed_splitting(session) == "splitting already present"
