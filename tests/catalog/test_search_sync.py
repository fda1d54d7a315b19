"""The search index follows the database through the outbox, with the real scheduler running."""

import time

import pytest

from catalog.search import SearchQuery
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind
from tests.conftest import build_app, dispose, make_database_url, migrate_and_load
from tests.factories.accounts import make_member
from tests.factories.suppliers import admitted_supplier, offer_input


@pytest.fixture(scope="module")
def synced_app(tmp_path_factory):
    """An app on its own committed database with the scheduler (and its sync job) running."""
    tmp = tmp_path_factory.mktemp("sync")
    application = build_app(make_database_url(tmp, "sync"), tmp / "var")
    migrate_and_load(application)
    from mall.core.jobs import start_scheduler

    scheduler = start_scheduler(application)
    yield application
    scheduler.shutdown(wait=True)
    dispose(application)


def _wait_until(condition, timeout: float) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    pytest.fail(f"not within {timeout} s")


def _index(app, offer_ids) -> None:
    """Put new offers in the index at once (their own sync is the listings' business)."""
    from catalog.search.documents import refresh_offers
    from mall.extensions import db

    refresh_offers(db.session, app.extensions["search"](), offer_ids=offer_ids)


def _titles(app, text: str) -> list[str]:
    result = app.extensions["search"]().search(SearchQuery(text=text))
    return [hit.title for hit in result.hits]


def test_a_frozen_listing_disappears_from_search_within_ten_seconds(synced_app):
    from mall.extensions import db
    from suppliers.listings import save_offers
    from suppliers.moderation import decide_offers

    with synced_app.app_context():
        _user, supplier = admitted_supplier(db.session)
        item = offer_input("SYNC-1", brand="齐心（Comix）", model="QX-SYNC-88")
        offer_id = save_offers(db.session, supplier, supplier_id=supplier.organisation_id,
                               items=[item]).results[0].offer_id
        operator = actor_for(make_member(db.session, OrganisationKind.OPERATOR))
        db.session.commit()
    # A new listing reaches search through the outbox too.
    _wait_until(lambda: any("QX-SYNC-88" in t for t in _titles(synced_app, "QX-SYNC-88")), 10)

    with synced_app.app_context():
        decide_offers(db.session, operator, offer_ids=[offer_id], action="freeze",
                      reason="价格异常")
        db.session.commit()
    elapsed = _wait_until(lambda: not _titles(synced_app, "QX-SYNC-88"), 10)
    assert elapsed < 10


def test_a_suspended_supplier_vanishes_from_search_and_returns_on_reinstatement(synced_app):
    from sqlalchemy import select

    from mall.extensions import db
    from suppliers.admission import reinstate_admission, suspend_admission
    from suppliers.listings import save_offers
    from suppliers.models import CategoryAdmission
    from tests.factories.suppliers import PAPER, operator_actor

    with synced_app.app_context():
        _user, supplier = admitted_supplier(db.session, codes=(PAPER,))
        offer_id = save_offers(db.session, supplier, supplier_id=supplier.organisation_id,
                               items=[offer_input("SYNC-2", model="QX-SUSP-77")]
                               ).results[0].offer_id
        admission_id = db.session.scalar(select(CategoryAdmission.id).where(
            CategoryAdmission.supplier_id == supplier.organisation_id))
        operator = operator_actor(db.session)
        db.session.commit()
        _index(synced_app, [offer_id])
    _wait_until(lambda: _titles(synced_app, "QX-SUSP-77"), 10)
    with synced_app.app_context():
        suspend_admission(db.session, operator, admission_id=admission_id, reason="整改")
        db.session.commit()
    _wait_until(lambda: not _titles(synced_app, "QX-SUSP-77"), 10)
    with synced_app.app_context():
        reinstate_admission(db.session, operator, admission_id=admission_id)
        db.session.commit()
    _wait_until(lambda: _titles(synced_app, "QX-SUSP-77"), 10)


def test_reindex_rebuilds_everything_visible(synced_app):
    from catalog.sync import reindex
    from mall.extensions import db

    with synced_app.app_context():
        backend = synced_app.extensions["search"]()
        written = reindex(db.session, backend)
        from catalog.search.documents import count_documents

        assert written == count_documents(db.session) == backend.count()


def test_a_price_change_through_the_service_reaches_the_index(synced_app):
    from mall.extensions import db
    from suppliers.listings import PriceStockUpdate, save_offers, update_prices

    with synced_app.app_context():
        _user, supplier = admitted_supplier(db.session)
        save_offers(db.session, supplier, supplier_id=supplier.organisation_id,
                    items=[offer_input("SYNC-3", model="QX-PRICE-55", price_fen=3000,
                                       reference=4000)])
        db.session.commit()

    def price():
        hits = synced_app.extensions["search"]().search(SearchQuery(text="QX-PRICE-55")).hits
        return hits[0].price_fen if hits else None

    _wait_until(lambda: price() == 3000, 10)
    with synced_app.app_context():
        update_prices(db.session, supplier, supplier_id=supplier.organisation_id,
                      updates=[PriceStockUpdate("SYNC-3", price_fen=2790)])
        db.session.commit()
    _wait_until(lambda: price() == 2790, 10)
