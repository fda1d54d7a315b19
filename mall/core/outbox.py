"""The transactional outbox: changes that others must hear about, written with the change.

A service that changes what buyers may find (an offer's price, stock or status, a
supplier's suspension, a category switched off) adds an outbox row in the same
transaction; if the transaction rolls back, so does the row. Consumers (the search
index sync) drain rows in id order and mark them processed, so nothing is lost and a
consumer restart repeats at most one batch (consumers are idempotent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from mall.core.clock import now
from mall.core.db import Base, claiming


class OutboxEvent(Base):
    """One change to pass on: a topic and a small JSON payload (ids, not whole objects)."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    processed_at: Mapped[datetime | None] = mapped_column(index=True)


def emit(session: Session, topic: str, payload: dict[str, Any]) -> None:
    """Add an event to the caller's transaction."""
    session.add(OutboxEvent(topic=topic, payload=payload, created_at=now()))


def claim_batch(session: Session, *, topics: tuple[str, ...], limit: int = 500
                ) -> list[OutboxEvent]:
    """The oldest unprocessed events, locked so a second consumer skips them (PostgreSQL);
    SQLite serialises writers with BEGIN IMMEDIATE, so the plain select is safe there."""
    query = (select(OutboxEvent).where(OutboxEvent.processed_at.is_(None),
                                       OutboxEvent.topic.in_(topics))
             .order_by(OutboxEvent.id).limit(limit))
    return list(session.scalars(claiming(query, session)))


def mark_processed(session: Session, events: list[OutboxEvent]) -> None:
    """Mark events done in the consumer's transaction."""
    if events:
        session.execute(update(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in events]))
                        .values(processed_at=now()))
