"""The financing sweeps: numbering contract changes for the banks' feed (every 2 s)."""

from __future__ import annotations

import financing.webhook_jobs  # noqa: F401 - registers financing.webhooks (delivery every 10 s)
from financing.feed import sequence_changes
from mall.core.jobs import job


@job(id="financing.sequence", seconds=2)
def sequence(session) -> None:
    sequence_changes(session)
