"""The unit of work outside a request: a block that commits when it ends and rolls back when
it raises.

Scheduled jobs (``mall.core.jobs.run_job``), a batch of a bulk import and the ``mall``
commands each run their work in one::

    with unit_of_work(db.session, remove=True) as session:
        sweep(session)

Requests use the same rule through ``mall.web.unit_of_work``, which decides from the answer.
Services never commit: they flush, and the block around them decides. Given Flask-SQLAlchemy's
``db.session`` (a ``scoped_session``: the registry of each app context's session), the block
yields the ``Session`` itself, which is what services take.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.orm import Session, scoped_session

SessionT = TypeVar("SessionT", bound=Session)


@contextmanager
def unit_of_work(session: SessionT | scoped_session[SessionT], *,
                 remove: bool = False) -> Iterator[SessionT]:
    """Yield the session (a scoped one's current ``Session``); commit when the block ends, roll
    back (and re-raise) when it raises or the commit fails. ``remove`` then closes the session
    (and forgets a scoped one), so a thread or job leaves no connection checked out."""
    current = session() if isinstance(session, scoped_session) else session
    try:
        yield current
        current.commit()
    except BaseException:
        current.rollback()
        raise
    finally:
        if remove:
            if isinstance(session, scoped_session):
                session.remove()
            else:
                session.close()
