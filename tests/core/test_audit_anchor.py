"""The audit chain is anchored outside the database: a signed head is published each day, and
a chain rewritten by someone who can write the database (every later hash and the head
recomputed) no longer matches it."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from mall.core.audit import (
    AuditChainHead,
    AuditEvent,
    link_hash,
    record_event,
    seal_pending,
    verify_chain,
)
from mall.core.audit_anchor import (
    AnchorKeys,
    AnchorRefused,
    load_anchors,
    publish_anchor,
    verify_against_anchors,
)
from mall.core.auth import OrganisationKind, Role
from tests.conftest import login
from tests.factories.accounts import make_member

DAY_ONE = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)


@pytest.fixture
def keys(tmp_path, app, monkeypatch):
    """Anchors and key of this test only (the shared database is rolled back after it)."""
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_DIR", str(tmp_path / "anchors"))
    return AnchorKeys.from_config(app.config)


def _record(session, n: int) -> list[AuditEvent]:
    user = make_member(session, OrganisationKind.OPERATOR)
    events = [record_event(session, action="order.approved", object_type="order", object_id=i,
                           actor_user_id=user.id, actor_organisation_id=user.organisation_id,
                           data={"amount_fen": 1000 * i})
              for i in range(n)]
    session.flush()
    seal_pending(session)
    return events


def _rewrite(session, event: AuditEvent, **values) -> None:
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


def test_the_days_head_is_published_signed_once_a_day(session, keys):
    _record(session, 3)
    head = session.get(AuditChainHead, 1)
    anchor = publish_anchor(session, keys, at=DAY_ONE)
    assert (anchor.seq, anchor.hash) == (head.seq, head.hash)
    assert anchor.day.isoformat() == "2026-03-14"  # the Asia/Shanghai day
    assert (keys.directory / "2026-03-14.json").is_file()
    assert (keys.directory / "2026-03-14.json.sig").stat().st_size == 64
    assert publish_anchor(session, keys, at=DAY_ONE + timedelta(hours=3)) is None
    assert [a.seq for a in load_anchors(keys).anchors] == [head.seq]


def test_a_chain_rewritten_with_every_hash_recomputed_is_caught_at_the_anchor(session, keys):
    events = _record(session, 5)
    anchor = publish_anchor(session, keys, at=DAY_ONE)
    _record(session, 2)
    _rewrite(session, events[1], data={"amount_fen": 1})
    assert verify_chain(session).ok  # the chain alone is fooled

    report, published = verify_against_anchors(session, keys)

    assert not report.ok
    assert report.broken_seq == anchor.seq
    assert "no longer matches the anchor published for 2026-03-14" in report.reason
    assert published.rejected == []


def test_the_chain_verifies_against_its_anchors_while_untouched(session, keys):
    _record(session, 3)
    publish_anchor(session, keys, at=DAY_ONE)
    _record(session, 2)
    publish_anchor(session, keys, at=DAY_ONE + timedelta(days=1))
    report, published = verify_against_anchors(session, keys)
    assert report.ok and len(published.anchors) == 2


def test_a_rewrite_before_the_next_anchor_is_not_published(session, keys):
    events = _record(session, 3)
    publish_anchor(session, keys, at=DAY_ONE)
    _rewrite(session, events[-1], action="order.rejected")
    with pytest.raises(AnchorRefused):
        publish_anchor(session, keys, at=DAY_ONE + timedelta(days=1))
    assert len(load_anchors(keys).anchors) == 1


def test_entries_deleted_below_an_anchor_are_reported(session, keys):
    events = _record(session, 4)
    anchor = publish_anchor(session, keys, at=DAY_ONE)
    last = events[-1]
    session.delete(last)
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                    .values(seq=last.seq - 1, hash=last.prev_hash))
    session.flush()
    session.expire_all()
    report, _ = verify_against_anchors(session, keys)
    assert not report.ok and report.broken_seq == anchor.seq


def test_a_forged_anchor_file_is_rejected(session, keys):
    _record(session, 2)
    publish_anchor(session, keys, at=DAY_ONE)
    path = keys.directory / "2026-03-14.json"
    path.write_text(path.read_text().replace('"seq": ', '"seq": 1'))
    published = load_anchors(keys)
    assert published.anchors == [] and published.rejected == ["2026-03-14.json"]


def test_audit_verify_command_names_the_entry_that_no_longer_matches(app, session, keys):
    events = _record(session, 4)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "matches its 1 published anchors" in ok.output
    head = session.get(AuditChainHead, 1).seq
    _rewrite(session, events[0], action="order.rejected")

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert f"BROKEN at entry {head}: entry {head} no longer matches the anchor" in result.output


def test_anchors_and_the_public_key_are_published_to_everyone(client, session, keys):
    _record(session, 2)
    anchor = publish_anchor(session, keys, at=DAY_ONE)
    page = client.get("/audit/anchors")
    assert page.status_code == 200
    assert "2026-03-14" in page.get_data(as_text=True)
    key = client.get("/audit/anchors/public-key.pem")
    assert key.data.startswith(b"-----BEGIN PUBLIC KEY-----")
    with client.get("/audit/anchors/2026-03-14.json") as signed:
        assert signed.status_code == 200 and signed.json["hash"] == anchor.hash
    with client.get("/audit/anchors/2026-03-14.json.sig") as signature:
        assert len(signature.data) == 64
    assert client.get("/audit/anchors/..%2Fkey.pem").status_code == 404


def test_the_operators_audit_page_shows_anchor_status_and_a_rewrite(client, session, keys):
    user = make_member(session, OrganisationKind.OPERATOR, roles=[Role.OPERATOR],
                       login="audit-op")
    user.preferred_locale = "en"  # the Chinese texts arrive when the catalogue is merged
    session.flush()
    login(client, "audit-op")
    assert "No anchor has been published yet" in client.get("/admin/audit").get_data(as_text=True)
    events = _record(session, 3)
    publish_anchor(session, keys)
    _rewrite(session, events[0], action="order.rejected")
    page = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert "1 anchors published" in page
    assert "no longer matches the anchor published for" in page


def test_the_daily_job_publishes_the_anchor_with_the_configured_key(app, session, keys):
    from mall.core.jobs import REGISTRY

    _record(session, 2)
    with app.app_context():
        REGISTRY["audit.anchor"].run(session)
        REGISTRY["audit.anchor"].run(session)  # again the same day: nothing new
    published = load_anchors(keys)
    assert len(published.anchors) == 1
    assert keys.signing_key_file.stat().st_mode & 0o777 == 0o600  # generated, owner only
    assert published.latest.seq == session.get(AuditChainHead, 1).seq
