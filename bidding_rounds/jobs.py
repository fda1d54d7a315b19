"""The bidding sweeps: closing rounds at their deadline (every few seconds, so that a round
closes within seconds of it) and passing on awards not confirmed in time."""

from __future__ import annotations

from bidding_rounds.awards import lapse_due_awards
from bidding_rounds.closing import close_due_rounds
from mall.core.jobs import job

CLOSE_EVERY_SECONDS = 5


@job(id="bidding_rounds.close", seconds=CLOSE_EVERY_SECONDS)
def close_rounds(session) -> None:
    close_due_rounds(session)


@job(id="bidding_rounds.awards", seconds=60)
def lapse_awards(session) -> None:
    lapse_due_awards(session)
