"""The open-tender threshold (公开招标限额): past the direct-purchase limit the way on is a
bidding round, but above the threshold, or when a category's direct and bidding purchases of
the year would pass it (化整为零), neither direct purchase nor a round may buy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mall.accounts.models import User
from mall.core.errors import ValidationFailed
from mall.purchasing.budget import limits
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import CategorySpend, PurchaseSettings
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders.checkout import fiscal_year
from tests.conftest import login, post_form
from tests.factories.purchasing import make_unit, supplier_with_offers, token
from tests.factories.suppliers import PAPER, operator_actor

LIMIT, THRESHOLD = 100_000, 300_000  # ¥1,000 direct, ¥3,000 open tender


def _buy(session, unit, offers: dict[int, int]):
    for offer_id, quantity in offers.items():
        cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=quantity)
    return checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                             delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000",
                             token=token())


@pytest.fixture
def unit(session):
    made = make_unit(session)
    budget.set_limits(session, operator_actor(session), region_code=None, direct_limit_fen=LIMIT,
                      open_tender_fen=THRESHOLD)
    return made


def test_an_order_over_the_direct_limit_is_refused_with_a_bidding_round_as_the_way_on(
        session, unit):
    _s, _a, (paper,) = supplier_with_offers(session, prices=(10_000,), stock=1000)
    with pytest.raises(limits.LimitExceeded) as refused:
        _buy(session, unit, {paper: 11})  # ¥1,100 in one order
    assert refused.value.round_possible
    assert refused.value.code == "direct_purchase_limit_exceeded"
    assert "bidding round" in refused.value.detail


def test_a_running_total_over_the_direct_limit_is_refused_with_a_round_possible(session, unit):
    _s, _a, (paper,) = supplier_with_offers(session, prices=(10_000,), stock=1000)
    _buy(session, unit, {paper: 6})
    with pytest.raises(limits.LimitExceeded) as refused:
        _buy(session, unit, {paper: 5})  # ¥1,100 this year
    assert refused.value.round_possible


def test_a_cart_over_the_open_tender_threshold_is_refused_for_direct_purchase_and_rounds(
        session, unit):
    _s, _a, (paper,) = supplier_with_offers(session, prices=(10_000,), stock=1000)
    with pytest.raises(limits.OpenTenderRequired) as refused:
        _buy(session, unit, {paper: 31})  # ¥3,100
    assert refused.value.code == "open_tender_required" and refused.value.status == 409
    assert "¥3,100.00" in refused.value.detail and "¥3,000.00" in refused.value.detail
    assert "open tender" in refused.value.detail
    preview = checkout.preview(session, unit.buyer)
    assert preview.open_tender is not None and not preview.round_possible


def test_check_open_tender_counts_direct_and_bidding_totals_of_the_category(session, unit):
    organisation, year = unit.organisation.id, fiscal_year()
    limits.add_to_running_totals(session, organisation, year, {PAPER: 90_000})
    limits.add_bidding_spend(session, organisation, year, {PAPER: 200_000})
    limits.check_open_tender(session, organisation, year, {PAPER: 10_000}, total_fen=10_000)
    with pytest.raises(limits.OpenTenderRequired) as refused:
        limits.check_open_tender(session, organisation, year, {PAPER: 10_001}, total_fen=10_001)
    assert refused.value.errors == {"category": [PAPER]}
    assert "¥2,900.00" in refused.value.detail  # what the unit bought so far, both ways
    limits.remove_bidding_spend(session, organisation, year, {PAPER: 50_000})
    limits.check_open_tender(session, organisation, year, {PAPER: 60_000}, total_fen=60_000)
    row = session.scalars(select(CategorySpend).where(
        CategorySpend.organisation_id == organisation)).one()
    session.refresh(row)
    assert (row.total_fen, row.bidding_fen) == (90_000, 150_000)


def test_a_direct_purchase_within_the_limit_is_refused_when_the_year_would_pass_the_threshold(
        session, unit):
    _s, _a, (paper,) = supplier_with_offers(session, prices=(10_000,), stock=1000)
    limits.add_bidding_spend(session, unit.organisation.id, fiscal_year(), {PAPER: 280_000})
    with pytest.raises(limits.OpenTenderRequired):
        _buy(session, unit, {paper: 3})  # ¥300 direct on top of ¥2,800 by rounds


def test_the_open_tender_threshold_is_inherited_and_stays_above_the_direct_limit(session):
    operator = operator_actor(session)
    unit = make_unit(session, region_code="430104")
    assert budget.unit_limits(session, unit.organisation.id).open_tender_fen == \
        budget.DEFAULT_OPEN_TENDER_FEN
    budget.set_limits(session, operator, region_code="430000", direct_limit_fen=100_000_000,
                      open_tender_fen=400_000_000)  # a province's 400万
    assert budget.unit_limits(session, unit.organisation.id).open_tender_fen == 400_000_000
    budget.set_limits(session, operator, region_code="430104", direct_limit_fen=150_000_000)
    assert budget.unit_limits(session, unit.organisation.id) == budget.Limits(
        150_000_000, budget.DEFAULT_WARN_PCT, None, 400_000_000)
    # saving the limits again leaves the threshold as it was
    budget.set_limits(session, operator, region_code="430000", direct_limit_fen=90_000_000)
    row = session.scalars(select(PurchaseSettings).where(
        PurchaseSettings.region_code == "430000")).one()
    assert row.open_tender_fen == 400_000_000
    with pytest.raises(ValidationFailed) as refused:
        budget.set_limits(session, operator, region_code="430000", direct_limit_fen=90_000_000,
                          open_tender_fen=90_000_000)
    assert "open_tender_fen" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:  # the mall default's 200万 is above
        budget.set_limits(session, operator, region_code="440000", direct_limit_fen=250_000_000)
    assert "¥2,000,000.00" in refused.value.errors["direct_limit_fen"][0]
    with pytest.raises(ValidationFailed) as refused:
        budget.set_limits(session, operator, region_code=None, direct_limit_fen=100_000_000,
                          open_tender_fen=0)
    assert "open_tender_fen" in refused.value.errors


def test_the_mall_default_row_inheriting_its_threshold_falls_back_to_the_default(session):
    operator = operator_actor(session)
    budget.set_limits(session, operator, region_code=None, direct_limit_fen=300_000_000,
                      open_tender_fen=400_000_000)
    # Leaving the threshold to "the row above" makes it the default 200万: a 300万 direct
    # limit would then stand above it.
    with pytest.raises(ValidationFailed) as refused:
        budget.set_limits(session, operator, region_code=None, direct_limit_fen=300_000_000,
                          open_tender_fen=None)
    assert "¥2,000,000.00" in refused.value.errors["direct_limit_fen"][0]


# -- the cart and checkout pages ------------------------------------------------------------

def _browser(app, session, actor):
    browser = app.test_client()
    post_form(browser, "/login", "/language/en", {"next": "/login"})
    login(browser, session.get(User, actor.user_id).login)
    return browser


def test_the_cart_page_always_offers_bidding_and_past_the_limit_next_to_the_refusal(
        app, session, unit):
    _s, _a, (paper,) = supplier_with_offers(session, prices=(10_000,), stock=1000)
    browser = _browser(app, session, unit.buyer)
    cart.add_item(session, unit.buyer, offer_id=paper, quantity=2)
    session.flush()
    html = browser.get("/cart").get_data(as_text=True)
    assert 'id="put-out-to-bidding"' in html and "/rounds/new?from_cart=1" in html
    assert 'id="round-from-refusal"' not in html  # within the limit: nothing refused
    cart.set_quantity(session, unit.buyer, offer_id=paper, quantity=11)  # ¥1,100: past the limit
    session.flush()
    html = browser.get("/cart").get_data(as_text=True)
    refusal = html[html.index('id="round-from-refusal"') - 200:]
    assert 'method="get" action="/rounds/new"' in refusal
    assert 'name="from_cart" value="1"' in refusal and "Put out to bidding" in refusal
    assert 'href="/checkout"' not in html
    cart.set_quantity(session, unit.buyer, offer_id=paper, quantity=31)  # ¥3,100: open tender
    session.flush()
    html = browser.get("/cart").get_data(as_text=True)
    assert "open tender" in html and "¥3,000.00" in html
    assert "Put out to bidding" not in html


def test_a_checkout_refused_past_the_limit_offers_the_bidding_round(app, session, unit):
    _s, _a, (paper,) = supplier_with_offers(session, prices=(10_000,), stock=1000)
    browser = _browser(app, session, unit.buyer)
    cart.add_item(session, unit.buyer, offer_id=paper, quantity=11)
    session.flush()
    page = browser.get("/checkout").get_data(as_text=True)
    form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "token": re.search(r'name="token" value="([^"]+)"', page).group(1),
            "budget_line_id": unit.line_id, "delivery_address": "长沙市岳麓区麓山路1号",
            "contact": "李四 13800000000"}
    response = browser.post("/checkout", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    refusals = re.search(r'id="refusals">(.*?)</div>', html, re.S).group(1)
    assert "bidding round" in refusals and 'id="round-from-refusal"' in refusals
