"""The performance sweep: every hour the current month's scores are computed again, and in
the first days of a month the last month's too (its late acceptances and ratings)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mall.core.clock import local_today
from mall.core.jobs import job
from supervision.performance.services import compute_month, month_start, previous_month

CLOSING_DAYS = 5  # the previous month is computed again during the first days of a month


def refresh_scores(session: Session, *, today: date) -> int:
    """Compute the current month (and, early in a month, the previous one); idempotent."""
    months = [month_start(today)]
    if today.day <= CLOSING_DAYS:
        months.append(previous_month(today))
    return sum(compute_month(session, month=month) for month in months)


@job(id="supervision.performance", seconds=3600)
def performance(session: Session) -> None:
    refresh_scores(session, today=local_today())
