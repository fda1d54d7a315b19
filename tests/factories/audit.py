"""Audit trail entries, sealed into the chain, and the rewrite an attacker would make."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from mall.core.audit import AuditChainHead, AuditEvent, link_hash, record_event, seal_pending
from mall.core.auth import OrganisationKind
from tests.factories.accounts import make_member

DAY_ONE = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)  # the day of the first anchor (10:00 Shanghai)


def record_sealed(session, n: int) -> list[AuditEvent]:
    """``n`` approvals by an operator, recorded and sealed into the chain."""
    user = make_member(session, OrganisationKind.OPERATOR)
    events = [record_event(session, action="order.approved", object_type="order", object_id=i,
                           actor_user_id=user.id, actor_organisation_id=user.organisation_id,
                           data={"amount_fen": 1000 * i})
              for i in range(n)]
    session.flush()
    seal_pending(session)
    return events


def rewrite_entry(session, event: AuditEvent, **values) -> None:
    """What an attacker with write access to the database does: edit an entry, then
    recompute its hash, every later link and the head row, so the chain verifies."""
    session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(**values))
    session.expire_all()
    prev = event.prev_hash
    for later in session.scalars(select(AuditEvent).where(AuditEvent.seq >= event.seq)
                                 .order_by(AuditEvent.seq)):
        later.prev_hash = prev
        later.hash = prev = link_hash(prev, later)
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(hash=prev))
    session.flush()
    session.expire_all()
