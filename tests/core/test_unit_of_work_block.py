"""The unit of work of jobs, imports and commands: commit when the block ends, roll back when
it raises or the commit fails."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import scoped_session, sessionmaker

from mall.core.audit import AuditEvent, record_event
from mall.core.unit_of_work import unit_of_work


def _events(session, object_id: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "probe", AuditEvent.object_id == object_id))


def test_the_block_commits_what_it_did(session):
    with unit_of_work(session) as work:
        record_event(work, action="probe.done", object_type="probe", object_id="commit")
    session.rollback()  # undoes only what came after the commit
    assert _events(session, "commit") == 1


def test_an_error_in_the_block_rolls_it_back_and_is_raised(session):
    with pytest.raises(RuntimeError, match="refused"), unit_of_work(session) as work:
        record_event(work, action="probe.done", object_type="probe", object_id="error")
        work.flush()
        raise RuntimeError("refused")
    assert _events(session, "error") == 0


def test_a_failing_commit_is_rolled_back_so_the_session_goes_on(session):
    with pytest.raises(Exception, match="(?i)null"), unit_of_work(session) as work:
        work.add(AuditEvent(action=None, object_type="probe", object_id="broken"))
    # Without the rollback the session would refuse every statement (PendingRollbackError).
    assert _events(session, "broken") == 0


def test_remove_forgets_the_scoped_session(app):
    from mall.extensions import db

    with app.app_context():
        scoped = scoped_session(sessionmaker(bind=db.engine))
        with unit_of_work(scoped, remove=True) as work:
            assert work.scalar(select(1)) == 1
        assert not scoped.registry.has()
