"""Demo data of statistics: the facts counted from the demo's orders and rounds."""

from __future__ import annotations

from sqlalchemy.orm import Session

from supervision.statistics.aggregates import refresh


def seed_statistics(session: Session) -> str:
    """Count the demo's orders and rounds into the statistics' facts (every month); commits.
    Returns a one-line summary."""
    done = refresh(session, full=True)
    session.commit()
    return (f"statistics: {len(done.months)} months counted, {done.order_rows} order facts, "
            f"{done.round_rows} round facts")
