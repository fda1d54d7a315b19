"""Stored answers to POST requests sent with an Idempotency-Key, so a retry repeats nothing.

A client that times out and retries the same request with the same key gets the first
answer back; the same key with a different body is refused. Keys are per organisation.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mall.core.clock import now
from mall.core.db import Base, rowcount
from mall.core.errors import Conflict


class IdempotencyRecord(Base):
    """The first response given to (organisation, key)."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    key: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 over the method, path and body of a request."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def find_response(session: Session, *, organisation_id: int, key: str,
                  fingerprint: str) -> tuple[int, object] | None:
    """The stored (status, body) for this key, or None; a different request with it conflicts."""
    record = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.organisation_id == organisation_id, IdempotencyRecord.key == key))
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise Conflict("This Idempotency-Key was used for a different request.",
                       code="idempotency_key_reused")
    return record.status_code, json.loads(record.response_body)


def store_response(session: Session, *, organisation_id: int, key: str, method: str, path: str,
                   fingerprint: str, status_code: int, body: object) -> None:
    """Remember the answer in the request's own transaction (it commits with the work)."""
    session.add(IdempotencyRecord(
        organisation_id=organisation_id, key=key, method=method, path=path,
        request_hash=fingerprint, status_code=status_code,
        response_body=json.dumps(body, ensure_ascii=False, default=str), created_at=now()))
    session.flush()


RETENTION = timedelta(days=7)  # a retry comes within minutes; a week is generous


def purge_expired(session: Session, *, older_than: timedelta = RETENTION) -> int:
    """Forget answers older than ``older_than``; their keys may then be used afresh."""
    return rowcount(session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < now() - older_than)))
