"""In a real browser, the acceptance scenario of direct purchase: a buyer searches, puts two
suppliers' offers in the cart and checks out into two orders; one supplier confirms and signs,
the buyer signs, the supplier ships; the buyer receives, accepts and pays by card through
localstripe's Stripe.js stand-in; localstripe's webhook marks the order paid; the contract
notice is then public.

Elements are found by id and structure, not by label: the Chinese texts of these pages arrive
with the next merge of the translation catalogue.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from catalog.search.documents import iter_documents
from mall.accounts.models import Organisation, User
from suppliers.listings import save_offers
from tests.browser.conftest import log_in, pay_by_card
from tests.conftest import own_app
from tests.factories.purchasing import make_unit
from tests.factories.suppliers import DESKTOP, PAPER, admitted_supplier, offer_input
from tests.purchasing.localstripe_server import WEBHOOK_SECRET, running_localstripe

pytestmark = pytest.mark.browser
WEBHOOK_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def stripe_server(tmp_path_factory):
    with running_localstripe(tmp_path_factory.mktemp("purchase_stripe") / "localstripe.log") as server:
        yield server


@pytest.fixture(scope="module")
def purchase_app(tmp_path_factory, stripe_server):
    """A live mall of this module whose card gateway is the module's localstripe."""
    with own_app(tmp_path_factory, "browser_purchase",
                 STRIPE_API_BASE=stripe_server.base_url, STRIPE_API_KEY="sk_test_localstripe",
                 STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_MAX_NETWORK_RETRIES=0,
                 STRIPE_TIMEOUT_SECONDS=10) as application:
        yield application


@pytest.fixture(scope="module")
def purchase_server(purchase_app, stripe_server):
    """The mall served for real, registered as localstripe's webhook endpoint."""
    from mall.purchasing.payments.stripe_gateway import register_localstripe_webhook

    server = make_server("127.0.0.1", 0, purchase_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    register_localstripe_webhook(stripe_server.settings(), name="direct-purchase-browser",
                                 url=f"{base}/api/v1/payments/stripe-webhook", events=WEBHOOK_EVENTS)
    yield base
    server.shutdown()
    thread.join(timeout=5)


@dataclass(frozen=True)
class People:
    buyer: str
    supplier: str  # the login of the supplier that goes through the whole order
    supplier_name: str
    other_supplier_name: str


@pytest.fixture(scope="module")
def people(purchase_app) -> People:
    """A unit with a budget line, and two suppliers selling the same paper; indexed for search."""
    from mall.extensions import db

    with purchase_app.app_context():
        session = db.session
        unit = make_unit(session)
        sellers = [admitted_supplier(session, codes=(PAPER, DESKTOP))[1] for _ in range(2)]
        for actor, price in zip(sellers, (2590, 2790), strict=True):
            save_offers(session, actor, supplier_id=actor.organisation_id,
                        items=[offer_input(model="ZB-A4-90", price_fen=price)])
        names = [session.get(Organisation, a.organisation_id).name for a in sellers]
        result = People(buyer=unit.buyer_user.login,
                        supplier=session.get(User, sellers[0].user_id).login,
                        supplier_name=names[0], other_supplier_name=names[1])
        session.commit()
        backend = purchase_app.extensions["search"]()
        backend.clear()
        backend.index_documents(iter_documents(session))
        session.remove()
    return result


def _step(tab, name: str) -> None:
    """Submit the form of an order step and wait for the page it redirects back to."""
    with tab.expect_navigation():
        tab.locator(f"#form-{name} button[type=submit]").click()


def _status(tab) -> str:
    return tab.locator("#order-status .tag").get_attribute("class").split("tag-")[-1]


def test_a_buyer_buys_from_two_suppliers_and_pays_one_order_by_card(browser, purchase_app,
                                                                    purchase_server, people):
    base = purchase_server
    buyer_context, buyer = log_in(browser, base, people.buyer)
    supplier_context, supplier = log_in(browser, base, people.supplier)
    try:
        # Search, compare, and put both suppliers' offers in the cart.
        buyer.goto(f"{base}/search")
        buyer.locator("#q").fill("复印纸")
        buyer.keyboard.press("Enter")
        buyer.wait_for_url("**/search?*")
        buyer.locator(".result-card a").first.click()
        buyer.wait_for_url("**/products/*")
        assert buyer.locator("tr[data-offer-id]").count() == 2
        for row in range(2):
            with buyer.expect_navigation():
                buyer.locator("tr[data-offer-id] button[type=submit]").nth(row).click()
        assert buyer.locator("#cart-count").inner_text() == "2"

        buyer.locator("a.cart").click()
        buyer.wait_for_url(f"{base}/cart")
        assert buyer.locator("section.supplier-group").count() == 2
        assert buyer.locator("#cart-total").inner_text() == "¥53.80"

        # Check out: one order per supplier.
        buyer.locator("a[href='/checkout']").click()
        buyer.wait_for_url(f"{base}/checkout")
        buyer.locator("#budget_line_id").select_option(index=1)
        buyer.locator("#delivery_address").fill("长沙市岳麓区麓山路1号 行政楼201")
        buyer.locator("#contact").fill("李四 13800000000")
        buyer.locator("form[action='/checkout'] button[type=submit]").click()
        buyer.wait_for_url("**/orders?new=*")
        assert buyer.locator("tr.new").count() == 2
        mine = buyer.locator("tr.new", has_text=people.supplier_name)
        order_url = base + mine.locator("a").first.get_attribute("href")
        number = mine.locator("a").first.inner_text()
        assert buyer.locator("tr.new", has_text=people.other_supplier_name).count() == 1

        # The supplier finds the order, confirms it and signs the contract.
        supplier.goto(f"{base}/orders")
        supplier.locator("tr", has_text=number).locator("a").first.click()
        supplier.wait_for_url(order_url)
        assert supplier.locator("#deadline").is_visible()  # confirm within 72 hours
        _step(supplier, "confirm")
        assert _status(supplier) == "confirmed"
        assert re.fullmatch(r"[0-9a-f]{64}", supplier.locator("#contract-sha256").inner_text())
        _step(supplier, "sign")
        assert _status(supplier) == "supplier_signed"

        # The buyer signs; the supplier ships.
        buyer.goto(order_url)
        _step(buyer, "sign")
        assert _status(buyer) == "signed"
        supplier.reload()
        supplier.locator("#ship-carrier").fill("顺丰速运")
        supplier.locator("#ship-tracking_number").fill("SF1234567890")
        _step(supplier, "ship")
        assert _status(supplier) == "shipped"

        # The buyer receives and accepts; payment follows the supplier's invoice.
        buyer.reload()
        _step(buyer, "receive")
        _step(buyer, "accept")  # "pass" is preselected
        assert _status(buyer) == "accepted"
        assert buyer.locator("#form-pay-card").count() == 0
        supplier.reload()
        supplier.locator("#invoice-invoice_number").fill("E-2026-0001")
        _step(supplier, "invoice")
        assert _status(supplier) == "invoiced"

        # The buyer pays by card through the Stripe.js stand-in.
        buyer.reload()
        pay_by_card(buyer, "4242424242424242")
        assert buyer.locator("#action-error").count() == 0
        # localstripe sends payment_intent.succeeded about a second later; the page polls.
        buyer.locator("#order-status .tag-paid").wait_for(timeout=TIMEOUT_MS)
        assert buyer.locator("#payments .tag-succeeded").count() == 1
        assert buyer.locator("#form-rate").is_visible()
    finally:
        buyer_context.close()
        supplier_context.close()

    # The contract notice is published by the notices job and is public.
    from mall.extensions import db
    from mall.purchasing.contracts.notices import publish_due

    with purchase_app.app_context():
        assert publish_due(db.session) >= 2  # this order's result and contract notices
        db.session.commit()
        db.session.remove()
    public = browser.new_context(locale="zh-CN")
    try:
        tab = public.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(f"{base}/notices?kind=contract")
        row = tab.locator("tr[data-notice-id]", has_text=number)
        assert row.count() == 1
        row.locator("a").click()
        tab.wait_for_url("**/notices/*")
        assert "HT" + number[2:] in tab.locator("#notice").inner_text()
        assert "¥25.90" in tab.locator("#notice-items").inner_text()
    finally:
        public.close()
