"""The approval amount cannot be split around: a unit's orders to one supplier or in one
category within the window (a purchase setting, default 7 days) count together, and the
approver sees the orders that sent one to approval."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mall.accounts.services import actor_for
from mall.core.clock import frozen_clock
from mall.core.errors import ValidationFailed
from mall.extensions import db
from mall.purchasing.budget import services as budget
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Order, OrderStatus
from suppliers.listings import save_offers
from tests.conftest import login, own_app, post_form
from tests.factories.purchasing import make_unit, supplier_with_offers, token
from tests.factories.suppliers import DESKTOP, offer_input, operator_actor

PRICE = 4_732_800  # ¥47,328, twice past the unit's ¥50,000 approval amount
APPROVAL = 5_000_000
START = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # a fixed working week: no year end in between


@pytest.fixture
def clock():
    with frozen_clock(START) as cell:
        yield cell


def _unit(session):
    unit = make_unit(session)
    orders.set_approval_threshold(session, unit.approver, APPROVAL)
    return unit


def _buy(session, unit, offers: dict[int, int]):
    for offer_id, quantity in offers.items():
        cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=quantity)
    result = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                               delivery_address="长沙市岳麓区麓山路1号",
                               contact="李四 13800000000", token=token())
    session.flush()
    return result.orders


def _later(clock, **delta):
    clock[0] = clock[0] + timedelta(**delta)


def test_two_orders_to_one_supplier_minutes_apart_go_to_approval(session, clock):
    unit = _unit(session)
    _s, _supplier, (offer,) = supplier_with_offers(session, prices=(PRICE,))
    (first,) = _buy(session, unit, {offer: 1})
    assert first.status is OrderStatus.SENT and first.approval_basis is None
    _later(clock, minutes=4)
    (second,) = _buy(session, unit, {offer: 1})
    assert second.status is OrderStatus.PENDING_APPROVAL and second.confirm_by is None
    basis = second.approval_basis
    assert basis["reason"] == "split" and basis["window_days"] == 7
    assert basis["approval_above_fen"] == APPROVAL
    supplier_group = next(g for g in basis["groups"] if g["basis"] == "supplier")
    assert supplier_group["sum_fen"] == 2 * PRICE
    assert [(o["id"], o["number"], o["amount_fen"]) for o in supplier_group["orders"]] == [
        (first.id, first.number, PRICE)]
    orders.approve(session, unit.approver, second.id)
    assert second.status is OrderStatus.SENT


def test_orders_in_one_category_from_different_suppliers_count_together(session, clock):
    unit = _unit(session)
    _s1, _a1, (paper,) = supplier_with_offers(session, prices=(3_000_000,))
    _s2, _a2, (other,) = supplier_with_offers(session, prices=(2_500_000,))
    (first,) = _buy(session, unit, {paper: 1})
    _later(clock, days=3)
    (second,) = _buy(session, unit, {other: 1})
    assert second.status is OrderStatus.PENDING_APPROVAL
    (group,) = second.approval_basis["groups"]
    assert group["basis"] == "category" and group["category_code"] == "A05040101"
    assert group["sum_fen"] == 5_500_000 and group["orders"][0]["id"] == first.id


def test_the_orders_of_one_checkout_count_together(session, clock):
    unit = _unit(session)
    _s1, _a1, (paper,) = supplier_with_offers(session, prices=(3_000_000,))
    _s2, _a2, (other,) = supplier_with_offers(session, prices=(2_500_000,))
    first, second = sorted(_buy(session, unit, {paper: 1, other: 1}), key=lambda o: o.number)
    waiting = [o for o in (first, second) if o.status is OrderStatus.PENDING_APPROVAL]
    assert len(waiting) == 1
    sent = first if waiting[0] is second else second
    assert waiting[0].approval_basis["groups"][0]["orders"][0]["id"] == sent.id


def test_cancelled_and_returned_orders_do_not_count(session, clock):
    unit = _unit(session)
    _s, _supplier, (offer,) = supplier_with_offers(session, prices=(PRICE,))
    (withdrawn,) = _buy(session, unit, {offer: 1})
    orders.cancel(session, unit.buyer, withdrawn.id, "买错了")
    (second,) = _buy(session, unit, {offer: 1})
    assert second.status is OrderStatus.SENT
    orders.cancel(session, unit.buyer, second.id, "预算调整")
    _s2, _supplier2, (big,) = supplier_with_offers(session, prices=(PRICE + APPROVAL,))
    (declined,) = _buy(session, unit, {big: 1})
    assert declined.approval_basis == {"reason": "amount", "approval_above_fen": APPROVAL}
    orders.return_to_buyer(session, unit.approver, declined.id, "超预算")
    (third,) = _buy(session, unit, {offer: 1})
    assert third.status is OrderStatus.SENT


def test_orders_outside_the_window_do_not_count_and_the_window_is_a_setting(session, clock):
    unit = _unit(session)
    _s, _supplier, (offer,) = supplier_with_offers(session, prices=(PRICE,))
    _buy(session, unit, {offer: 1})
    _later(clock, days=7, minutes=1)
    (after_a_week,) = _buy(session, unit, {offer: 1})
    assert after_a_week.status is OrderStatus.SENT
    operator = operator_actor(session)
    budget.set_split_window(session, operator, region_code=None, days=30)
    _later(clock, days=20)
    (within_a_month,) = _buy(session, unit, {offer: 1})
    assert within_a_month.status is OrderStatus.PENDING_APPROVAL
    assert within_a_month.approval_basis["window_days"] == 30
    assert len(within_a_month.approval_basis["groups"][0]["orders"]) == 2
    # The unit's region row decides over the mall default; 0 counts each order alone.
    budget.set_limits(session, operator, region_code="430100", direct_limit_fen=100_000_000)
    budget.set_split_window(session, operator, region_code="430100", days=0)
    assert budget.split_window_days(session, unit.organisation.id) == 0
    (alone,) = _buy(session, unit, {offer: 1})
    assert alone.status is OrderStatus.SENT


def test_without_an_approval_amount_nothing_waits(session, clock):
    unit = make_unit(session)
    _s, _supplier, (offer,) = supplier_with_offers(session, prices=(PRICE,))
    assert [o.status for o in _buy(session, unit, {offer: 2})] == [OrderStatus.SENT]
    assert [o.status for o in _buy(session, unit, {offer: 2})] == [OrderStatus.SENT]


def test_the_split_window_is_a_whole_number_of_days(session):
    operator = operator_actor(session)
    for wrong in (-1, 367, 1.5, True):
        with pytest.raises(ValidationFailed) as caught:
            budget.set_split_window(session, operator, region_code=None, days=wrong)
        assert "split_window_days" in caught.value.errors


def _client(app, session, actor):
    from mall.accounts.models import User

    browser = app.test_client()
    post_form(browser, "/login", "/language/en", {"next": "/login"})
    login(browser, session.get(User, actor.user_id).login)
    return browser


def test_the_approver_sees_the_orders_that_sent_one_to_approval(app, session, clock):
    unit = _unit(session)
    supplier_user, supplier, (offer,) = supplier_with_offers(session, prices=(PRICE,))
    (first,) = _buy(session, unit, {offer: 1})
    _later(clock, minutes=4)
    (second,) = _buy(session, unit, {offer: 1})
    approver = _client(app, session, unit.approver)
    for page in ("/approvals", f"/orders/{second.id}"):
        html = approver.get(page).get_data(as_text=True)
        assert ("Split order: with the unit's orders to the same supplier in the last 7 days "
                "it comes to ¥94,656.00, above the approval amount of ¥50,000.00.") in html
        assert (f'<a href="/orders/{first.id}">{first.number}</a> · ¥47,328.00 · '
                "2026-06-10 10:00") in html
    # The supplier does not see the unit's other orders.
    seller = _client(app, session, supplier)
    assert "approval-reason" not in seller.get(f"/orders/{second.id}").get_data(as_text=True)


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    with own_app(tmp_path_factory, "split") as application:
        yield application


def test_two_halves_submitted_at_the_same_moment_still_see_each_other(committed_app):
    """Two checkouts of one unit racing (different categories and budget lines, so neither the
    running totals nor the reservation orders them): one of the two orders waits."""
    with committed_app.app_context():
        unit = _unit(db.session)
        _user, supplier, (paper,) = supplier_with_offers(db.session, prices=(PRICE,))
        report = save_offers(db.session, supplier, supplier_id=supplier.organisation_id,
                             items=[offer_input(code=DESKTOP, price_fen=PRICE,
                                                reference=PRICE + 300)])
        desktop = report.results[0].offer_id
        assert report.results[0].status == "listed", report
        # A second budget line: the same line would order them by its reservation.
        lines = {paper: unit.line_id, desktop: budget.create_budget_line(
            db.session, unit.finance, fiscal_year=checkout.fiscal_year(), project_code="2026-BG-002",
            project_name="计算机购置", category_code="A02000000", amount_fen=50_000_000).id}
        buyer, unit_id = actor_for(unit.buyer_user), unit.organisation.id
        db.session.commit()
        db.session.remove()
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def buy(offer_id: int) -> None:
        with committed_app.app_context():
            try:
                start.wait()
                checkout.checkout(db.session, buyer, budget_line_id=lines[offer_id],
                                  delivery_address="长沙", contact="测试",
                                  token=f"race-{offer_id}", items=[(offer_id, 1)])
                db.session.commit()
            except Exception as exc:  # reported below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buy, args=(o,)) for o in (paper, desktop)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with committed_app.app_context():
        statuses = sorted(db.session.scalars(select(Order.status).where(
            Order.buyer_org_id == unit_id)))
        assert statuses == sorted([OrderStatus.SENT, OrderStatus.PENDING_APPROVAL])
        db.session.remove()
