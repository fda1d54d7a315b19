"""The feed's cursor under concurrent writes: a bank paging through the feed while contracts
change and two sequencers number the changes reads every change exactly once, in order.

Runs with real commits on its own database (SQLite file or PostgreSQL): writer threads each
announce contract changes in their own transactions (some roll back), two sequencer threads
run ``sequence_changes`` in small batches as two scheduler processes would, and a reader
pulls page by page through the API with the cursor it was given.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from financing import consent
from financing.feed import announce, sequence_changes
from financing.models import FeedChange
from mall.accounts.models import User
from mall.accounts.services import actor_for, issue_token
from mall.core.clock import local_today
from mall.core.unit_of_work import unit_of_work
from mall.extensions import db
from tests.conftest import own_app
from tests.factories.financing import confirmed_orders, make_bank

WRITERS, CHANGES, ORDERS, PAGE, SEQUENCE_BATCH = 4, 30, 6, 7, 5


class Abandoned(Exception):
    """A writer's transaction that rolls back: its change must never reach the feed."""


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    with own_app(tmp_path_factory, "feed_cursor",
                 FINANCE_RATE_LIMIT="1000000 per minute") as application:
        yield application


def _setup(app) -> tuple[list[int], dict[str, str], int]:
    """Contracts of a supplier consenting to a bank, sequenced; the bank's header, the head."""
    with app.app_context():
        session = db.session
        deal = confirmed_orders(session, count=ORDERS)
        bank = make_bank(session)
        consent.grant(session, deal.supplier, bank_org_id=bank.organisation_id, scope="all",
                      expires_on=local_today() + timedelta(days=30))
        _token, secret = issue_token(session, actor_for(session.get_one(User, bank.user_id)),
                                     name="feed reader", scopes=["financing:read"])
        while sequence_changes(session):
            pass
        head = int(session.scalar(select(func.max(FeedChange.seq))) or 0)
        order_ids = [o.id for o in deal.orders]
        session.commit()
        session.remove()
    return order_ids, {"Authorization": f"Bearer {secret}"}, head


def test_a_reader_paging_during_concurrent_writes_sees_every_change_once(committed_app):
    order_ids, headers, start = _setup(committed_app)
    expected: dict[str, int] = {}  # step -> order id, of the changes that committed
    errors: list[BaseException] = []
    lock = threading.Lock()
    written, sequenced = threading.Event(), threading.Event()
    barrier = threading.Barrier(WRITERS + 3)

    def writer(number: int) -> None:
        barrier.wait()
        try:
            with committed_app.app_context():
                for change in range(CHANGES):
                    step, order_id = f"w{number}-{change}", order_ids[(number + change) % ORDERS]
                    try:
                        with unit_of_work(db.session, remove=True) as session:
                            announce(session, [order_id], step=step)
                            if change % 10 == 9:
                                raise Abandoned()
                    except Abandoned:
                        continue
                    with lock:
                        expected[step] = order_id
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def sequencer() -> None:
        barrier.wait()
        try:
            with committed_app.app_context():
                while True:
                    done = written.is_set()  # before the batch: nothing is written after it
                    with unit_of_work(db.session, remove=True) as session:
                        count = sequence_changes(session, limit=SEQUENCE_BATCH)
                    if done and not count:
                        return
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    seen: list[dict] = []

    def reader() -> None:
        barrier.wait()
        client = committed_app.test_client()
        cursor = start
        try:
            while True:
                done = sequenced.is_set()  # before the pull: nothing is numbered after it
                answer = client.get(f"/api/v1/finance/contracts?after={cursor}&limit={PAGE}",
                                    headers=headers)
                assert answer.status_code == 200, answer.get_data(as_text=True)
                page = answer.json
                seen.extend(page["items"])
                assert page["next_after"] >= cursor
                cursor = page["next_after"]
                if done and not page["has_more"]:
                    return
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    sequencers = [threading.Thread(target=sequencer) for _ in range(2)]
    reading = threading.Thread(target=reader)
    for thread in (*writers, *sequencers, reading):
        thread.start()
    for thread in writers:
        thread.join()
    written.set()
    for thread in sequencers:
        thread.join()
    sequenced.set()
    reading.join()

    assert errors == []
    seqs = [item["seq"] for item in seen]
    assert seqs == list(range(start + 1, start + len(expected) + 1))  # no gap, no repeat
    assert len(expected) == WRITERS * (CHANGES - CHANGES // 10)
    assert {item["step"]: item["contract"]["order_id"] for item in seen} == expected
    with committed_app.app_context():
        assert db.session.scalar(select(func.max(FeedChange.seq))) == seqs[-1]
        db.session.remove()
