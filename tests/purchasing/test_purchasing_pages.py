"""Direct-purchase pages through the Flask test client: cart, checkout, order steps, approvals,
budget, notifications, public notices, ratings on the product page, language."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from catalog.models import Offer
from mall.accounts.models import User
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts import notices
from mall.purchasing.contracts import services as contracts
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import CartItem, Order, OrderStatus
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.models import Payment
from mall.purchasing.payments.stripe_gateway import WebhookEvent
from suppliers.models import SizeClass, SupplierProfile
from tests.conftest import csrf_from, login, post_form
from tests.factories.purchasing import make_unit, supplier_with_offers, token
from tests.factories.suppliers import operator_actor

ADDRESS = "长沙市岳麓区麓山路1号 行政楼201"
CONTACT = "李四 13800000000"


@dataclass
class Shop:
    unit: object
    first: object  # (user, actor, offer ids) of the supplier selling at 29.90
    second: object  # ... at 31.00

    @property
    def paper(self) -> int:
        return self.first[2][0]

    @property
    def other(self) -> int:
        return self.second[2][0]


@pytest.fixture
def shop(session) -> Shop:
    unit = make_unit(session)
    first = supplier_with_offers(session, prices=(2990,))
    second = supplier_with_offers(session, prices=(3100,))
    session.flush()
    return Shop(unit, first, second)


def _login_name(session, actor) -> str:
    return session.get(User, actor.user_id).login


def _english(browser):
    """Switch a client to English: the assertions read the English texts, which stay put when
    the Chinese catalogue (the default language) gains these pages' translations."""
    post_form(browser, "/login", "/language/en", {"next": "/login"})
    return browser


def _client(app, session, actor):
    """A browser of its own in English, logged in as ``actor``. Tests use these rather than the
    ``client`` fixture, which keeps its last app context (and so Flask-Login's user on ``g``)
    pushed for a second client's requests to share."""
    other = _english(app.test_client())
    login(other, _login_name(session, actor))
    return other


def _html(response) -> str:
    return response.get_data(as_text=True)


def _buy(session, unit, offers: dict[int, int], **options):
    for offer_id, quantity in offers.items():
        cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=quantity)
    result = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                               delivery_address=ADDRESS, contact=CONTACT, token=token(), **options)
    session.flush()
    return result.orders


def _post(client, order_id: int, action: str, data: dict | None = None):
    return post_form(client, f"/orders/{order_id}", f"/orders/{order_id}/{action}", data or {})


def _cart_items(session) -> list[tuple[int, int]]:
    session.expire_all()
    return sorted(session.execute(select(CartItem.offer_id, CartItem.quantity)).all())


# -- cart ---------------------------------------------------------------------------------------

def test_the_cart_adds_updates_and_removes_lines_grouped_by_supplier(app, session, shop):
    client = _client(app, session, shop.unit.buyer)
    for offer_id in (shop.paper, shop.other):
        added = post_form(client, "/cart", "/cart/add",
                          {"offer_id": offer_id, "quantity": "2", "next": "/cart"})
        assert added.status_code == 302 and added.location.endswith("/cart")
    html = _html(client.get("/cart"))
    assert html.count('class="card supplier-group"') == 2
    assert 'id="header-cart-count">2<' in html
    assert "¥59.80" in html and "¥62.00" in html and "¥121.80" in html  # lines and total

    updated = post_form(client, "/cart", "/cart/update", {f"quantity-{shop.paper}": "5"})
    assert updated.status_code == 302
    assert _cart_items(session) == sorted([(shop.paper, 5), (shop.other, 2)])

    refused = post_form(client, "/cart", "/cart/update", {f"quantity-{shop.paper}": "five",
                                                          f"quantity-{shop.other}": "3"})
    html = _html(refused)
    assert refused.status_code == 422
    assert f'id="quantity-{shop.paper}-error"' in html and 'value="five"' in html
    assert _cart_items(session) == sorted([(shop.paper, 5), (shop.other, 2)])  # nothing saved

    removed = post_form(client, "/cart", "/cart/remove", {"offer_id": shop.other})
    assert removed.status_code == 302
    assert _cart_items(session) == [(shop.paper, 5)]


def test_adding_more_than_the_stock_is_refused_with_the_stock_named(app, session, shop):
    client = _client(app, session, shop.unit.buyer)
    response = post_form(client, "/cart", "/cart/add",
                         {"offer_id": shop.paper, "quantity": "101", "next": "/cart"})
    html = _html(client.get(response.location))
    assert "Only 100 in stock." in html
    assert _cart_items(session) == []


def test_the_cart_warns_at_80_pct_of_the_limit_and_blocks_past_it(app, session, shop):
    budget.set_limits(session, operator_actor(session), region_code=None, direct_limit_fen=10_000)
    client = _client(app, session, shop.unit.buyer)
    cart.add_item(session, shop.unit.buyer, offer_id=shop.paper, quantity=3)  # 89.70 of 100.00
    session.flush()
    html = _html(client.get("/cart"))
    assert "89%" in html and "¥100.00" in html and 'class="note note-warning"' in html
    assert 'href="/checkout"' in html
    cart.set_quantity(session, shop.unit.buyer, offer_id=shop.paper, quantity=4)  # 119.60
    session.flush()
    html = _html(client.get("/cart"))
    assert 'class="note note-error"' in html
    assert "¥100.00" in html and "¥119.60" in html and "bidding round" in html
    assert 'href="/checkout"' not in html


# -- checkout -----------------------------------------------------------------------------------

def _checkout_form(client) -> dict:
    html = _html(client.get("/checkout"))
    return {"csrf_token": csrf_from(html),
            "token": re.search(r'name="token" value="([^"]+)"', html).group(1)}


def _order_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Order))


def test_checkout_makes_one_order_per_supplier_and_a_repeated_post_makes_no_more(app, session,
                                                                                 shop):
    client = _client(app, session, shop.unit.buyer)
    cart.add_item(session, shop.unit.buyer, offer_id=shop.paper, quantity=3)
    cart.add_item(session, shop.unit.buyer, offer_id=shop.other, quantity=1)
    session.flush()
    form = {**_checkout_form(client), "budget_line_id": shop.unit.line_id,
            "delivery_address": ADDRESS, "contact": CONTACT}
    first = client.post("/checkout", data=form)
    assert first.status_code == 302 and "/orders?new=" in first.location
    assert _order_count(session) == 2
    listing = _html(client.get(first.location))
    numbers = session.scalars(select(Order.number).order_by(Order.id)).all()
    assert all(n in listing for n in numbers)
    assert listing.count('class="new"') == 2 and "Orders submitted, one per supplier" in listing

    again = client.post("/checkout", data=form)  # the browser sends the same form twice
    assert again.status_code == 302
    assert _order_count(session) == 2
    assert "already submitted" in _html(client.get(again.location))
    line = session.get(BudgetLine, shop.unit.line_id)
    assert line.reserved_fen == 3 * 2990 + 3100


def test_a_refused_checkout_says_why_and_keeps_what_was_typed(app, session, shop):
    client = _client(app, session, shop.unit.buyer)
    cart.add_item(session, shop.unit.buyer, offer_id=shop.paper, quantity=3)
    session.flush()
    form = _checkout_form(client)
    session.get(Offer, shop.paper).stock = 1  # another unit bought the rest meanwhile
    session.flush()
    response = client.post("/checkout", data={**form, "budget_line_id": shop.unit.line_id,
                                              "delivery_address": ADDRESS, "contact": CONTACT})
    html = _html(response)
    assert response.status_code == 409
    refusal = re.search(r'id="refusals">(.*?)</div>', html, re.S).group(1)
    assert "only 1 left" in refusal and "Only 1 in stock." in html  # and next to the line
    assert ADDRESS in html and f'value="{CONTACT}"' in html
    assert f'<option value="{shop.unit.line_id}" selected>' in html
    assert _order_count(session) == 0

    missing = client.post("/checkout", data={**form, "budget_line_id": "", "delivery_address": " ",
                                             "contact": CONTACT})
    html = _html(missing)
    assert missing.status_code == 422
    assert 'id="delivery_address-error"' in html and 'id="budget_line_id-error"' in html
    assert f'value="{CONTACT}"' in html


def test_a_checkout_past_the_limit_names_the_limit_the_total_and_the_bidding_round(app, session,
                                                                                   shop):
    budget.set_limits(session, operator_actor(session), region_code=None, direct_limit_fen=10_000)
    client = _client(app, session, shop.unit.buyer)
    _buy(session, shop.unit, {shop.paper: 2})  # 59.80 bought this year
    cart.add_item(session, shop.unit.buyer, offer_id=shop.paper, quantity=2)  # 59.80 more
    session.flush()
    response = client.post("/checkout", data={**_checkout_form(client), "contact": CONTACT,
                                              "budget_line_id": shop.unit.line_id,
                                              "delivery_address": ADDRESS})
    html = _html(response)
    assert response.status_code == 409
    refusal = re.search(r'id="refusals">(.*?)</div>', html, re.S).group(1)
    assert "¥59.80" in refusal and "¥100.00" in refusal and "bidding round" in refusal
    assert ADDRESS in html
    assert _order_count(session) == 1


# -- orders and their steps ---------------------------------------------------------------------

def test_an_order_of_another_organisation_is_not_found(app, session, shop):
    (order,) = _buy(session, shop.unit, {shop.paper: 1})
    stranger = make_unit(session)
    other_supplier = supplier_with_offers(session)[1]
    session.flush()
    for actor in (stranger.buyer, other_supplier):
        browser = _client(app, session, actor)
        assert browser.get(f"/orders/{order.id}").status_code == 404
        assert browser.get(f"/orders/{order.id}/contract").status_code == 404
        assert order.number not in _html(browser.get("/orders"))
    assert _client(app, session, shop.unit.buyer).get(f"/orders/{order.id}").status_code == 200


def test_the_buyer_sees_buyer_steps_only_and_the_supplier_supplier_steps_only(app, session, shop):
    (order,) = _buy(session, shop.unit, {shop.paper: 1})
    client = _client(app, session, shop.unit.buyer)
    buyer_page = _html(client.get(f"/orders/{order.id}"))
    assert 'id="form-cancel"' in buyer_page
    assert 'id="form-confirm"' not in buyer_page and 'id="form-decline"' not in buyer_page
    assert 'id="deadline"' in buyer_page  # confirm_by is highlighted
    assert _post(client, order.id, "confirm").status_code == 403

    supplier = _client(app, session, shop.first[1])
    supplier_page = _html(supplier.get(f"/orders/{order.id}"))
    assert 'id="form-confirm"' in supplier_page and 'id="form-decline"' in supplier_page
    assert 'id="form-cancel"' not in supplier_page and "2026-BG-001" not in supplier_page
    assert _post(supplier, order.id, "cancel", {"reason": "x"}).status_code == 403
    session.expire_all()
    assert session.get(Order, order.id).status is OrderStatus.SENT


def test_a_raised_price_is_refused_next_to_that_line_and_a_lower_one_confirms(app, session, shop):
    (order,) = _buy(session, shop.unit, {shop.paper: 10})
    line_id = order.lines[0].id
    supplier = _client(app, session, shop.first[1])
    raised = _post(supplier, order.id, "confirm", {f"price-{line_id}": "30.00"})
    html = _html(raised)
    assert raised.status_code == 422
    error = re.search(rf'id="confirm-prices-{line_id}-error"[^>]*>([^<]*)<', html).group(1)
    assert "never raised" in error
    assert f'name="price-{line_id}" inputmode="decimal" value="30.00"' in html
    session.expire_all()
    assert session.get(Order, order.id).status is OrderStatus.SENT

    lowered = _post(supplier, order.id, "confirm", {f"price-{line_id}": "28.00"})
    assert lowered.status_code == 302
    session.expire_all()
    confirmed = session.get(Order, order.id)
    assert confirmed.status is OrderStatus.CONFIRMED and confirmed.total_fen == 28_000
    html = _html(supplier.get(lowered.location))
    assert "Order confirmed" in html and 'id="form-sign"' in html and 'id="contract-sha256"' in html


def test_an_order_goes_from_contract_to_payment_and_rating_through_its_pages(app, session, shop):
    (order,) = _buy(session, shop.unit, {shop.paper: 10})
    line_id = order.lines[0].id
    supplier = _client(app, session, shop.first[1])
    assert _post(supplier, order.id, "confirm").status_code == 302
    sha = re.search(r'id="contract-sha256">([0-9a-f]{64})<',
                    _html(supplier.get(f"/orders/{order.id}"))).group(1)
    contract_page = supplier.get(f"/orders/{order.id}/contract")
    assert contract_page.headers["X-Contract-SHA256"] == sha and "政府采购合同" in _html(contract_page)
    pdf = supplier.get(f"/orders/{order.id}/contract?format=pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert _post(supplier, order.id, "sign", {"sha256": sha}).status_code == 302

    client = _client(app, session, shop.unit.buyer)
    stale = _post(client, order.id, "sign", {"sha256": "0" * 64})
    assert stale.status_code == 422 and 'id="action-error"' in _html(stale)
    assert _post(client, order.id, "sign", {"sha256": sha}).status_code == 302
    html = _html(client.get(f"/orders/{order.id}"))
    assert html.count(sha) >= 3  # the document's and both signatures

    missing = _post(supplier, order.id, "ship", {"carrier": "顺丰", "tracking_number": ""})
    assert missing.status_code == 422
    assert 'id="ship-tracking_number-error"' in _html(missing) and 'value="顺丰"' in _html(missing)
    assert _post(supplier, order.id, "ship", {"carrier": "顺丰", "tracking_number": "SF1001"}
                 ).status_code == 302
    assert _post(client, order.id, "receive").status_code == 302

    partial = _post(client, order.id, "accept", {"result": "partial", f"quantity-{line_id}": "7",
                                                 "reasons": ""})
    html = _html(partial)
    assert partial.status_code == 422 and 'id="accept-reasons-error"' in html
    assert f'name="quantity-{line_id}" inputmode="numeric" value="7"' in html
    assert _post(client, order.id, "accept", {"result": "pass"}).status_code == 302
    assert _post(supplier, order.id, "invoice", {"invoice_number": "E-2026-0001"}).status_code == 302

    finance = _client(app, session, shop.unit.finance)
    page = _html(finance.get(f"/orders/{order.id}"))
    assert 'id="form-pay-treasury"' in page and 'id="deadline"' in page  # pay_by
    wrong = _post(finance, order.id, "pay-treasury", {"voucher_number": "GK-1", "amount": "1.00",
                                                      "paid_on": "2000-01-01",
                                                      "payee_account_number": "6230901000000001"})
    html = _html(wrong)
    assert wrong.status_code == 422 and 'id="pay-treasury-amount-error"' in html
    assert "¥299.00" in re.search(r'id="pay-treasury-amount-error"[^>]*>([^<]*)<', html).group(1)
    paid = _post(finance, order.id, "pay-treasury", {"voucher_number": "GK-1", "amount": "299.00",
                                                     "paid_on": "2000-01-01",
                                                     "payee_account_number": "6230901000000001"})
    assert paid.status_code == 302
    session.expire_all()
    assert session.get(Order, order.id).status is OrderStatus.PAID

    assert _post(client, order.id, "rate", {"quality": "5", "delivery": "4", "service": "4",
                                            "comment": "按时送达"}).status_code == 302
    html = _html(client.get(f"/orders/{order.id}"))
    assert 'id="acceptance"' in html and 'id="rating"' in html and "GK-1" in html
    assert html.count('<li') >= 9 and "SF1001" in html  # every step on the timeline

    product = _html(client.get(f"/products/{session.get(Offer, shop.paper).product_id}"))
    assert "★ 4.3 / 5" in product and "Ratings: 1" in product


def test_a_card_payment_shows_processing_until_the_webhook_marks_it_paid(app, session, shop,
                                                                         localstripe, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", localstripe.base_url)
    monkeypatch.setitem(app.config, "STRIPE_MAX_NETWORK_RETRIES", 0)
    (order,) = _buy(session, shop.unit, {shop.paper: 2})
    _, supplier, _ids = shop.first
    orders.confirm(session, supplier, order.id)
    contracts.sign(session, supplier, order.id)
    contracts.sign(session, shop.unit.buyer, order.id)
    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF2")
    orders.receive(session, shop.unit.buyer, order.id)
    orders.accept(session, shop.unit.buyer, order.id, result="pass")
    session.flush()
    client = _client(app, session, shop.unit.buyer)
    # Payment follows the invoice: no card form before it, and a forged post is refused.
    page = _html(client.get(f"/orders/{order.id}"))
    assert 'id="form-pay-card"' not in page
    early = _post(client, order.id, "pay-card", {"payment_method": "pm_card_visa"})
    assert early.status_code == 409 and "invoice" in _html(early)
    orders.invoice(session, supplier, order.id, invoice_number="E-1")
    session.flush()
    page = _html(client.get(f"/orders/{order.id}"))
    assert f'src="{localstripe.base_url}/js.stripe.com/v3/"' in page and "<noscript>" in page
    assert _post(client, order.id, "pay-card", {"payment_method": "pm_card_visa"}).status_code == 302
    html = _html(client.get(f"/orders/{order.id}"))
    assert 'id="payment-processing"' in html and 'id="form-pay-card"' not in html

    session.expire_all()
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
    payments.handle_webhook(session, WebhookEvent(
        id="evt_pages_1", type="payment_intent.succeeded", created=0, intent_id=payment.intent_id,
        status="succeeded", amount_fen=payment.amount_fen, order_number=order.number))
    session.flush()
    html = _html(client.get(f"/orders/{order.id}"))
    assert 'id="payment-processing"' not in html and 'class="tag tag-paid"' in html
    assert 'id="form-rate"' in html
    seller = _client(app, session, supplier)
    assert 'id="form-invoice"' not in _html(seller.get(f"/orders/{order.id}"))


def test_the_approver_approves_from_the_approvals_page(app, session, shop):
    orders.set_approval_threshold(session, shop.unit.approver, 5000)
    (small,) = _buy(session, shop.unit, {shop.paper: 1})
    (large,) = _buy(session, shop.unit, {shop.paper: 2})
    approver = _client(app, session, shop.unit.approver)
    html = _html(approver.get("/approvals"))
    assert large.number in html and small.number not in html
    done = post_form(approver, "/approvals", f"/orders/{large.id}/approve", {"next": "/approvals"})
    assert done.status_code == 302 and done.location.endswith("/approvals")
    session.expire_all()
    assert session.get(Order, large.id).status is OrderStatus.SENT
    assert large.number not in _html(approver.get("/approvals"))


def test_finance_adds_a_budget_line_and_the_approver_sets_the_approval_amount(app, session, shop):
    finance = _client(app, session, shop.unit.finance)
    refused = post_form(finance, "/budget", "/budget", {
        "fiscal_year": "2026", "project_code": "", "project_name": "家具", "category_code": "A05",
        "amount": "abc"})
    html = _html(refused)
    assert refused.status_code == 422
    for field in ("project_code", "category_code", "amount"):
        assert f'id="{field}-error"' in html
    assert 'value="家具"' in html
    added = post_form(finance, "/budget", "/budget", {
        "fiscal_year": str(checkout.fiscal_year()), "project_code": "2026-BG-009",
        "project_name": "家具购置", "category_code": "A05000000", "amount": "12,000.50"})
    assert added.status_code == 302
    session.expire_all()
    assert session.scalar(select(BudgetLine.amount_fen).where(
        BudgetLine.project_code == "2026-BG-009")) == 1_200_050
    assert 'id="threshold"' not in _html(finance.get("/budget"))

    approver = _client(app, session, shop.unit.approver)
    assert post_form(approver, "/budget", "/budget/approval-threshold",
                     {"approval_above": "5000"}).status_code == 302
    assert "¥5,000.00" in _html(approver.get("/budget"))


def test_notifications_are_listed_in_the_inbox_and_marked_read(app, session, shop):
    (order,) = _buy(session, shop.unit, {shop.paper: 1})
    supplier = _client(app, session, shop.first[1])
    home = _html(supplier.get("/orders"))
    assert 'id="header-unread-count">1<' in home
    inbox = _html(supplier.get("/notifications"))
    assert f"New order {order.number}: confirm it within 72 hours." in inbox
    assert f'href="/orders/{order.id}"' in inbox and 'class="unread"' in inbox
    assert 'id="header-unread-count"' not in _html(supplier.get("/notifications"))


# -- public notices, language -------------------------------------------------------------------

def test_public_notices_work_without_login_and_hide_secret_contracts(app, session, shop):
    _user, supplier, _ids = shop.first
    session.add(SupplierProfile(
        organisation_id=supplier.organisation_id, legal_representative="王", size=SizeClass.SMALL,
        controlling_shareholder="王", contact_name="王", contact_phone="13800000000",
        contact_email="w@example.cn", bank_name="银行", bank_account="6230"))
    (public,) = _buy(session, shop.unit, {shop.paper: 2})
    (secret,) = _buy(session, shop.unit, {shop.paper: 1}, secret=True)
    for order in (public, secret):
        orders.confirm(session, supplier, order.id)
        contracts.sign(session, supplier, order.id)
        contracts.sign(session, shop.unit.buyer, order.id)
    notices.publish_due(session)
    session.flush()

    client = _english(app.test_client())  # nobody logged in
    html = _html(client.get("/notices"))
    assert f"政府采购合同公告（{public.number}）" in html
    assert f"政府采购合同公告（{secret.number}）" not in html
    assert 'href="/api/v1/notices"' in html
    only = _html(client.get(f"/notices?kind=contract&supplier={supplier_name(session, supplier)}"))
    assert only.count("data-notice-id") == 1
    notice_id = int(re.search(r'data-notice-id="(\d+)"', only).group(1))
    detail = _html(client.get(f"/notices/{notice_id}"))
    assert "HT" + public.number[2:] in detail and 'id="sme-mark"' in detail
    assert "¥29.90" in detail and "¥59.80" in detail
    bad = _html(client.get("/notices?date_from=yesterday&category=A0501"))
    assert 'id="date_from-error"' in bad and 'value="A0501"' in bad
    from mall.purchasing.contracts.models import Notice

    withheld = session.scalar(select(Notice.id).where(Notice.order_id == secret.id,
                                                      Notice.withheld.is_(True)))
    assert client.get(f"/notices/{withheld}").status_code == 404


def supplier_name(session, actor) -> str:
    from mall.accounts.models import Organisation

    return session.get(Organisation, actor.organisation_id).name


def test_the_language_switch_shows_the_pages_in_english(client, session, shop):
    login(client, shop.unit.buyer_user.login)  # Chinese, the default
    chinese = _html(client.get("/orders"))
    assert 'lang="zh-CN"' in chinese and "状态" in chinese
    post_form(client, "/orders", "/language/en", {"next": "/orders"})
    english = _html(client.get("/orders"))
    assert 'lang="en"' in english and "<th scope=\"col\">Status</th>" in english
    assert "状态" not in english and "Orders" in english


def test_the_buyer_sets_the_delivery_term_and_the_contract_carries_it(app, session, shop):
    client = _client(app, session, shop.unit.buyer)
    cart.add_item(session, shop.unit.buyer, offer_id=shop.paper, quantity=2)
    session.flush()
    form = {**_checkout_form(client), "budget_line_id": shop.unit.line_id,
            "delivery_address": ADDRESS, "contact": CONTACT}

    refused = client.post("/checkout", data={**form, "delivery_days": "两周"})
    assert refused.status_code == 422
    html = _html(refused)
    assert 'id="delivery_days-error"' in html and "1 to 180 days" in html
    assert 'value="两周"' in html and _order_count(session) == 0

    assert client.post("/checkout", data={**form, "delivery_days": "3"}).status_code == 302
    (order,) = session.scalars(select(Order)).all()
    assert order.delivery_days == 3
    supplier = _client(app, session, shop.first[1])
    assert _post(supplier, order.id, "confirm").status_code == 302
    contract = _html(client.get(f"/orders/{order.id}/contract"))
    assert "3 日内" in contract
    assert "within 3 days" in _html(client.get(f"/orders/{order.id}"))
