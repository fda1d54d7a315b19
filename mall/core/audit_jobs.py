"""The job that seals committed audit events into the hash chain every few seconds."""

from mall.core.audit import seal_pending
from mall.core.jobs import job


@job(id="audit.seal", seconds=5)
def seal_audit_events(session) -> None:
    """Seal whatever business transactions have committed since the last run."""
    seal_pending(session)
