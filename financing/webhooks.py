"""Webhooks to the banks: an event for every change of a contract a bank may read, signed with
its endpoint's secret and delivered at least once, with retries, a log and replay by hand.

Events. The sequencer (``financing.feed.sequence_changes``) hands ``enqueue`` the feed rows it
has just numbered. Each row whose step is an event (``STEP_EVENTS``) becomes one pending
delivery for every active endpoint of every bank that may read the contract now
(``consent.readable``) and subscribes to the event, in the sequencer's transaction: the
deliveries commit with the feed rows or not at all, and no order step waits for a bank. An
event carries numbers only (contract, order, supplier's credit code, feed number); the bank
pulls the contract through the API, where its consent is checked and its read logged.

Delivery (the job ``financing.webhooks``, financing/webhook_jobs.py) in three steps, so that a
slow bank holds no row lock and a crash loses no event:

1. ``claim_due`` takes up to a batch of due deliveries (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL), counts the attempt and leases them (``next_attempt_at`` = now + ``LEASE``);
   the job commits, which releases the locks.
2. ``send`` posts each one, outside any transaction, with short timeouts.
3. ``record_outcomes`` writes each answer: delivered on 2xx, else the next attempt after the
   backoff, or failed after ``MAX_ATTEMPTS``. The update only applies to the attempt it
   answers (same attempt count, still pending).

A crash between 1 and 3 leaves the delivery pending; the lease runs out and the next run sends
it again. A bank may thus get an event twice: it deduplicates on ``X-Mall-Event-Id``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from financing.consent import readable
from financing.models import DeliveryStatus, FeedChange, WebhookDelivery, WebhookEndpoint
from mall.accounts.models import Organisation
from mall.core.bulk import among
from mall.core.bulk import insert as bulk_insert
from mall.core.clock import now
from mall.core.db import claiming
from mall.i18n_messages import N_
from mall.purchasing.contracts.models import Contract
from mall.purchasing.orders.models import Order

# The feed's steps (an order's timeline entry, or payee_changed) that banks hear about.
# A step leaves the feed only once the order has a contract or a settlement order, so
# "signed" is both parties' signature or the settlement order's issue. A new consent's
# "consented" rows are no event: the bank is notified of the consent and pulls the feed.
STEP_EVENTS = {
    "signed": "contract.signed",
    "accepted": "order.accepted",
    "invoiced": "order.invoiced",
    "paid": "order.paid",
    "payee_changed": "contract.account_changed",
    "cancelled": "order.cancelled",
    "returned": "order.returned",
}
EVENT_TYPES = tuple(STEP_EVENTS.values())

SIGNATURE_HEADER = "X-Mall-Signature"
EVENT_ID_HEADER = "X-Mall-Event-Id"
TOLERANCE_SECONDS = 300  # a signature older or newer than this is refused (replays)
CONNECT_TIMEOUT, READ_TIMEOUT = 3.0, 5.0
BATCH = 100
LEASE = timedelta(minutes=5)  # longer than a batch takes to send (timeouts, parallel posts)
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS, JITTER = 30, 6 * 3600, 0.10


# -- signatures ------------------------------------------------------------------------------

def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, at: datetime) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>``."""
    timestamp = int(at.timestamp())
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes | str, *, now: datetime | float,
                     tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance`` seconds
    of ``now`` (a datetime or unix time): what a bank checks before trusting an event."""
    fields: dict[str, list[str]] = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    current = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(current - timestamp) > tolerance:
        return False
    raw = body.encode() if isinstance(body, str) else body
    expected = _mac(secret, timestamp, raw)
    # Every v1 is compared, in constant time, so that none answers faster than another.
    matches = [hmac.compare_digest(expected, given) for given in fields.get("v1", [])]
    return any(matches)


def encode(payload: dict[str, Any]) -> bytes:
    """The body as sent and signed: compact JSON, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# -- events ----------------------------------------------------------------------------------

def enqueue(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Queue the events of newly sequenced contract changes for the banks' endpoints: one
    query for the endpoints that may read each contract, one insert."""
    events = {int(c["seq"]): STEP_EVENTS[c["step"]] for c in changes if c["step"] in STEP_EVENTS}
    if not events:
        return
    moment = now()
    # readable() is written for one bank; given the endpoint's column it checks each pair.
    bank = cast(int, WebhookEndpoint.bank_org_id)
    rows = session.execute(
        select(FeedChange.seq, FeedChange.step, FeedChange.at, WebhookEndpoint.id,
               WebhookEndpoint.events, Contract.number, Order.number.label("order_number"),
               Organisation.credit_code)
        .select_from(FeedChange)
        .join(WebhookEndpoint, WebhookEndpoint.active.is_(True))
        .join(Order, Order.id == FeedChange.order_id)
        .join(Contract, Contract.order_id == FeedChange.order_id)
        .join(Organisation, Organisation.id == FeedChange.supplier_id)
        .where(among(session, FeedChange.seq, list(events)),
               readable(bank, moment, order_id=FeedChange.order_id,
                        supplier_id=FeedChange.supplier_id))
        .order_by(FeedChange.seq, WebhookEndpoint.id)).all()
    deliveries = []
    for row in rows:
        kind = events[row.seq]
        if row.events and kind not in row.events:
            continue
        event_id = uuid.uuid4().hex
        deliveries.append({
            "endpoint_id": row.id, "event_id": event_id, "event_type": kind,
            "payload": {"id": event_id, "type": kind, "created": row.at.isoformat(),
                        "data": {"contract_number": row.number,
                                 "order_number": row.order_number,
                                 "supplier_credit_code": row.credit_code,
                                 "seq": row.seq, "step": row.step}},
            "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": moment,
            "created_at": moment})
    bulk_insert(session, WebhookDelivery, deliveries)


# -- delivery --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    """A delivery leased for one attempt: what to post, and the attempt it is."""

    id: int
    attempts: int
    url: str
    secret: str
    event_id: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What the bank answered to one attempt (no status code: no answer, see the error)."""

    id: int
    attempts: int
    status_code: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_due(session: Session, *, limit: int = BATCH) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries for one attempt each (module doc, step 1); those
    whose contract the bank may no longer read, or out of attempts, fail instead."""
    moment = now()
    due = list(session.scalars(claiming(
        select(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING,
               WebhookDelivery.next_attempt_at <= moment,
               WebhookDelivery.endpoint_id.in_(select(WebhookEndpoint.id)
                                               .where(WebhookEndpoint.active.is_(True))))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit), session)))
    if not due:
        return []
    endpoints = {e.id: e for e in session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.id.in_({d.endpoint_id for d in due})))}
    bank = cast(int, WebhookEndpoint.bank_org_id)
    still = set(session.execute(
        select(FeedChange.seq, WebhookEndpoint.id)
        .select_from(FeedChange)
        .join(WebhookEndpoint, WebhookEndpoint.id.in_(list(endpoints)))
        .where(among(session, FeedChange.seq, list({_seq(d) for d in due})),
               readable(bank, moment, order_id=FeedChange.order_id,
                        supplier_id=FeedChange.supplier_id))).all())
    claimed = []
    for delivery in due:
        if (_seq(delivery), delivery.endpoint_id) not in still:
            _fail(delivery, N_("The bank may no longer read this contract."))
        elif delivery.attempts >= MAX_ATTEMPTS:  # leased that often with no answer recorded
            _fail(delivery, N_("No answer was recorded for the last attempt."))
        else:
            delivery.attempts += 1
            delivery.last_attempt_at, delivery.next_attempt_at = moment, moment + LEASE
            endpoint = endpoints[delivery.endpoint_id]
            claimed.append(Claimed(delivery.id, delivery.attempts, endpoint.url, endpoint.secret,
                                   delivery.event_id, encode(delivery.payload)))
    session.flush()
    return claimed


def _seq(delivery: WebhookDelivery) -> int:
    return int(delivery.payload["data"]["seq"])


def _fail(delivery: WebhookDelivery, error: str) -> None:
    delivery.status, delivery.last_error = DeliveryStatus.FAILED, error


Post = Callable[[str, bytes, dict[str, str]], int]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST with short timeouts and no redirects; the status code the bank answered."""
    response = requests.post(url, data=body, headers=headers, stream=True, allow_redirects=False,
                             timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    response.close()  # the answer's body is not read
    return response.status_code


def send(claimed: Claimed, *, transport: Post = post) -> Outcome:
    """One attempt, signed now (module doc, step 2); never raises."""
    headers = {"Content-Type": "application/json", EVENT_ID_HEADER: claimed.event_id,
               SIGNATURE_HEADER: signature_header(claimed.secret, claimed.body, at=now()),
               "User-Agent": "gov-mall-webhooks/1"}
    try:
        code = transport(claimed.url, claimed.body, headers)
    except Exception as error:  # any failure to get an answer is retried
        return Outcome(claimed.id, claimed.attempts, error=f"{type(error).__name__}: {error}"[:300])
    return Outcome(claimed.id, claimed.attempts, status_code=code)


def retry_delay(attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
    """30 s after the first attempt, doubling, at most 6 h, give or take 10 %."""
    seconds = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
    return timedelta(seconds=seconds * (1 - JITTER + 2 * JITTER * rand()))


def record_outcomes(session: Session, outcomes: Sequence[Outcome], *,
                    rand: Callable[[], float] = random.random) -> None:
    """Write what each attempt got (module doc, step 3), unless the delivery has moved on."""
    moment = now()
    for outcome in outcomes:
        values: dict[str, Any] = {"last_status_code": outcome.status_code,
                                  "last_error": outcome.error}
        if outcome.delivered:
            values.update(status=DeliveryStatus.DELIVERED, delivered_at=moment)
        elif outcome.attempts >= MAX_ATTEMPTS:
            values.update(status=DeliveryStatus.FAILED)
        else:
            values.update(next_attempt_at=moment + retry_delay(outcome.attempts, rand))
        session.execute(update(WebhookDelivery)
                        .where(WebhookDelivery.id == outcome.id,
                               WebhookDelivery.status == DeliveryStatus.PENDING,
                               WebhookDelivery.attempts == outcome.attempts)
                        .values(**values).execution_options(synchronize_session=False))

