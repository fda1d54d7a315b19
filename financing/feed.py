"""The banks' feed: every change of a contract, numbered, and the pull through a cursor.

Purchasing writes an outbox event (topic ``order.changed``) with every step of an order, in
the step's transaction. The sequencer (a job every 2 s) takes the events in id order, locks
the feed's head row and gives them consecutive numbers in its own transaction: a bank that
has read number n has seen every number below it, none is skipped (a rolled-back sequencer
gives its numbers back with the head) and none repeats (an event is marked processed in the
same transaction). Two sequencers queue on the head's lock.

A pull returns the changes after the bank's cursor whose contracts it may read now
(``consent.readable``), each with the contract's facts as they are now, and the cursor to
send next; every contract returned is logged as read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, func, insert, literal, select, update
from sqlalchemy.orm import Session

from financing.consent import log_reads, readable, require_bank
from financing.models import AccessRecord, FeedChange, FeedHead
from mall.accounts.models import Organisation
from mall.core.auth import Actor
from mall.core.bulk import insert as bulk_insert
from mall.core.clock import now
from mall.core.db import UTCDateTime
from mall.core.errors import NotFound
from mall.core.outbox import OutboxEvent, claim_batch, mark_processed
from mall.purchasing.contracts.facts import contract_facts
from mall.purchasing.contracts.models import Contract
from mall.purchasing.orders.models import Order

TOPIC = "order.changed"
MAX_PAGE = 1000
SEQUENCE_BATCH = 2000
HEAD_ID = 1


def announce(session: Session, order_ids: Sequence[int], *, step: str) -> None:
    """Put contracts into the feed again (a new consent makes their past visible)."""
    moment = now()
    bulk_insert(session, OutboxEvent, [
        {"topic": TOPIC, "payload": {"order_id": order_id, "step": step}, "created_at": moment}
        for order_id in order_ids])


def _head(session: Session) -> FeedHead:
    head = session.scalar(select(FeedHead).where(FeedHead.id == HEAD_ID).with_for_update())
    if head is None:
        session.add(FeedHead(id=HEAD_ID, seq=0))
        session.flush()
        head = session.scalar(select(FeedHead).where(FeedHead.id == HEAD_ID).with_for_update())
    assert head is not None
    return head


def sequence_changes(session: Session, *, limit: int = SEQUENCE_BATCH) -> int:
    """Number the waiting order changes of contracts (others are dropped); how many."""
    head = _head(session)  # first: the lock orders the sequencers
    events = claim_batch(session, topics=(TOPIC,), limit=limit)
    if not events:
        return 0
    wanted = {int(e.payload["order_id"]) for e in events}
    suppliers = dict(session.execute(
        select(Order.id, Order.supplier_id).join(Contract, Contract.order_id == Order.id)
        .where(Order.id.in_(wanted))).all())
    moment = now()
    rows, seq = [], head.seq
    for event in events:
        order_id = int(event.payload["order_id"])
        if order_id not in suppliers:  # no contract yet: nothing a bank could read
            continue
        seq += 1
        rows.append({"seq": seq, "order_id": order_id, "supplier_id": suppliers[order_id],
                     "step": str(event.payload.get("step", ""))[:24], "at": moment})
    if rows:
        bulk_insert(session, FeedChange, rows)
        session.execute(update(FeedHead).where(FeedHead.id == HEAD_ID).values(seq=seq))
        from financing.webhooks import enqueue  # webhooks sit above the feed

        enqueue(session, rows)
    mark_processed(session, events)
    return len(rows)


@dataclass
class FeedPage:
    items: list[dict[str, Any]] = field(default_factory=list)
    next_after: int = 0
    has_more: bool = False


def pull(session: Session, actor: Actor, *, after: int = 0, limit: int = MAX_PAGE) -> FeedPage:
    """The changes after ``after`` that the bank may read, with their contracts."""
    require_bank(actor)
    limit = max(1, min(limit, MAX_PAGE))
    moment = now()
    # The head as it is before reading: a change numbered while this pull runs is past it and
    # comes with the next pull, never skipped by the cursor below.
    top = int(session.scalar(select(func.max(FeedChange.seq))) or 0)
    changes = session.connection().execute(  # Core: plain columns, no ORM result overhead
        select(FeedChange.seq, FeedChange.order_id, FeedChange.supplier_id, FeedChange.step,
               FeedChange.at)
        .where(FeedChange.seq > after, FeedChange.seq <= top,
               readable(actor.organisation_id, moment, order_id=FeedChange.order_id,
                        supplier_id=FeedChange.supplier_id))
        .order_by(FeedChange.seq).limit(limit + 1)).all()
    has_more = len(changes) > limit
    changes = changes[:limit]
    if not changes:
        # Nothing readable up to the head: move the cursor there, so that the next pull does
        # not scan again what this bank may not read (a later consent re-announces them).
        return FeedPage([], max(after, top), False)
    facts = contract_facts(session, sorted({c.order_id for c in changes}))
    _log_page(session, actor, after=after, last=changes[-1].seq, moment=moment)
    items = [{"seq": c.seq, "step": c.step, "at": c.at, "contract": facts[c.order_id]}
             for c in changes if c.order_id in facts]
    return FeedPage(items, changes[-1].seq, has_more)


def _log_page(session: Session, actor: Actor, *, after: int, last: int, moment: datetime) -> None:
    """Log the contracts of a page as read, by one INSERT … SELECT over the same changes the
    page returned (the same cursor range and consent rule, at the same moment): the rows are
    made in the database, not sent one by one (a page is up to 1,000 contracts)."""
    pages = (select(FeedChange.order_id, FeedChange.supplier_id)
             .where(FeedChange.seq > after, FeedChange.seq <= last,
                    readable(actor.organisation_id, moment, order_id=FeedChange.order_id,
                             supplier_id=FeedChange.supplier_id))
             .distinct().subquery())
    user_id = actor.user_id if actor.token_id is None else None
    session.execute(insert(AccessRecord).from_select(
        ["bank_org_id", "supplier_id", "order_id", "user_id", "token_id", "via", "at"],
        select(literal(actor.organisation_id, BigInteger), pages.c.supplier_id,
               pages.c.order_id, literal(user_id, BigInteger), literal(actor.token_id,
                                                                       BigInteger),
               literal("feed", String), literal(moment, UTCDateTime()))))


def contract(session: Session, actor: Actor, *, number: str) -> dict[str, Any]:
    """One contract by its number (合同编号), if the bank may read it; else not found."""
    require_bank(actor)
    row = session.execute(
        select(Order.id, Order.supplier_id).join(Contract, Contract.order_id == Order.id)
        .where(Contract.number == number,
               readable(actor.organisation_id, now(), order_id=Order.id,
                        supplier_id=Order.supplier_id))).first()
    if row is None:
        raise NotFound()
    log_reads(session, actor, [(row.id, row.supplier_id)], "detail")
    return contract_facts(session, [row.id])[row.id]


def supplier_contracts(session: Session, actor: Actor, *, credit_code: str,
                       limit: int = MAX_PAGE) -> list[dict[str, Any]]:
    """The contracts of a supplier (by its unified social credit code) the bank may read;
    not found when it may read none (a supplier without live consent)."""
    require_bank(actor)
    supplier_id = session.scalar(select(Organisation.id).where(
        Organisation.credit_code == credit_code))
    if supplier_id is None:
        raise NotFound()
    ids = list(session.scalars(
        select(Order.id).join(Contract, Contract.order_id == Order.id)
        .where(Order.supplier_id == supplier_id,
               readable(actor.organisation_id, now(), order_id=Order.id,
                        supplier_id=Order.supplier_id))
        .order_by(Order.id.desc()).limit(limit)))
    if not ids:
        raise NotFound()
    log_reads(session, actor, [(i, supplier_id) for i in ids], "lookup")
    facts = contract_facts(session, ids)
    return [facts[i] for i in ids if i in facts]
