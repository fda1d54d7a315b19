"""An offer the inspection freezes, or the operator freezes from its case, leaves search at
the next run of the search sync job (the real Tantivy index, through the outbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from catalog.models import Offer
from catalog.search import SearchQuery, make_backend
from catalog.sync import TOPICS
from mall.core.clock import frozen_clock, now
from mall.core.jobs import REGISTRY, run_job
from mall.core.outbox import OutboxEvent
from supervision.prices.cases import freeze_case
from supervision.prices.models import PriceCase
from supervision.prices.services import run_inspection
from tests.factories.suppliers import operator_actor

SYNC = "catalog.search_sync"


@pytest.fixture
def index(app, tmp_path, monkeypatch):
    backend = make_backend("tantivy", var_dir=tmp_path)
    backend.ensure_index()
    monkeypatch.setitem(app.extensions, "search", lambda: backend)
    return backend


@pytest.fixture
def sync_once(app, session, caplog):
    """Run the search sync job once, one interval later, as the scheduler would."""
    with frozen_clock(now()) as clock:
        def run() -> None:
            session.flush()
            clock[0] += timedelta(seconds=REGISTRY[SYNC].seconds)
            caplog.clear()
            run_job(app, SYNC)
            assert not [r for r in caplog.records if r.getMessage() == f"job {SYNC} failed"]
            left = session.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.processed_at.is_(None), OutboxEvent.topic.in_(TOPICS)))
            assert left == 0

        yield run


def _found(backend, text: str) -> list[int]:
    return [hit.offer_id for hit in backend.search(SearchQuery(text=text)).hits]


def test_an_offer_frozen_by_the_inspection_is_gone_from_search(session, market, index,
                                                               sync_once):
    frozen, kept = market.product([13_000, 9_000], reference=10_000)
    sync_once()
    text = _model_of(session, frozen)
    assert sorted(_found(index, text)) == sorted([frozen, kept])
    run_inspection(session)
    assert sorted(_found(index, text)) == sorted([frozen, kept])  # the index waits for the job
    sync_once()
    assert _found(index, text) == [kept]


def test_an_offer_the_operator_freezes_from_its_case_is_gone_from_search(session, market, index,
                                                                         sync_once):
    offer_id = market.product([11_000], reference=10_000)[0]
    text = _model_of(session, offer_id)
    run_inspection(session)
    sync_once()
    assert _found(index, text) == [offer_id]  # an open case leaves the offer on sale
    case_id = session.scalar(select(PriceCase.id).where(PriceCase.offer_id == offer_id))
    freeze_case(session, operator_actor(session), case_id, note="高于参考价")
    sync_once()
    assert _found(index, text) == []


def _model_of(session, offer_id: int) -> str:
    return session.get_one(Offer, offer_id).product.model
