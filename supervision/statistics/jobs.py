"""Timed job of the statistics: recount the months whose orders or rounds changed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mall.core.jobs import job
from supervision.statistics import aggregates

REFRESH_SECONDS = 300


@job(id="supervision.statistics", seconds=REFRESH_SECONDS)
def refresh_statistics(session: Session) -> None:
    """Keep the statistics' monthly facts up to date (every five minutes)."""
    aggregates.refresh(session)
