"""The search index follows the database through the outbox.

The sync job is run once, as the scheduler runs it, on a frozen clock moved by one interval:
what a service changed is in the index after that run and not before. One test runs the
real scheduler and gives it ten seconds.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from sqlalchemy import func, select

from catalog.search import SearchQuery, make_backend
from catalog.search.documents import count_documents
from catalog.sync import TOPICS, reindex
from mall.core.clock import frozen_clock, now
from mall.core.jobs import REGISTRY, run_job, start_scheduler
from mall.core.outbox import OutboxEvent
from suppliers.admission import reinstate_admission, suspend_admission
from suppliers.listings import PriceStockUpdate, save_offers, update_prices
from suppliers.models import CategoryAdmission
from suppliers.moderation import decide_offers
from tests.conftest import own_app
from tests.factories.suppliers import PAPER, admitted_supplier, offer_input, operator_actor

SYNC = "catalog.search_sync"
DEADLINE = 10  # seconds from a committed change to the index, with the scheduler running


@pytest.fixture
def index(app, tmp_path, monkeypatch):
    """An empty index of this test's own, which the app's jobs write to."""
    backend = make_backend("tantivy", var_dir=tmp_path)
    backend.ensure_index()
    monkeypatch.setitem(app.extensions, "search", lambda: backend)
    return backend


@pytest.fixture
def clock():
    """The mall's clock, frozen; the test moves it."""
    with frozen_clock(now()) as cell:
        yield cell


@pytest.fixture
def sync_once(app, session, clock, caplog):
    """Run the sync job once, one interval later, as the scheduler would."""

    def run() -> None:
        session.flush()
        clock[0] += timedelta(seconds=REGISTRY[SYNC].seconds)
        caplog.clear()
        run_job(app, SYNC)
        assert not _failures(caplog)
        left = session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.processed_at.is_(None), OutboxEvent.topic.in_(TOPICS)))
        assert left == 0, f"{left} outbox events left after one run of {SYNC}"

    return run


def _failures(caplog) -> list[str]:
    """The tracebacks of failed runs of the sync job (run_job logs them and goes on)."""
    return [r.exc_text or r.getMessage() for r in caplog.records
            if r.getMessage() == f"job {SYNC} failed"]


def found(backend, text: str) -> list[int]:
    """Offer ids the index finds for ``text``."""
    return [hit.offer_id for hit in backend.search(SearchQuery(text=text)).hits]


def _save(session, supplier, item) -> int:
    return save_offers(session, supplier, supplier_id=supplier.organisation_id,
                       items=[item]).results[0].offer_id


def test_a_new_listing_is_found_and_a_frozen_one_gone_after_the_next_sync(
        session, index, sync_once):
    _user, supplier = admitted_supplier(session)
    offer_id = _save(session, supplier, offer_input("SYNC-1", brand="齐心（Comix）",
                                                    model="QX-SYNC-88"))
    assert found(index, "QX-SYNC-88") == []
    sync_once()
    assert found(index, "QX-SYNC-88") == [offer_id]

    decide_offers(session, operator_actor(session), offer_ids=[offer_id], action="freeze",
                  reason="价格异常")
    assert found(index, "QX-SYNC-88") == [offer_id]  # the index waits for the job
    sync_once()
    assert found(index, "QX-SYNC-88") == []


def test_a_suspended_supplier_vanishes_from_search_and_returns_on_reinstatement(
        session, index, sync_once):
    _user, supplier = admitted_supplier(session, codes=(PAPER,))
    offer_id = _save(session, supplier, offer_input("SYNC-2", model="QX-SUSP-77"))
    admission_id = session.scalar(select(CategoryAdmission.id).where(
        CategoryAdmission.supplier_id == supplier.organisation_id))
    operator = operator_actor(session)
    sync_once()
    assert found(index, "QX-SUSP-77") == [offer_id]

    suspend_admission(session, operator, admission_id=admission_id, reason="整改")
    sync_once()
    assert found(index, "QX-SUSP-77") == []

    reinstate_admission(session, operator, admission_id=admission_id)
    sync_once()
    assert found(index, "QX-SUSP-77") == [offer_id]


def test_a_price_change_through_the_service_reaches_the_index(session, index, sync_once):
    _user, supplier = admitted_supplier(session)
    _save(session, supplier, offer_input("SYNC-3", model="QX-PRICE-55", price_fen=3000,
                                         reference=4000))

    def price() -> int | None:
        hits = index.search(SearchQuery(text="QX-PRICE-55")).hits
        return hits[0].price_fen if hits else None

    sync_once()
    assert price() == 3000
    update_prices(session, supplier, supplier_id=supplier.organisation_id,
                  updates=[PriceStockUpdate("SYNC-3", price_fen=2790)])
    assert price() == 3000
    sync_once()
    assert price() == 2790


def test_reindex_rebuilds_everything_visible(session, index):
    _user, supplier = admitted_supplier(session)
    shown, also_shown, frozen = (
        _save(session, supplier, offer_input(f"REIDX-{n}", model=f"QX-REIDX-{n}"))
        for n in (1, 2, 3))
    decide_offers(session, operator_actor(session), offer_ids=[frozen], action="freeze",
                  reason="价格异常")
    session.flush()

    written = reindex(session, index)

    assert written == count_documents(session) == index.count()
    assert written >= 2
    assert found(index, "QX-REIDX-1") == [shown]
    assert found(index, "QX-REIDX-2") == [also_shown]
    assert found(index, "QX-REIDX-3") == []


# -- the real scheduler -----------------------------------------------------------------------

class SyncRuns:
    """The scheduler's finished runs of the sync job, which a test can wait for."""

    def __init__(self, scheduler) -> None:
        self._changed = threading.Condition()
        self._scheduled_at: list[datetime] = []
        scheduler.add_listener(self._heard, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _heard(self, event) -> None:
        if event.job_id == SYNC:
            with self._changed:
                self._scheduled_at.append(event.scheduled_run_time)
                self._changed.notify_all()

    def wait_for_a_run_after(self, moment: datetime, what: str) -> None:
        """Wait, at most DEADLINE seconds, for a run that started after ``moment`` to end."""
        with self._changed:
            if not self._changed.wait_for(
                    lambda: any(at > moment for at in self._scheduled_at), timeout=DEADLINE):
                pytest.fail(f"{what}: the scheduler finished no run of {SYNC} begun after "
                            f"the change within {DEADLINE} s")


@pytest.fixture
def scheduled(tmp_path_factory):
    """An app on its own committed database with the scheduler and all its jobs running."""
    with own_app(tmp_path_factory, "sync") as application:
        scheduler = start_scheduler(application)
        try:
            yield application, SyncRuns(scheduler)
        finally:
            scheduler.shutdown(wait=True)


def test_with_the_scheduler_running_a_frozen_listing_leaves_search_within_ten_seconds(
        scheduled, caplog):
    from mall.extensions import db

    app, runs = scheduled
    backend = app.extensions["search"]()
    with app.app_context():
        _user, supplier = admitted_supplier(db.session)
        offer_id = _save(db.session, supplier, offer_input("SYNC-9", model="QX-LIVE-99"))
        operator = operator_actor(db.session)
        db.session.commit()
    runs.wait_for_a_run_after(datetime.now(UTC), "the new listing")
    assert not _failures(caplog)
    assert found(backend, "QX-LIVE-99") == [offer_id], "the sync ran but missed the new listing"

    with app.app_context():
        decide_offers(db.session, operator, offer_ids=[offer_id], action="freeze",
                      reason="价格异常")
        db.session.commit()
    runs.wait_for_a_run_after(datetime.now(UTC), "the frozen listing")
    assert not _failures(caplog)
    assert found(backend, "QX-LIVE-99") == [], "the sync ran but the frozen listing is still found"
