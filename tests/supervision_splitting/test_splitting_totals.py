"""Anti-splitting running totals: every non-tender purchase of a unit under one budget project
in one category counts; an alert as the sum reaches the warning share of the open-tender
threshold and another once it passes it, each raised once, and not a fen before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mall.core.audit import AuditEvent
from mall.core.auth import OrganisationKind
from mall.core.clock import now
from mall.purchasing.budget import services as budget
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Notification, PurchaseMode
from mall.purchasing.orders.return_refunds import receive_return
from mall.purchasing.orders.returns import agree_return, request_return, ship_return
from supervision.splitting.models import (
    AlertLevel,
    AlertStatus,
    SplittingAlert,
    SplittingCursor,
    SplittingTotal,
)
from supervision.splitting.services import save_warn_pct
from supervision.splitting.totals import process_changes, sweep_year
from tests.factories.splitting import (
    THRESHOLD,
    award,
    buy,
    make_world,
    oversight,
    project_line,
)
from tests.factories.suppliers import DESKTOP, PAPER

WARN_AT = THRESHOLD * 80 // 100


def _run(session) -> None:
    """The job, as the scheduler runs it a minute later."""
    session.flush()
    process_changes(session, moment=now() + timedelta(minutes=1))


def _alerts(session, world) -> dict[AlertLevel, SplittingAlert]:
    session.expire_all()
    return {a.level: a for a in session.scalars(select(SplittingAlert).where(
        SplittingAlert.organisation_id == world.unit.organisation.id))}


def _total(session, world, project: str = "2026-BG-001", code: str = PAPER) -> SplittingTotal:
    session.expire_all()
    return session.scalars(select(SplittingTotal).where(
        SplittingTotal.organisation_id == world.unit.organisation.id,
        SplittingTotal.project_code == project, SplittingTotal.category_code == code)).one()


@pytest.mark.parametrize(("amount", "expected"), [
    (WARN_AT - 1, set()),
    (WARN_AT, {AlertLevel.APPROACHING}),
    (THRESHOLD - 1, {AlertLevel.APPROACHING}),
    (THRESHOLD, {AlertLevel.APPROACHING}),
    (THRESHOLD + 1, {AlertLevel.PASSED}),
])
def test_alerts_fire_at_the_warning_share_and_above_the_threshold_and_not_before(
        session, amount, expected):
    world = make_world(session)
    award(session, world, amount - 10_000)
    award(session, world, 10_000, mode=PurchaseMode.FRAMEWORK)
    _run(session)
    assert _total(session, world).total_fen == amount
    alerts = _alerts(session, world)
    assert set(alerts) == expected
    for alert in alerts.values():
        assert alert.status is AlertStatus.OPEN and alert.sum_fen == amount
        assert alert.threshold_fen == THRESHOLD and alert.warn_pct == 80


def test_direct_purchases_and_both_bidding_modes_count_together(session):
    world = make_world(session, price_fen=1_000_000)  # 1万元 a unit
    buy(session, world, 50)  # 50万元 direct
    award(session, world, 60_000_000)  # quick bidding
    award(session, world, 50_000_000, mode=PurchaseMode.FRAMEWORK)
    _run(session)
    total = _total(session, world)
    assert (total.direct_fen, total.bidding_fen, total.total_fen) == (
        50_000_000, 110_000_000, 160_000_000)
    assert total.order_count == 3
    assert set(_alerts(session, world)) == {AlertLevel.APPROACHING}


def test_a_cancelled_order_does_not_count_and_a_repeat_changes_nothing(session):
    world = make_world(session, price_fen=1_000_000)
    award(session, world, 150_000_000)
    order = buy(session, world, 20)  # 20万元: 170万 in all
    orders.cancel(session, world.unit.buyer, order.id, "买错了")
    _run(session)
    assert _total(session, world).total_fen == 150_000_000
    assert _alerts(session, world) == {}
    session.execute(SplittingCursor.__table__.update().values(last_event_id=0))
    _run(session)  # every event again: totals are recomputed, not added to
    assert _total(session, world).total_fen == 150_000_000


def test_each_budget_project_and_category_is_its_own_key(session):
    world = make_world(session)
    other_project = project_line(session, world, "2026-XX-002")
    award(session, world, 100_000_000)
    award(session, world, 100_000_000, line_id=other_project)
    award(session, world, 100_000_000, code=DESKTOP)
    _run(session)
    assert _total(session, world).total_fen == 100_000_000
    assert _total(session, world, project="2026-XX-002").total_fen == 100_000_000
    assert _total(session, world, code=DESKTOP).total_fen == 100_000_000
    assert _alerts(session, world) == {}


def test_a_passed_alert_supersedes_the_approaching_one_and_neither_repeats(session):
    world = make_world(session)
    supervisor, _actor = oversight(session, OrganisationKind.SUPERVISOR, "split-sup-1")
    award(session, world, 170_000_000)
    _run(session)
    approaching = _alerts(session, world)[AlertLevel.APPROACHING]
    award(session, world, 10_000_000)
    _run(session)
    assert len(_alerts(session, world)) == 1  # still the one approaching alert
    award(session, world, 30_000_000)  # 210万元
    _run(session)
    alerts = _alerts(session, world)
    assert alerts[AlertLevel.APPROACHING].id == approaching.id
    assert alerts[AlertLevel.APPROACHING].status is AlertStatus.SUPERSEDED
    assert alerts[AlertLevel.PASSED].status is AlertStatus.OPEN
    assert [n.action for n in alerts[AlertLevel.APPROACHING].notes] == ["raised", "superseded"]
    notes = session.scalars(select(Notification).where(
        Notification.organisation_id == supervisor.organisation_id)).all()
    assert [n.kind for n in notes] == ["splitting_passed"]
    assert notes[0].params["amount"] == "¥2,100,000.00"
    award(session, world, 1_000_000)
    sweep_year(session, alerts[AlertLevel.PASSED].fiscal_year)
    assert len(_alerts(session, world)) == 2
    raised = session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "splitting_alert.raised",
        AuditEvent.object_id.in_([str(a.id) for a in alerts.values()]))).all()
    assert len(raised) == 2


def test_a_lowered_threshold_raises_the_alert_at_the_daily_sweep(session):
    world = make_world(session)
    operator_user, operator = oversight(session, OrganisationKind.OPERATOR, "split-op-1")
    award(session, world, 120_000_000)
    _run(session)
    assert _alerts(session, world) == {}
    budget.set_limits(session, operator, region_code="430100", direct_limit_fen=50_000_000,
                      open_tender_fen=100_000_000)
    sweep_year(session, _total(session, world).fiscal_year)
    alert = _alerts(session, world)[AlertLevel.PASSED]
    assert (alert.sum_fen, alert.threshold_fen) == (120_000_000, 100_000_000)


def test_a_lower_warning_share_alerts_the_keys_already_at_it(session):
    world = make_world(session)
    _user, supervisor = oversight(session, OrganisationKind.SUPERVISOR, "split-sup-2")
    award(session, world, 100_000_000)  # 50 %
    _run(session)
    assert _alerts(session, world) == {}
    save_warn_pct(session, supervisor, pct=50)
    alert = _alerts(session, world)[AlertLevel.APPROACHING]
    assert alert.warn_pct == 50


def test_the_watermark_moves_only_over_settled_events(session):
    world = make_world(session)
    award(session, world, 170_000_000)
    session.flush()
    before = session.scalar(select(SplittingCursor.last_event_id)) or 0
    assert process_changes(session, moment=now()) == 0  # too young to pass the watermark
    assert set(_alerts(session, world)) == {AlertLevel.APPROACHING}  # but counted at once
    assert (session.scalar(select(SplittingCursor.last_event_id)) or 0) == before
    assert process_changes(session, moment=now() + timedelta(minutes=1)) >= 1
    assert session.scalar(select(SplittingCursor.last_event_id)) > before


def test_the_scheduled_jobs_keep_the_totals_a_minute_later(session):
    from mall.core.clock import frozen_clock
    from mall.core.jobs import REGISTRY

    world = make_world(session)
    award(session, world, 165_000_000)
    session.flush()
    assert {"supervision.splitting_totals", "supervision.splitting_sweep"} <= set(REGISTRY)
    with frozen_clock(now() + timedelta(minutes=1)):
        REGISTRY["supervision.splitting_totals"].run(session)
    assert _total(session, world).total_fen == 165_000_000
    assert (session.scalar(select(SplittingCursor.last_event_id)) or 0) > 0
    assert set(_alerts(session, world)) == {AlertLevel.APPROACHING}
    REGISTRY["supervision.splitting_sweep"].run(session)  # a repeat: nothing new
    assert len(_alerts(session, world)) == 1


def _through_delivery(session, world, order) -> None:
    from mall.purchasing.contracts import services as contracts

    orders.confirm(session, world.supplier, order.id)
    contracts.sign(session, world.supplier, order.id)
    contracts.sign(session, world.unit.buyer, order.id)
    orders.ship(session, world.supplier, order.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, world.unit.buyer, order.id)


def test_goods_kept_back_rejected_or_returned_and_refunded_do_not_count(session):
    world = make_world(session, price_fen=1_000_000)  # 1万元 a unit
    award(session, world, 140_000_000)
    partial, rejected = buy(session, world, 20), buy(session, world, 10)  # 170万元 in all
    for order in (partial, rejected):
        _through_delivery(session, world, order)
    orders.accept(session, world.unit.buyer, partial.id, result="partial",
                  quantities={partial.lines[0].id: 15}, reasons="5 件破损")
    orders.accept(session, world.unit.buyer, rejected.id, result="reject",
                  quantities={rejected.lines[0].id: 0}, reasons="型号不符")
    _run(session)
    total = _total(session, world)
    assert (total.direct_fen, total.total_fen, total.order_count) == (15_000_000, 155_000_000, 2)
    assert _alerts(session, world) == {}  # 155万元: under 80 % of 200万元
    ret = request_return(session, world.unit.buyer, partial.id,
                         quantities={partial.lines[0].id: 5}, reason="5 件型号不符")
    agree_return(session, world.supplier, partial.id, ret.id)
    ship_return(session, world.unit.buyer, partial.id, ret.id, carrier="顺丰",
                tracking_number="SF-R1")
    _run(session)
    assert _total(session, world).total_fen == 155_000_000  # not back yet: still counted
    receive_return(session, world.supplier, partial.id, ret.id, settings=None)
    _run(session)
    assert _total(session, world).direct_fen == 10_000_000  # a completed return comes off
