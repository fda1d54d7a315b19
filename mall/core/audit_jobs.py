"""The jobs of the audit trail: seal committed events into the hash chain every few seconds,
and publish the day's signed head (its anchor outside the database) once a day."""

from flask import current_app
from sqlalchemy.orm import Session

from mall.core.audit import seal_pending
from mall.core.audit_anchor import AnchorKeys, publish_anchor
from mall.core.jobs import job


@job(id="audit.seal", seconds=5)
def seal_audit_events(session: Session) -> None:
    """Seal whatever business transactions have committed since the last run."""
    seal_pending(session)


@job(id="audit.anchor", seconds=600)
def publish_audit_anchor(session: Session) -> None:
    """Sign and publish today's chain head the first time this runs each day (idempotent)."""
    publish_anchor(session, AnchorKeys.from_config(current_app.config))
