"""In a real browser: a buyer pays an order with a card whose bank asks for 3-D Secure. The
order page shows the check, the buyer confirms it in the bank's window (localstripe's
Stripe.js stand-in plays the bank), and the order shows as paid."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from mall.accounts.models import User
from tests.browser.conftest import log_in, pay_by_card
from tests.conftest import own_app
from tests.purchasing.localstripe_server import WEBHOOK_SECRET, running_localstripe
from tests.purchasing.test_payments import accepted_order

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A mall served on a free port with its own database and localstripe (webhook registered)."""
    from mall.purchasing.payments.stripe_gateway import register_localstripe_webhook

    with running_localstripe(tmp_path_factory.mktemp("verify_stripe") / "localstripe.log") as stripe_server, \
            own_app(tmp_path_factory, "browser_verification", STRIPE_API_BASE=stripe_server.base_url,
                    STRIPE_API_KEY="sk_test_localstripe", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                    STRIPE_MAX_NETWORK_RETRIES=0, STRIPE_TIMEOUT_SECONDS=10) as application:
        server = make_server("127.0.0.1", 0, application, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        register_localstripe_webhook(stripe_server.settings(), name="verification-browser",
                                     url=f"{base}/api/v1/payments/stripe-webhook",
                                     events=["payment_intent.succeeded",
                                             "payment_intent.payment_failed"])
        yield application, base
        register_localstripe_webhook(stripe_server.settings(), name="verification-browser",
                                     url=f"{base}/api/v1/payments/stripe-webhook", events=[])
        server.shutdown()
        thread.join(timeout=5)


def _accepted(application) -> tuple[str, int]:
    from mall.extensions import db

    with application.app_context():
        world = accepted_order(db.session, invoiced=True)
        login = db.session.get(User, world.unit.buyer.user_id).login
        db.session.commit()
        db.session.remove()
    return login, world.order_id


@pytest.mark.parametrize("bank_says", ["Complete authentication", "Fail authentication"])
def test_a_buyer_confirms_a_card_payment_with_the_bank(browser, live, bank_says):
    application, base = live
    login, order_id = _accepted(application)
    context, tab = log_in(browser, base, login, timeout_ms=TIMEOUT_MS)
    try:
        tab.goto(f"{base}/orders/{order_id}")

        pay_by_card(tab, "4000002500003155")  # a card that asks for 3-D Secure
        assert tab.locator("#card-verification").is_visible()
        assert tab.locator("#payments .tag-requires_action").count() == 1
        assert tab.locator("#form-pay-treasury").count() == 0  # nothing else while it waits
        assert tab.locator("#form-pay-card").count() == 0  # the waiting check, not a second form
        assert tab.locator("#form-cancel-card-check").is_visible()

        with tab.expect_navigation():
            tab.locator("#verify-card").click()
            tab.get_by_role("button", name=bank_says).click()  # the bank's window
        if bank_says == "Complete authentication":
            tab.locator("#order-status .tag-paid").wait_for()
            assert tab.locator("#payments .tag-succeeded").count() == 1
        else:
            assert tab.locator("#card-verification").count() == 0
            assert tab.locator("#payments .tag-failed").count() == 1
            assert tab.locator("#form-pay-card").is_visible()  # another card may be tried
            assert tab.locator("#order-status .tag-invoiced").count() == 1
    finally:
        context.close()
