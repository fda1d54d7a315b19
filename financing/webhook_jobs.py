"""The webhook sweep: deliver the due events to the banks (every 10 s).

Claim, commit, send, record (financing.webhooks, module doc): the commit after the claim
releases the row locks, so that no delivery row (and no order) stays locked while a bank
takes its time to answer; the lease stops a second scheduler sending the same attempt."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from time import monotonic

from sqlalchemy.orm import Session

from financing.webhooks import BATCH, Post, claim_due, post, record_outcomes, send
from mall.core.jobs import job

PARALLEL_POSTS = 10  # a batch of 100 takes at most ~10 × 8 s even if every bank times out
DRAIN_SECONDS = 30  # a run keeps taking full batches this long


def deliver_due(session: Session, *, transport: Post = post,
                rand: Callable[[], float] = random.random, limit: int = BATCH) -> int:
    """Deliver the due events a batch at a time while full batches come; how many attempts.
    Commits after each claim and each batch's outcomes."""
    started, total = monotonic(), 0
    while True:
        claimed = claim_due(session, limit=limit)
        session.commit()  # the lease holds the rows now; no lock is held while posting
        if not claimed:
            return total
        with ThreadPoolExecutor(max_workers=min(PARALLEL_POSTS, len(claimed))) as pool:
            outcomes = list(pool.map(lambda c: send(c, transport=transport), claimed))
        record_outcomes(session, outcomes, rand=rand)
        session.commit()
        total += len(claimed)
        if len(claimed) < limit or monotonic() - started > DRAIN_SECONDS:
            return total


@job(id="financing.webhooks", seconds=10)
def deliver_webhooks(session: Session) -> None:
    deliver_due(session)
