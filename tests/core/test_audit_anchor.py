"""The audit chain is anchored outside the database: a signed head is published each day, and
a chain rewritten by someone who can write the database (every later hash and the head
recomputed) no longer matches it."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from mall.core.audit import AuditChainHead, verify_chain
from mall.core.audit_anchor import (
    AnchorRefused,
    load_anchors,
    publish_anchor,
    verify_against_anchors,
)
from tests.factories.audit import DAY_ONE, record_sealed, rewrite_entry


def test_the_days_head_is_published_signed_once_a_day(session, anchor_keys):
    record_sealed(session, 3)
    head = session.get(AuditChainHead, 1)
    anchor = publish_anchor(session, anchor_keys, at=DAY_ONE)
    assert (anchor.seq, anchor.hash) == (head.seq, head.hash)
    assert anchor.day.isoformat() == "2026-03-14"  # the Asia/Shanghai day
    assert (anchor_keys.directory / "2026-03-14.json").is_file()
    assert (anchor_keys.directory / "2026-03-14.json.sig").stat().st_size == 64
    assert publish_anchor(session, anchor_keys, at=DAY_ONE + timedelta(hours=3)) is None
    assert [a.seq for a in load_anchors(anchor_keys).anchors] == [head.seq]


def test_a_chain_rewritten_with_every_hash_recomputed_is_caught_at_the_anchor(session, anchor_keys):
    events = record_sealed(session, 5)
    anchor = publish_anchor(session, anchor_keys, at=DAY_ONE)
    record_sealed(session, 2)
    rewrite_entry(session, events[1], data={"amount_fen": 1})
    assert verify_chain(session).ok  # the chain alone is fooled

    report, published = verify_against_anchors(session, anchor_keys)

    assert not report.ok
    assert report.broken_seq == anchor.seq
    assert "no longer matches the anchor published for 2026-03-14" in report.reason
    assert published.rejected == []


def test_the_chain_verifies_against_its_anchors_while_untouched(session, anchor_keys):
    record_sealed(session, 3)
    publish_anchor(session, anchor_keys, at=DAY_ONE)
    record_sealed(session, 2)
    publish_anchor(session, anchor_keys, at=DAY_ONE + timedelta(days=1))
    report, published = verify_against_anchors(session, anchor_keys)
    assert report.ok and len(published.anchors) == 2


def test_a_rewrite_before_the_next_anchor_is_not_published(session, anchor_keys):
    events = record_sealed(session, 3)
    publish_anchor(session, anchor_keys, at=DAY_ONE)
    rewrite_entry(session, events[-1], action="order.rejected")
    with pytest.raises(AnchorRefused):
        publish_anchor(session, anchor_keys, at=DAY_ONE + timedelta(days=1))
    assert len(load_anchors(anchor_keys).anchors) == 1


def test_entries_deleted_below_an_anchor_are_reported(session, anchor_keys):
    events = record_sealed(session, 4)
    anchor = publish_anchor(session, anchor_keys, at=DAY_ONE)
    last = events[-1]
    session.delete(last)
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                    .values(seq=last.seq - 1, hash=last.prev_hash))
    session.flush()
    session.expire_all()
    report, _ = verify_against_anchors(session, anchor_keys)
    assert not report.ok and report.broken_seq == anchor.seq


def test_a_forged_anchor_file_is_rejected(session, anchor_keys):
    record_sealed(session, 2)
    publish_anchor(session, anchor_keys, at=DAY_ONE)
    path = anchor_keys.directory / "2026-03-14.json"
    path.write_text(path.read_text().replace('"seq": ', '"seq": 1'))
    published = load_anchors(anchor_keys)
    assert published.anchors == [] and published.rejected == ["2026-03-14.json"]


def test_audit_verify_command_names_the_entry_that_no_longer_matches(app, session, anchor_keys):
    events = record_sealed(session, 4)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "matches its 1 published anchors" in ok.output
    head = session.get(AuditChainHead, 1).seq
    rewrite_entry(session, events[0], action="order.rejected")

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert f"BROKEN at entry {head}: entry {head} no longer matches the anchor" in result.output


def test_the_daily_job_publishes_the_anchor_with_the_configured_key(app, session, anchor_keys):
    from mall.core.jobs import REGISTRY

    record_sealed(session, 2)
    with app.app_context():
        REGISTRY["audit.anchor"].run(session)
        REGISTRY["audit.anchor"].run(session)  # again the same day: nothing new
    published = load_anchors(anchor_keys)
    assert len(published.anchors) == 1
    assert anchor_keys.signing_key_file.stat().st_mode & 0o777 == 0o600  # generated, owner only
    assert published.latest.seq == session.get(AuditChainHead, 1).seq
