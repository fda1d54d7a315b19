"""One request, one unit of work: the answer decides whether the request's changes commit.

Views and API handlers never call ``commit()`` or ``rollback()``; services only flush. The
hooks that ``register`` installs end every request's transaction:

- an answer below 400 commits, an answer of 400 or more rolls back, a crash rolls back;
- ``discard_changes()``: the view refused the action but answers with a redirect or a page
  (status below 400), so nothing it changed may commit. It rolls back at once, so the page
  renders from the database as it stands, and the request commits nothing at the end::

      try:
          moderation.decide_offers(db.session, actor, ...)
      except MallError as exc:
          discard_changes()
          flash(...)
      return redirect(back)

- ``keep_changes()``: the answer is an error but what the request recorded must stay (a
  failed login counts towards the lockout; a declined card is kept as a failed attempt);
  ``discard_changes()`` wins over it.

Reading requests on SQLite: GET, HEAD and OPTIONS begin their transaction deferred
(``mall.core.db.begin_reading``): they read a snapshot and answer while another process
holds the write lock (an import commits a batch about every second), where they used to
queue behind it. Every other request, and every job, import and command, begins with
``BEGIN IMMEDIATE`` and queues for the lock. A reading request that writes after all (marks
the inbox read, touches a token's last use) takes the lock at its first write and waits
for it like a writing request (``mall.core.db.configure_sqlite``); a GET that would write
on every call only to change nothing should look first and write only when there is
something to change (``suppliers.imports.service.fail_stalled_imports``). On PostgreSQL the
method changes nothing: every transaction reads a snapshot and writers take row locks.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

from mall.core.db import begin_reading, end_reading

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def discard_changes() -> None:
    """Roll back what this request changed (its action was refused although the answer is a
    page or a redirect); the request commits nothing at the end."""
    g.mall_discard_changes = True
    _session().rollback()


def keep_changes() -> None:
    """Commit what this request changed although its answer is an error."""
    g.keep_changes = True  # the flag's name before this module; views call keep_changes()


def register(app: Flask) -> None:
    """Install the hooks that begin and end every request's unit of work."""
    # First of all before-request hooks: identifying the user already begins the transaction.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
    app.teardown_request(_end)


def _session():
    # The app's Flask-SQLAlchemy object (tests swap its session), as mall.core.jobs finds it.
    return current_app.extensions["sqlalchemy"].session


def _begin() -> None:
    g.mall_reading_token = begin_reading(request.method in READING_METHODS)


def _finish(response: Response) -> Response:
    """Commit a successful answer (or one whose changes the view keeps); roll back the rest."""
    if g.get("mall_discard_changes"):
        _session().rollback()
    elif response.status_code < 400 or g.get("keep_changes"):
        _session().commit()
    else:
        _session().rollback()
    return response


def _end(exc: BaseException | None) -> None:
    """Roll back after a crash; transactions begun after the request write again."""
    if exc is not None:
        _session().rollback()
    token = g.pop("mall_reading_token", None)
    if token is not None:
        end_reading(token)
