"""The bidding sweeps: closing rounds at their deadline (every few seconds, so that a round
closes within seconds of it), passing on awards not confirmed in time, and the reminders
before the challenge deadlines (those of complaints: bidding_rounds.complaint_reminders)."""

from __future__ import annotations

from time import monotonic

from bidding_rounds.awards import lapse_due_awards
from bidding_rounds.challenge_reminders import remind_answers, remind_filing
from bidding_rounds.closing import BATCH, close_due_rounds
from bidding_rounds.complaint_reminders import remind_complaints  # noqa: F401  (registers)
from mall.core.clock import now
from mall.core.jobs import job

CLOSE_EVERY_SECONDS = 5
DRAIN_SECONDS = 30  # a run keeps closing full batches this long (the next run starts after)


@job(id="bidding_rounds.close", seconds=CLOSE_EVERY_SECONDS)
def close_rounds(session) -> None:
    """Close due rounds a batch at a time, each batch committed, while full batches keep
    coming (thousands due in one minute), so that none waits for the next run."""
    started = monotonic()
    while close_due_rounds(session) == BATCH and monotonic() - started < DRAIN_SECONDS:
        session.commit()


@job(id="bidding_rounds.awards", seconds=60)
def lapse_awards(session) -> None:
    lapse_due_awards(session)


@job(id="bidding_rounds.challenge_reminders", seconds=15 * 60)
def remind_challenges(session) -> None:
    """A day before a challenge period ends (to the suppliers that quoted) and before a
    challenge's answer is due (to the operator)."""
    moment = now()
    remind_filing(session, moment)
    remind_answers(session, moment)
