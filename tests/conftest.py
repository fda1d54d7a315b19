"""Test fixtures: one migrated database per run (SQLite file or PostgreSQL), a rolled-back
transaction per test, and helpers to log in and post forms with their CSRF token.

Set TEST_DATABASE_URL to a PostgreSQL URL (the database is dropped and re-created) to run
the suite there; by default it runs on a fresh SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import re
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from mall import create_app
from mall.config import normalise_database_url

PASSWORD = "Correct-Horse-42"


def _recreate_postgres(url: str) -> str:
    parts = urlsplit(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = parts.path.lstrip("/") + (f"_{worker}" if worker else "")
    admin = urlunsplit((parts.scheme.replace("+psycopg", ""), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def make_database_url(tmp_dir, label: str = "mall") -> str:
    """A fresh, empty database for this run: PostgreSQL when configured, else SQLite."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        url = normalise_database_url(configured)
        parts = urlsplit(url)
        if label != "mall":
            url = urlunsplit((parts.scheme, parts.netloc, f"{parts.path}_{label}", "", ""))
        return _recreate_postgres(url)
    return f"sqlite:///{tmp_dir / (label + '.db')}"


def build_app(database_url: str, var_dir, **overrides):
    os.environ["MALL_VAR_DIR"] = str(var_dir)
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "FINANCE_RATE_LIMIT": "1000 per minute",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return create_app(config)


def migrate_and_load(app) -> None:
    """Run the real migrations and load the official catalogue, as `mall up` does."""
    from catalog.services import load_catalogue
    from mall.extensions import db

    with app.app_context():
        upgrade()
        load_catalogue(db.session)
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mall")
    application = build_app(make_database_url(tmp), tmp / "var")
    migrate_and_load(application)
    yield application
    dispose(application)


def dispose(application) -> None:
    """Close pooled connections so no driver warns about them at exit."""
    from mall.extensions import db

    with application.app_context():
        db.engine.dispose()


@contextlib.contextmanager
def own_app(tmp_path_factory, label: str, **overrides):
    """An app on its own migrated database, whose requests and threads really commit."""
    tmp = tmp_path_factory.mktemp(label)
    application = build_app(make_database_url(tmp, label), tmp / "var", **overrides)
    migrate_and_load(application)
    try:
        yield application
    finally:
        dispose(application)


def _scope() -> int:
    """Requests get a session per app context; the test body (no context) shares key 0."""
    try:
        return _app_ctx_id()
    except RuntimeError:
        return 0


@pytest.fixture
def session(app):
    """A session on a connection whose transaction is rolled back after the test.

    Requests made by the test client push their own app context and get their own
    session on the same connection (each in a savepoint), as in production where every
    request is its own unit of work; objects the test holds are refreshed with
    ``session.expire_all()`` after a request changed them.
    """
    from mall.extensions import db

    with app.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    original = db.session
    # A plain SQLAlchemy session: Flask-SQLAlchemy's own get_bind() would ignore the
    # connection and open a second one (which on SQLite waits for our write lock).
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_scope)
    try:
        yield db.session()
    finally:
        db.session.remove()
        db.session = original
        transaction.rollback()
        connection.close()


@pytest.fixture
def anchor_keys(tmp_path, app, monkeypatch):
    """Audit anchors and signing key of this test only (its database work is rolled back)."""
    from mall.core.audit_anchor import AnchorKeys

    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_DIR", str(tmp_path / "anchors"))
    return AnchorKeys.from_config(app.config)


@pytest.fixture
def client(app, session):
    with app.test_client() as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, login_name: str, password: str = PASSWORD):
    """Log in through the real form (with its CSRF token); returns the response."""
    page = client.get("/login")
    return client.post("/login", data={"login": login_name, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})


def post_form(client, page_url: str, action_url: str, data: dict):
    """Open a page, take its CSRF token and post a form to ``action_url``."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={**data, "csrf_token": token})


# Headless Chromium, shared by every browser test of the session (tests/browser and the
# browser tests of other folders): Playwright's sync API runs one instance per thread.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


class WatchedBrowser:
    """Chromium whose every context reports Content-Security-Policy violations.

    Chromium logs each refused script, style, fetch or frame to the console ("Refused to …
    because it violates the following Content Security Policy directive"); every context
    made through ``new_context`` records those messages, and ``no_csp_violations`` fails the
    test that caused one.
    """

    def __init__(self, chromium, violations: list[str]):
        self._chromium = chromium
        self.violations = violations

    def new_context(self, **kwargs):
        context = self._chromium.new_context(**kwargs)
        context.on("console", self._record)
        return context

    def _record(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"{message.location.get('url', '')}: {message.text}")

    def __getattr__(self, name):
        return getattr(self._chromium, name)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield WatchedBrowser(chromium, [])
        chromium.close()


@pytest.fixture(autouse=True)
def no_csp_violations(request):
    """Fail a browser test when a page it opened broke the Content-Security-Policy."""
    if "browser" not in request.fixturenames:
        yield
        return
    watched = request.getfixturevalue("browser")
    seen = len(watched.violations)
    yield
    assert watched.violations[seen:] == [], "Content-Security-Policy violations"


def wait_until(tab, expression: str, *, timeout_ms: int = 15_000) -> None:
    """Poll a JavaScript expression until it is true. Playwright's ``wait_for_function``
    re-evaluates a string with eval() once its first try fails, which our
    Content-Security-Policy (no 'unsafe-eval') refuses; ``evaluate`` is not affected."""
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while not tab.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
        tab.wait_for_timeout(100)
