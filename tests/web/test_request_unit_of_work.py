"""One request, one unit of work: the answer, or the view's word, decides what commits; on
SQLite a reading request answers while another connection holds the write lock.

The module runs its own app, whose requests really commit, with a small blueprint of views
that write an audit event and then answer in each of the ways a view can.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest
from flask import Blueprint, redirect, request
from sqlalchemy import create_engine, func, select

from mall.accounts.models import ApiToken, Organisation, User
from mall.accounts.services import actor_for, issue_token
from mall.core.audit import AuditEvent, record_event
from mall.core.auth import OrganisationKind, Scope
from mall.core.clock import now
from mall.core.unit_of_work import unit_of_work
from mall.extensions import csrf, db
from mall.web.unit_of_work import discard_changes, keep_changes
from suppliers.models import ImportJob, ImportStatus
from tests.conftest import login, own_app
from tests.factories.accounts import make_member

QUICKLY = 5  # seconds; a request that waited for the lock would wait the 30 s busy timeout
probe = Blueprint("uow_probe", __name__, url_prefix="/uow-probe")


def _write(kind: str) -> None:
    record_event(db.session, action=f"probe.{kind}", object_type="probe",
                 object_id=request.args["marker"])
    db.session.flush()


@probe.route("/done", methods=["POST"])
def done():
    _write("done")
    return redirect("/")


@probe.route("/refused", methods=["POST"])
def refused():
    _write("refused")
    discard_changes()
    return redirect("/")


@probe.route("/failed", methods=["POST"])
def failed():
    _write("failed")
    return "refused", 422


@probe.route("/kept", methods=["POST"])
def kept():
    _write("kept")
    keep_changes()
    return "declined, but recorded", 402


@probe.route("/crash", methods=["POST"])
def crash():
    _write("crash")
    raise RuntimeError("the view crashed")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with own_app(tmp_path_factory, "unit_of_work") as application:
        csrf.exempt(probe)
        application.register_blueprint(probe)  # before its first request
        yield application


@pytest.fixture
def client(app):
    """A client that keeps no request context, so a thread may make the request."""
    return app.test_client()


def committed(app, marker: str) -> int:
    """How many probe events with this marker another connection sees."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.object_type == "probe", AuditEvent.object_id == marker))
    finally:
        engine.dispose()


def test_an_answer_below_400_commits(app, client):
    assert client.post("/uow-probe/done?marker=done").status_code == 302
    assert committed(app, "done") == 1


def test_a_refused_action_answered_with_a_redirect_commits_nothing(app, client):
    assert client.post("/uow-probe/refused?marker=refused").status_code == 302
    assert committed(app, "refused") == 0


def test_an_error_answer_rolls_back_unless_the_view_keeps_its_changes(app, client):
    assert client.post("/uow-probe/failed?marker=failed").status_code == 422
    assert client.post("/uow-probe/kept?marker=kept").status_code == 402
    assert (committed(app, "failed"), committed(app, "kept")) == (0, 1)


def test_a_crash_rolls_back(app, client):
    assert client.post("/uow-probe/crash?marker=crash").status_code == 500
    assert committed(app, "crash") == 0


# A writer holds its locks while a reading request comes: on SQLite reading requests begin
# deferred, so they do not wait for its write lock; on PostgreSQL readers never wait for
# writers. Writing requests wait on both. The fixtures that write (and log in) come before
# ``write_lock`` in each test's arguments.


@pytest.fixture
def database_url(app) -> str:
    with app.app_context():
        return db.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def supplier(app, database_url):
    """A supplier administrator, committed."""
    with app.app_context(), unit_of_work(db.session, remove=True) as session:
        user = make_member(session, OrganisationKind.SUPPLIER)
        return {"login": user.login, "id": user.id, "organisation_id": user.organisation_id}


@pytest.fixture
def signed_in(client, supplier):
    login(client, supplier["login"])
    return supplier


@pytest.fixture
def running_import(app, supplier) -> int:
    with app.app_context(), unit_of_work(db.session, remove=True) as session:
        job = ImportJob(supplier_id=supplier["organisation_id"], uploaded_by_id=supplier["id"],
                        filename="offers.csv", file_format="csv", stored_path="", sha256="0" * 64,
                        status=ImportStatus.RUNNING, started_at=now(), summary={})
        session.add(job)
        session.flush()
        return job.id


@pytest.fixture
def bearer(app, supplier) -> tuple[int, str]:
    """A token never used yet: its first use is recorded by the request."""
    with app.app_context(), unit_of_work(db.session, remove=True) as session:
        actor = actor_for(session.get(User, supplier["id"]))
        token, secret = issue_token(session, actor, name="erp", scopes=[Scope.ACCOUNT_READ])
        return token.id, secret


@pytest.fixture
def write_lock(database_url):
    """Another connection in the middle of a write (an import saving a batch) until
    ``release()`` commits it: on SQLite it holds the database's write lock; on PostgreSQL it
    holds the tables these tests write (audit trail, tokens, imports, organisations) in
    EXCLUSIVE mode, which lets readers read and makes every writer wait."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE organisations SET name = name")

        def commit() -> None:
            if connection.in_transaction:
                connection.execute("COMMIT")
    else:
        engine = create_engine(database_url)
        connection = engine.connect()
        tables = ", ".join(model.__table__.name for model in (AuditEvent, ApiToken, ImportJob, Organisation))
        connection.exec_driver_sql(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")

        def commit() -> None:
            if connection.in_transaction():
                connection.commit()

    class Lock:
        @staticmethod
        def release():
            commit()

    yield Lock
    Lock.release()
    connection.close()
    if not database_url.startswith("sqlite"):
        engine.dispose()


def in_thread(call):
    """Run ``call`` in a thread; ``result`` holds its answer or exception once it is done."""
    result: dict = {}

    def run():
        try:
            result["answer"] = call()
        except Exception as exc:  # handed to the test
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_a_page_answers_while_another_connection_holds_the_write_lock(client, signed_in,
                                                                       write_lock):
    started = time.monotonic()
    thread, result = in_thread(lambda: client.get("/"))
    thread.join(QUICKLY)
    assert not thread.is_alive(), "the page waited for the write lock"
    assert result["answer"].status_code == 200
    assert time.monotonic() - started < QUICKLY


def test_the_import_progress_poll_answers_while_the_import_holds_the_write_lock(
        client, signed_in, running_import, write_lock):
    thread, result = in_thread(lambda: client.get(f"/supplier/imports/{running_import}/progress"))
    thread.join(QUICKLY)
    assert not thread.is_alive(), "the progress poll waited for the import's write lock"
    assert result["answer"].get_json()["status"] == "running"


def test_a_writing_request_queues_for_the_write_lock(app, client, signed_in, write_lock):
    thread, result = in_thread(lambda: client.post("/uow-probe/done?marker=queued"))
    thread.join(1)
    assert thread.is_alive(), "the POST did not wait for the write lock"
    write_lock.release()
    thread.join(QUICKLY)
    assert result["answer"].status_code == 302
    assert committed(app, "queued") == 1


def test_a_reading_request_that_writes_waits_for_the_lock_instead_of_failing(
        app, client, bearer, write_lock):
    """A bearer token's first use is recorded by the GET itself: its deferred transaction
    has read, so before writing it takes the lock instead of failing with SQLITE_BUSY."""
    token_id, secret = bearer
    thread, result = in_thread(lambda: client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}))
    thread.join(1)
    assert thread.is_alive(), result  # waiting for the lock, not failed
    write_lock.release()
    thread.join(QUICKLY)
    assert result["answer"].status_code == 200
    with app.app_context():
        used = db.session.get(ApiToken, token_id).last_used_at
        db.session.remove()
    assert used is not None and now() - used < timedelta(minutes=1)
