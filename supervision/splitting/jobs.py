"""Jobs of anti-splitting: the running totals kept from the orders' changes, and a daily
sweep of the whole fiscal year (thresholds may have moved; an event may have come late)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mall.core.clock import local_today
from mall.core.jobs import job
from supervision.splitting.totals import BATCH, process_changes, sweep_year


@job(id="supervision.splitting_totals", seconds=60)
def keep_totals(session: Session) -> None:
    """Recompute the keys of the orders changed since the last run, raising alerts due."""
    while process_changes(session) == BATCH:  # a backlog: on to the next batch
        pass


@job(id="supervision.splitting_sweep", seconds=24 * 3600)
def sweep(session: Session) -> None:
    """Recompute every key of this fiscal year against today's thresholds."""
    sweep_year(session, local_today().year)
