"""Timed jobs of the catalogue: the search index sync."""

from flask import current_app
from sqlalchemy.orm import Session

from catalog.sync import drain_outbox
from mall.core.jobs import job


@job(id="catalog.search_sync", seconds=2)
def sync_search_index(session: Session) -> None:
    """Drain the outbox into the search index until it is empty (batches of 500)."""
    backend = current_app.extensions["search"]()
    for _ in range(20):  # bounded: a job run never holds the scheduler for long
        if not drain_outbox(session, backend):
            break
        session.commit()
