"""Stored answers to Idempotency-Keys are forgotten after a week, so the table stays small."""

from __future__ import annotations

from datetime import timedelta

from mall.core.clock import frozen_clock, now
from mall.core.idempotency import RETENTION, find_response, purge_expired, store_response
from tests.factories.accounts import make_organisation


def _store(session, organisation_id: int, key: str) -> None:
    store_response(session, organisation_id=organisation_id, key=key, method="POST",
                   path="/api/v1/orders/x", fingerprint="f" * 64, status_code=201,
                   body={"ok": key})


def test_answers_older_than_a_week_are_forgotten_and_newer_ones_kept(session):
    organisation = make_organisation(session)
    start = now()
    with frozen_clock(start - RETENTION - timedelta(minutes=1)):
        _store(session, organisation.id, "old-key")
    with frozen_clock(start - RETENTION + timedelta(minutes=1)):
        _store(session, organisation.id, "recent-key")

    with frozen_clock(start):
        assert purge_expired(session) == 1

    lookup = {"organisation_id": organisation.id, "fingerprint": "f" * 64}
    assert find_response(session, key="old-key", **lookup) is None  # the key may be used afresh
    assert find_response(session, key="recent-key", **lookup) == (201, {"ok": "recent-key"})
