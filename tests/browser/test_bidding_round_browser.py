"""In a real browser, the acceptance scenario of quick bidding: a buyer's cart above the
direct-purchase limit is turned into a round; three suppliers quote (one revises); the
operator's and the buyer's pages show three quotes and no price or name; the clock passes
the deadline (the mall's clock, moved, never slept on); the round closes and the SME deduction
changes the winner; the public result notice lists every quote; the winner confirms and the
order, with its contract, walks on through the direct-purchase lifecycle.

Elements are found by id and structure; the clock is frozen in this process, which also runs
the live server's threads, so the pages and the closing sweep see the same time.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bidding_rounds import closing
from bidding_rounds.models import BiddingRound
from mall.accounts.models import Organisation
from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock, now
from mall.purchasing.budget.models import PurchaseSettings
from mall.purchasing.orders import cart
from suppliers.listings import save_offers
from suppliers.models import SizeClass
from tests.browser.conftest import log_in
from tests.conftest import own_app, wait_until
from tests.factories.accounts import make_member
from tests.factories.purchasing import make_unit
from tests.factories.rounds import make_bidder
from tests.factories.suppliers import offer_input

pytestmark = pytest.mark.browser
NAMES = {"large": "湘江大型办公集团有限公司", "medium": "麓山中型商贸有限公司",
         "small": "橘洲小微文具有限公司"}


@pytest.fixture(scope="module")
def round_app(tmp_path_factory):
    with own_app(tmp_path_factory, "browser_rounds") as application:
        yield application


@pytest.fixture(scope="module")
def round_server(round_app):
    server = make_server("127.0.0.1", 0, round_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@dataclass(frozen=True)
class Cast:
    buyer: str
    operator: str
    large: str
    medium: str
    small: str


@pytest.fixture(scope="module")
def cast(round_app) -> Cast:
    """A unit whose cart (100 packs at ¥99.00) is above a ¥5,000 direct-purchase limit, and
    three suppliers of paper delivering to Hunan: large, medium and small."""
    from mall.extensions import db

    with round_app.app_context():
        session = db.session
        unit = make_unit(session)
        row = session.scalar(select(PurchaseSettings).where(
            PurchaseSettings.region_code.is_(None)))
        row.direct_limit_fen = 500_000
        bidders = {size: make_bidder(session, size=getattr(SizeClass, size.upper()))
                   for size in NAMES}
        for size, bidder in bidders.items():
            session.get_one(Organisation, bidder.id).name = NAMES[size]
        report = save_offers(session, bidders["large"].actor, supplier_id=bidders["large"].id,
                             items=[offer_input(price_fen=9_900, reference=10_500, stock=500)])
        cart.add_item(session, unit.buyer, offer_id=report.results[0].offer_id, quantity=100)
        operator = make_member(session, OrganisationKind.OPERATOR)
        result = Cast(unit.buyer_user.login, operator.login,
                      *(bidders[size].user.login for size in NAMES))
        session.commit()
        session.remove()
    return result


def _quote(browser, base: str, login: str, round_id: int, yuan: str, *, sme: bool = False,
           revise_to: str | None = None) -> None:
    context, tab = log_in(browser, base, login)
    try:
        tab.goto(f"{base}/rounds/opportunities")
        tab.locator(f"a[href='/rounds/{round_id}/quote']").first.click()
        tab.wait_for_url(f"{base}/rounds/{round_id}/quote")
        # The page computes its device fingerprint before the quote is sent.
        wait_until(tab, "document.getElementById('device_fingerprint').value.length > 0")
        for price in (yuan, revise_to) if revise_to else (yuan,):
            tab.locator("input[id^=price-]").fill(price)
            if sme:
                tab.locator("input[name=sme_goods]").check()
            with tab.expect_navigation():
                tab.locator("#quote-form button[type=submit]").click()
            assert tab.locator("#own-quote").is_visible()
        assert tab.locator(".field-error").count() == 0
    finally:
        context.close()


def test_a_cart_above_the_limit_becomes_a_round_that_closes_awards_and_orders(
        browser, round_app, round_server, cast):
    base = round_server
    with frozen_clock(now()) as clock:
        buyer_context, buyer = log_in(browser, base, cast.buyer)
        try:
            # The cart is above the direct-purchase limit: the way on is a bidding round.
            buyer.goto(f"{base}/cart")
            assert buyer.locator("#round-from-refusal").is_visible()
            with buyer.expect_navigation():
                buyer.locator("#round-from-refusal button[type=submit]").click()
            assert buyer.locator("#items input[id$=quantity]").first.input_value() == "100"
            buyer.locator("#budget_line_id").select_option(index=1)
            buyer.locator("#ceiling").fill("9900")
            buyer.locator("#delivery_address").fill("长沙市岳麓区麓山路1号 行政楼201")
            buyer.locator("#contact").fill("李四 13800000000")
            buyer.locator("#sme_deduction_pct").fill("10")
            with buyer.expect_navigation():
                buyer.locator("form button.primary[type=submit]").last.click()
            assert re.search(r"/rounds/\d+$", buyer.url), buyer.url
            round_id = int(buyer.url.rsplit("/", 1)[1])

            # Three suppliers quote; the medium one revises.
            _quote(browser, base, cast.large, round_id, "90.00")  # ¥9,000
            _quote(browser, base, cast.medium, round_id, "95.00", revise_to="93.00")
            _quote(browser, base, cast.small, round_id, "98.00", sme=True)  # ¥9,800 → 8,820

            # The buyer and the operator see three quotes and nothing else.
            operator_context, operator = log_in(browser, base, cast.operator)
            try:
                for tab in (buyer, operator):
                    tab.goto(f"{base}/rounds/{round_id}")
                    assert "3" in tab.locator("#quote-count").inner_text()
                    text = tab.locator("main").inner_text()
                    assert not [n for n in NAMES.values() if n in text]
                    assert not [p for p in ("90.00", "93.00", "95.00", "98.00", "9,000.00",
                                            "9,300.00", "9,800.00") if p in text]
                    assert tab.locator("table.ranked-quotes").count() == 0
            finally:
                operator_context.close()

            # The deadline passes; the scheduler's sweep closes the round.
            from mall.extensions import db

            with round_app.app_context():
                deadline = db.session.get_one(BiddingRound, round_id).deadline
                clock[0] = deadline + timedelta(seconds=2)
                assert closing.close_due_rounds(db.session) == 1
                db.session.commit()
                db.session.remove()

        finally:
            buyer_context.close()

        # A day later the buyer logs in again (the session expired): the SME deduction puts
        # the small supplier first, though its price is the highest.
        buyer_context, buyer = log_in(browser, base, cast.buyer)
        try:
            buyer.goto(f"{base}/rounds/{round_id}")
            rows = buyer.locator("table.ranked-quotes tbody tr")
            assert rows.count() == 3
            assert NAMES["small"] in rows.nth(0).inner_text()
            assert NAMES["large"] in rows.nth(1).inner_text()
            assert "¥8,820.00" in rows.nth(0).inner_text()
        finally:
            buyer_context.close()

        # The public result notice lists every quote, without a login.
        public = browser.new_context(locale="zh-CN")
        try:
            tab = public.new_page()
            tab.goto(f"{base}/notices")
            text = tab.locator("main").inner_text()
            assert all(name in text for name in (NAMES["small"],))
            tab.locator("main a", has_text="成交结果").first.click()
            detail = tab.locator("main").inner_text()
            assert all(name in detail for name in NAMES.values())
        finally:
            public.close()

        # The winner confirms: the order exists with its contract and goes on as any order.
        winner_context, winner = log_in(browser, base, cast.small)
        try:
            winner.goto(f"{base}/rounds/my-quotes")
            with winner.expect_navigation():
                winner.locator(f".award-to-confirm[data-round-id='{round_id}'] "
                               "button.primary").click()
            assert re.search(r"/orders/\d+$", winner.url), winner.url
            order_url = winner.url
            assert winner.locator("#order-status .tag-confirmed").count() == 1
            assert re.fullmatch(r"[0-9a-f]{64}", winner.locator("#contract-sha256").inner_text())
            with winner.expect_navigation():
                winner.locator("#form-sign button[type=submit]").click()
            assert winner.locator("#order-status .tag-supplier_signed").count() == 1
        finally:
            winner_context.close()

        buyer_context, buyer = log_in(browser, base, cast.buyer)
        try:
            buyer.goto(order_url)
            assert "¥9,800.00" in buyer.locator("main").inner_text()
            with buyer.expect_navigation():
                buyer.locator("#form-sign button[type=submit]").click()
            assert buyer.locator("#order-status .tag-signed").count() == 1
        finally:
            buyer_context.close()
