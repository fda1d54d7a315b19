"""Keeping the search index in step with the database, through the transactional outbox.

Services that change what buyers may find emit one of two topics in their transaction:
``offers.changed`` with the offer ids, or ``offers.scope`` naming a supplier and/or a
category whose offers all changed visibility (a suspension, a category switched off).
The sync job turns both into offer ids and refreshes them in the index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Offer, Product
from catalog.search import SearchBackend
from catalog.search.documents import count_documents, iter_documents, refresh_offers
from mall.core.outbox import OutboxEvent, claim_batch, emit, mark_processed

CHANGED, SCOPE, SYNONYMS = "offers.changed", "offers.scope", "search.synonyms"
TOPICS = (CHANGED, SCOPE, SYNONYMS)


def offers_changed(session: Session, offer_ids: Iterable[int]) -> None:
    """Tell the index that these offers changed (price, stock, status, product)."""
    ids = sorted(set(offer_ids))
    if ids:
        emit(session, CHANGED, {"offer_ids": ids})


def scope_changed(session: Session, *, supplier_id: int | None = None,
                  category_id: int | None = None) -> None:
    """Tell the index that every offer of a supplier and/or category may have changed."""
    emit(session, SCOPE, {"supplier_id": supplier_id, "category_id": category_id})


def _scope_offer_ids(session: Session, payload: dict) -> list[int]:
    query = select(Offer.id)
    if payload.get("category_id") is not None:
        query = query.join(Product, Product.id == Offer.product_id).where(
            Product.category_id == payload["category_id"])
    if payload.get("supplier_id") is not None:
        query = query.where(Offer.supplier_id == payload["supplier_id"])
    return list(session.scalars(query))


def offer_ids_of(session: Session, events: list[OutboxEvent]) -> set[int]:
    """Every offer id the events name, directly or through a scope."""
    ids: set[int] = set()
    for event in events:
        if event.topic == CHANGED:
            ids.update(event.payload["offer_ids"])
        elif event.topic == SCOPE:
            ids.update(_scope_offer_ids(session, event.payload))
    return ids


def drain_outbox(session: Session, backend: SearchBackend, *, limit: int = 500) -> int:
    """Apply one batch of outbox events to the index; returns how many events."""
    events = claim_batch(session, topics=TOPICS, limit=limit)
    if not events:
        return 0
    if any(e.topic == SYNONYMS for e in events):
        apply_synonyms(session, backend, even_empty=True)
    refresh_offers(session, backend, offer_ids=offer_ids_of(session, events))
    mark_processed(session, events)
    return len(events)


def apply_synonyms(session: Session, backend: SearchBackend, *, even_empty: bool = False) -> None:
    """Give the engine the operator's synonym list (an empty list only when the operator
    emptied it, not merely because the defaults were never loaded)."""
    from catalog.synonyms import synonym_groups

    groups = synonym_groups(session)
    if groups or even_empty:
        backend.set_synonyms(groups)


def reindex(session: Session, backend: SearchBackend, *,
            progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index into a fresh one and switch over; then replay the changes
    that arrived meanwhile (they were written to the old index only)."""
    start = session.scalar(select(func.max(OutboxEvent.id))) or 0
    apply_synonyms(session, backend)

    def documents():
        for count, doc in enumerate(iter_documents(session), start=1):
            if progress and count % 5000 == 0:
                progress(5000)
            yield doc

    written = backend.build_fresh(documents())
    late = list(session.scalars(select(OutboxEvent).where(OutboxEvent.id > start,
                                                          OutboxEvent.topic.in_(TOPICS))))
    if late:
        refresh_offers(session, backend, offer_ids=offer_ids_of(session, late))
    return written


__all__ = ["count_documents", "drain_outbox", "offers_changed", "reindex", "scope_changed"]
