"""Many buyers checking out the last units at once: nothing oversold, everything accounted.

Runs with real commits on its own database (SQLite file or PostgreSQL), one thread per
buyer, each with its own session, as gunicorn workers would.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from catalog.models import Offer
from mall.accounts.services import actor_for
from mall.extensions import db
from mall.purchasing.budget.models import BudgetLine, CategorySpend
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders.checkout import OutOfStock
from mall.purchasing.orders.models import Order, OrderLine
from tests.conftest import own_app
from tests.factories.purchasing import make_unit, supplier_with_offers

BUYERS, ROUNDS, STOCK = 8, 6, 20


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    with own_app(tmp_path_factory, "concurrency") as application:
        yield application


def test_concurrent_checkouts_never_oversell_and_account_for_every_unit(committed_app):
    with committed_app.app_context():
        units = [make_unit(db.session) for _ in range(BUYERS)]
        _user, _actor, (offer_id,) = supplier_with_offers(db.session, prices=(1500,), stock=STOCK)
        buyers = [(actor_for(u.buyer_user), u.line_id) for u in units]
        db.session.commit()
        db.session.remove()
    outcomes: list[str] = []
    lock = threading.Lock()

    def buyer(number: int) -> None:
        actor, line_id = buyers[number]
        with committed_app.app_context():
            for round_ in range(ROUNDS):
                try:
                    checkout.checkout(db.session, actor, budget_line_id=line_id,
                                      delivery_address="长沙", contact="测试",
                                      token=f"t-{number}-{round_}", items=[(offer_id, 1)])
                    db.session.commit()
                    result = "created"
                except OutOfStock:
                    db.session.rollback()
                    result = "out_of_stock"
                with lock:
                    outcomes.append(result)
            db.session.remove()

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == BUYERS * ROUNDS  # no thread died on a database error
    assert outcomes.count("created") == STOCK
    with committed_app.app_context():
        session = db.session
        assert session.get(Offer, offer_id).stock == 0
        assert session.scalar(select(func.sum(OrderLine.quantity))) == STOCK
        totals = session.scalar(select(func.sum(Order.total_fen)))
        assert totals == STOCK * 1500
        assert session.scalar(select(func.sum(BudgetLine.reserved_fen))) == totals
        assert session.scalar(select(func.sum(CategorySpend.total_fen))) == totals
        assert cart.count_items(session, buyers[0][0]) == 0
        session.remove()


def test_a_cancel_and_a_decline_racing_release_the_order_once(committed_app):
    from mall.core.errors import MallError
    from mall.purchasing.orders import services as orders

    with committed_app.app_context():
        unit = make_unit(db.session)
        _user, supplier, (offer_id,) = supplier_with_offers(db.session, prices=(1000,), stock=10)
        buyer = actor_for(unit.buyer_user)
        (order,) = checkout.checkout(db.session, buyer, budget_line_id=unit.line_id,
                                     delivery_address="长沙", contact="测试", token="race",
                                     items=[(offer_id, 2)]).orders
        order_id, line_id = order.id, unit.line_id
        db.session.commit()
        db.session.remove()
    barrier = threading.Barrier(2)
    outcomes = []

    def act(name, step):
        with committed_app.app_context():
            barrier.wait()
            try:
                step(db.session)
                db.session.commit()
                outcomes.append(name)
            except MallError as error:
                db.session.rollback()
                outcomes.append(error.code)
            db.session.remove()

    threads = [threading.Thread(target=act, args=("cancelled", lambda s: orders.cancel(
                   s, buyer, order_id, "不需要了"))),
               threading.Thread(target=act, args=("declined", lambda s: orders.decline(
                   s, supplier, order_id, "缺货")))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["cancelled", "order_state_conflict"],
                                ["declined", "order_state_conflict"])
    with committed_app.app_context():
        assert db.session.get(Offer, offer_id).stock == 10  # returned once, not twice
        line = db.session.get(BudgetLine, line_id)
        assert line.reserved_fen == 0
        db.session.remove()


def test_one_idempotency_key_sent_many_times_at_once_buys_once(committed_app):
    """A client retrying impatiently: the same request with the same key, 6 times at once
    through the API. One checkout happens; every other answer replays its orders."""
    from mall.accounts.models import User
    from mall.accounts.services import issue_token

    with committed_app.app_context():
        unit = make_unit(db.session)
        _user, _actor, (offer_id,) = supplier_with_offers(db.session, prices=(1500,), stock=STOCK)
        _token, secret = issue_token(db.session, actor_for(db.session.get(User, unit.approver.user_id)),
                                     name="ERP", scopes=["orders:read", "orders:write"])
        db.session.commit()
        db.session.remove()
    body = {"budget_line_id": unit.line_id, "delivery_address": "长沙", "contact": "测试",
            "items": [{"offer_id": offer_id, "quantity": 3}]}
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "retry-me"}
    answers: list = []
    lock = threading.Lock()

    def send() -> None:
        response = committed_app.test_client().post("/api/v1/orders/checkout", json=body,
                                                    headers=headers)
        with lock:
            answers.append((response.status_code, response.headers.get("Idempotent-Replayed"),
                            [o["id"] for o in response.json["orders"]]))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _replayed, _ids in answers] == [201] * 6
    assert sorted(replayed or "" for _status, replayed, _ids in answers) == [""] + ["true"] * 5
    assert len({tuple(ids) for _status, _replayed, ids in answers}) == 1
    with committed_app.app_context():
        assert db.session.get(Offer, offer_id).stock == STOCK - 3
        assert db.session.get(BudgetLine, unit.line_id).reserved_fen == 3 * 1500
        db.session.remove()
