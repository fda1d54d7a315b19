"""A live mall on its own database, served by a real WSGI server, and headless Chromium.

Browser tests commit for real, so they get a separate database (SQLite file or a
PostgreSQL database named *_browser) instead of the rolled-back test transaction.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from mall.core.auth import OrganisationKind
from tests.conftest import own_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    with own_app(tmp_path_factory, "browser") as application:
        yield application


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


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


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def make_live_member(live_app):
    """Create and commit a user in the live database."""
    from mall.extensions import db
    from tests.factories.accounts import make_member

    def _make(kind: OrganisationKind, login: str, **kwargs):
        with live_app.app_context():
            user = make_member(db.session, kind, login=login, **kwargs)
            info = (user.id, user.organisation_id, user.organisation.name)
            db.session.commit()
            db.session.remove()
        return info

    return _make


def log_in(browser, base: str, login: str, *, timeout_ms: int = 15_000):
    """A new Chinese-locale browser context logged in through the form; (context, tab)."""
    from tests.conftest import PASSWORD

    context = browser.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(timeout_ms)
    tab.goto(f"{base}/login")
    tab.locator("#login").fill(login)
    tab.locator("#password").fill(PASSWORD)
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{base}/")
    return context, tab


def pay_by_card(tab, number: str) -> None:
    """Type a card into the order page's card form (localstripe's Stripe.js stand-in) and submit."""
    card = tab.locator("#card-element")
    for placeholder, value in (("number", number), ("exp_month", "12"), ("exp_year", "30"),
                               ("cvc", "123"), ("postal_code", "41000")):
        card.locator(f"input[placeholder={placeholder}]").fill(value)
    with tab.expect_navigation():
        tab.locator("#form-pay-card button[type=submit]").click()
