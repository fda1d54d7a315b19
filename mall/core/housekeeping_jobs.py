"""Jobs that keep the kernel's own tables from growing without end."""

from sqlalchemy.orm import Session

from mall.core.idempotency import purge_expired
from mall.core.jobs import job


@job(id="core.idempotency_purge", seconds=3600)
def purge_idempotency_records(session: Session) -> None:
    """Forget stored answers to Idempotency-Keys after a week (mall.core.idempotency.RETENTION)."""
    purge_expired(session)
