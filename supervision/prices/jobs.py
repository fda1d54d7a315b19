"""The price monitoring sweep: the daily inspection of every listed offer."""

from __future__ import annotations

from mall.core.jobs import job
from supervision.prices.services import run_inspection


@job(id="supervision.price_inspection", seconds=86400)
def price_inspection(session) -> None:
    run_inspection(session)
