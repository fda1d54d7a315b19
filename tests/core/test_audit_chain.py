"""The audit trail is hash-chained: any altered or deleted entry is found and named."""

from sqlalchemy import delete, select, update

from mall.core.audit import AuditEvent, record_event, seal_pending, verify_chain
from mall.core.auth import OrganisationKind
from tests.factories.accounts import make_member


def _record(session, n: int) -> list[AuditEvent]:
    user = make_member(session, OrganisationKind.OPERATOR)
    events = [record_event(session, action="order.approved", object_type="order", object_id=i,
                           actor_user_id=user.id, actor_organisation_id=user.organisation_id,
                           data={"amount_fen": 1000 * i, "note": "审批通过"})
              for i in range(n)]
    session.flush()
    seal_pending(session)
    return events


def test_an_untouched_chain_verifies(session):
    _record(session, 5)
    report = verify_chain(session)
    assert report.ok and report.checked >= 5 and report.unsealed == 0


def test_each_entry_links_to_the_hash_of_the_one_before(session):
    events = _record(session, 3)
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert events[2].seq == events[1].seq + 1


def test_altering_a_stored_entry_is_reported_at_that_entry(session):
    events = _record(session, 5)
    target = events[2]
    session.execute(update(AuditEvent).where(AuditEvent.id == target.id)
                    .values(data={"amount_fen": 1, "note": "审批通过"}))
    session.expire_all()
    report = verify_chain(session)
    assert not report.ok
    assert report.broken_seq == target.seq
    assert "altered" in report.reason


def test_deleting_an_entry_in_the_middle_is_reported(session):
    events = _record(session, 5)
    session.execute(delete(AuditEvent).where(AuditEvent.id == events[1].id))
    session.expire_all()
    report = verify_chain(session)
    assert not report.ok and report.broken_seq == events[1].seq


def test_deleting_the_newest_entries_is_reported_through_the_chain_head(session):
    events = _record(session, 4)
    session.execute(delete(AuditEvent).where(AuditEvent.id.in_([events[-1].id, events[-2].id])))
    session.expire_all()
    report = verify_chain(session)
    assert not report.ok and report.broken_seq == events[-2].seq
    assert "deleted" in report.reason


def test_events_of_a_rolled_back_transaction_never_enter_the_chain(session):
    _record(session, 1)
    nested = session.begin_nested()
    record_event(session, action="payment.recorded", object_type="payment", object_id=9)
    session.flush()
    nested.rollback()
    seal_pending(session)
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "payment.recorded" not in actions
    assert verify_chain(session).ok


def test_audit_verify_command_exits_non_zero_and_names_the_broken_entry(app, session):
    events = _record(session, 3)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    session.execute(update(AuditEvent).where(AuditEvent.id == events[0].id)
                    .values(action="order.rejected"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry {events[0].seq}" in result.output
