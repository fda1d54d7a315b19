"""Two schedulers closing the same due rounds at once: every round closed exactly once.

Runs with real commits on its own database (SQLite file or PostgreSQL), one thread per
scheduler, each with its own session and transactions, as two scheduler processes would.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bidding_rounds import closing
from bidding_rounds.models import Award, BiddingRound, RoundStatus
from mall.core.clock import frozen_clock, now
from mall.core.unit_of_work import unit_of_work
from mall.extensions import db
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts.models import Notice, NoticeKind
from tests.conftest import own_app
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds

ROUNDS, WITH_QUOTES = 24, 16


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    with own_app(tmp_path_factory, "closing_race") as application:
        yield application


def test_two_schedulers_racing_close_each_round_once(committed_app):
    start = now()
    with frozen_clock(start) as clock:
        with committed_app.app_context():
            session = db.session
            unit = unit_for_rounds(session, amount_fen=10**12)
            bidders = [make_bidder(session) for _ in range(3)]
            ids = []
            for n in range(ROUNDS):
                bidding_round = paper_round(session, unit, ceiling_fen=1_000_000)
                if n < WITH_QUOTES:  # the others fail for too few quotes
                    for bidder, price in zip(bidders, (9_000, 9_100, 9_200), strict=True):
                        quote(session, bidder, bidding_round, price)
                ids.append(bidding_round.id)
            deadline = bidding_round.deadline
            session.commit()
            session.remove()

        clock[0] = deadline + timedelta(seconds=1)
        closed: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        barrier = threading.Barrier(2)

        def scheduler() -> None:
            barrier.wait()
            try:
                with committed_app.app_context():
                    while True:  # batches of 5, as the job would run them one after another
                        with unit_of_work(db.session, remove=True) as s:
                            count = closing.close_due_rounds(s, limit=5)
                        if not count:
                            break
                        with lock:
                            closed.append(count)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert sum(closed) == ROUNDS  # none closed twice, none skipped
    with committed_app.app_context():
        session = db.session
        statuses = dict(session.execute(select(BiddingRound.status, func.count())
                                        .group_by(BiddingRound.status)).all())
        assert statuses == {RoundStatus.AWARDED: WITH_QUOTES,
                            RoundStatus.FAILED: ROUNDS - WITH_QUOTES}
        per_round = session.execute(select(Award.round_id, func.count())
                                    .group_by(Award.round_id)).all()
        assert len(per_round) == WITH_QUOTES and {n for _, n in per_round} == {1}
        results = session.scalar(select(func.count()).select_from(Notice)
                                 .where(Notice.kind == NoticeKind.ROUND_RESULT))
        assert results == WITH_QUOTES
        line = session.get_one(BudgetLine, unit.line_id)
        # The failed rounds gave their ceilings back; the awarded ones still hold theirs.
        assert line.reserved_fen == WITH_QUOTES * 1_000_000
        session.remove()
