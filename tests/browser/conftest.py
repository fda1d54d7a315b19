"""A live mall on its own database, served by a real WSGI server, and headless Chromium.

Browser tests commit for real, so they get a separate database (SQLite file or a
PostgreSQL database named *_browser) instead of the rolled-back test transaction.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from mall.core.auth import OrganisationKind
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, own_app  # noqa: F401 (re-exported)

# The session's one Chromium (``browser``) and its CSP watch live in tests/conftest.py:
# Playwright's sync API cannot start a second instance while the first runs.


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
