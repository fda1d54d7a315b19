"""The tamper-evident audit trail: events recorded in business transactions, sealed into a hash chain.

Appending to a chain inside every business transaction would serialise all writers,
and two concurrent transactions could link to the same predecessor. So services only
*record* an event (an unsealed row, committed or rolled back with their work), and
``seal_pending`` links the committed events into the chain in one ordered place: it
takes the chain head under a lock, gives each event the next sequence number and the
SHA-256 of (previous hash + its canonical content). ``verify_chain`` recomputes it all
and names the first broken link; the head row catches deletion of the newest entries.
Someone who can write the database could still rewrite an entry and recompute every later
hash and the head: the signed daily anchors published outside it (``audit_anchor``) catch
that, since ``verify_chain`` also compares the chain with them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from mall.core.auth import Actor
from mall.core.clock import now
from mall.core.db import Base
from mall.i18n_messages import N_

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One state change that matters (login, role change, approval, order/contract/payment step)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    occurred_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"),
                                                              index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Filled when sealed into the chain.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(Base):
    """The single row holding the newest sealed link; locking it orders the sealers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


def record_event(session: Session, *, action: str, object_type: str, object_id: Any,
                 actor: Actor | None = None, actor_user_id: int | None = None,
                 actor_organisation_id: int | None = None, ip_address: str | None = None,
                 data: dict[str, Any] | None = None) -> AuditEvent:
    """Record an audit event in the caller's transaction; it is sealed after commit."""
    event = AuditEvent(
        occurred_at=now(),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        actor_user_id=actor.user_id if actor else actor_user_id,
        actor_organisation_id=actor.organisation_id if actor else actor_organisation_id,
        ip_address=ip_address,
        data=data or {},
    )
    session.add(event)
    return event


def _content(event: AuditEvent) -> str:
    """The canonical text that an event's hash covers."""
    occurred = event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(
        [event.seq, occurred, event.action, event.object_type, event.object_id,
         event.actor_user_id, event.actor_organisation_id, event.ip_address, event.data],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )


def exported_entry(event: AuditEvent) -> dict[str, Any]:
    """An entry as an outside party checks it: the fields its hash covers, written as
    ``_content`` writes them (the time to the microsecond, UTC), with its links."""
    return {"id": event.id, "seq": event.seq,
            "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "action": event.action, "object_type": event.object_type,
            "object_id": event.object_id, "actor_user_id": event.actor_user_id,
            "actor_organisation_id": event.actor_organisation_id,
            "ip_address": event.ip_address, "data": event.data,
            "prev_hash": event.prev_hash, "hash": event.hash}


def link_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _content(event)).encode()).hexdigest()


def _lock_head(session: Session) -> AuditChainHead:
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditChainHead(id=1, seq=0, hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


def seal_pending(session: Session, *, limit: int = 5000) -> int:
    """Link committed, unsealed events into the chain in id order; returns how many."""
    head = _lock_head(session)
    events = session.execute(
        select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(limit)
    ).scalars().all()
    seq, prev = head.seq, head.hash
    for event in events:
        seq += 1
        event.seq = seq
        event.prev_hash = prev
        event.hash = prev = link_hash(prev, event)
    if events:
        session.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                        .values(seq=seq, hash=prev))
    session.flush()
    return len(events)


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found: ok, or the first broken link and why.

    ``reason`` is the English text (the command line); ``msgid`` and ``params`` let a
    page show it translated.
    """

    ok: bool
    checked: int
    unsealed: int
    broken_seq: int | None = None
    reason: str = ""
    msgid: str = ""
    params: dict[str, Any] = field(default_factory=dict)


class ChainPoint(Protocol):
    """A known link of the chain (a published anchor): entry ``seq`` had hash ``hash``."""

    @property
    def seq(self) -> int: ...

    @property
    def hash(self) -> str: ...

    @property
    def label(self) -> str: ...


def _broken(checked: int, unsealed: int, at: int, msgid: str, **params: Any) -> ChainReport:
    return ChainReport(False, checked, unsealed, at, msgid % params, msgid, params)


def verify_chain(session: Session, *, anchors: Sequence[ChainPoint] = (),
                 since: ChainPoint | None = None, batch: int = 5000) -> ChainReport:
    """Recompute every link; report the first sequence number whose entry was altered or lost.

    With ``anchors`` (heads published outside the database), an entry whose hash differs
    from its anchor is reported too: that is how a chain rewritten with every later hash
    recomputed is caught. With ``since`` the walk starts at that trusted point instead of
    the first entry (the anchoring job checks only what came after the last anchor).
    """
    head = session.get(AuditChainHead, 1)
    unsealed = session.query(AuditEvent).filter(AuditEvent.seq.is_(None)).count()
    by_seq: dict[int, ChainPoint] = {}
    for point in sorted(anchors, key=lambda a: a.seq):
        by_seq.setdefault(point.seq, point)
    matched_seq = 0
    expected_seq, prev, checked = 1, GENESIS_HASH, 0
    if since is not None and since.seq > 0:
        stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == since.seq))
        if stored != since.hash:
            return _broken(0, unsealed, since.seq, N_(
                "entry %(seq)s no longer matches the anchor published for %(anchor)s"),
                seq=since.seq, anchor=since.label)
        expected_seq, prev, matched_seq = since.seq + 1, since.hash, since.seq
    last_seq = expected_seq - 1
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return _broken(checked, unsealed, expected_seq,
                               N_("entry %(seq)s is missing"), seq=expected_seq)
            if event.prev_hash != prev:
                return _broken(checked, unsealed, event.seq,
                               N_("entry %(seq)s does not link to entry %(previous)s"),
                               seq=event.seq, previous=event.seq - 1)
            if link_hash(prev, event) != event.hash:
                return _broken(checked, unsealed, event.seq,
                               N_("entry %(seq)s was altered after sealing"), seq=event.seq)
            anchor = by_seq.get(event.seq)
            if anchor is not None:
                if anchor.hash != event.hash:
                    return _broken(
                        checked, unsealed, event.seq,
                        N_("entry %(seq)s no longer matches the anchor published for "
                           "%(anchor)s: the chain was rewritten at or after entry %(first)s"),
                        seq=event.seq, anchor=anchor.label, first=matched_seq + 1)
                matched_seq = event.seq
            prev = event.hash
            last_seq = event.seq
            expected_seq += 1
            checked += 1
    beyond = [a for seq, a in by_seq.items() if seq > last_seq]
    if beyond:
        return _broken(checked, unsealed, last_seq + 1,
                       N_("entry %(seq)s is missing: the anchor published for %(anchor)s "
                          "covers %(count)s entries, %(last)s remain"),
                       seq=last_seq + 1, anchor=beyond[-1].label, count=beyond[-1].seq,
                       last=last_seq)
    head_seq = head.seq if head else 0
    head_hash = head.hash if head else GENESIS_HASH
    if head_seq != last_seq or head_hash != prev:
        return _broken(checked, unsealed, last_seq + 1,
                       N_("the chain head says %(head)s entries, %(last)s remain: "
                          "entry %(seq)s onwards was deleted"),
                       head=head_seq, last=last_seq, seq=last_seq + 1)
    return ChainReport(True, checked, unsealed)
