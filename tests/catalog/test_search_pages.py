"""Shopping pages and the search API: search, facets, product comparison, add to cart."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from catalog.search.documents import refresh_offers
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import OrganisationKind, Role
from mall.purchasing.orders.models import CartItem
from suppliers.listings import save_offers
from tests.conftest import (
    csrf_from,
    login,
    own_app,
)
from tests.factories.accounts import make_member
from tests.factories.suppliers import PAPER, TONER, admitted_supplier, offer_input

PROBLEM = "application/problem+json"
DELI, CHENGUANG = "得力（deli）", "晨光（M&G）"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """This module's own app and database, so its search index holds only its own offers."""
    with own_app(tmp_path_factory, "shopping") as application:
        yield application


@pytest.fixture
def backend(app, session):
    """The app's search index, emptied: the database rolls back after each test, the index not."""
    engine = app.extensions["search"]()
    engine.clear()
    return engine


def _save(session, actor, *items):
    return [r.offer_id for r in save_offers(session, actor, supplier_id=actor.organisation_id,
                                            items=list(items)).results]


@pytest.fixture
def mall(session, backend):
    """Three suppliers selling the same deli paper (25.90, 27.90, 29.90), one also selling
    M&G paper, and a toner that must not match paper searches."""
    sellers = [admitted_supplier(session, codes=(PAPER, TONER))[1] for _ in range(3)]
    ids = {}
    for actor, price in zip(sellers, (2990, 2590, 2790), strict=True):
        ids[price] = _save(session, actor, offer_input(model="ZB-A4-70", price_fen=price))[0]
    ids["mg"] = _save(session, sellers[0], offer_input(brand=CHENGUANG, model="APYVQ959",
                                                       price_fen=1890, reference=2000))[0]
    ids["toner"] = _save(session, sellers[1], toner_input())[0]
    session.flush()
    refresh_offers(session, backend, offer_ids=list(ids.values()))
    product_id = session.get(Offer, ids[2990]).product_id
    return {"ids": ids, "sellers": sellers, "product_id": product_id}


def toner_input():
    return replace(offer_input(code=TONER, brand="惠普（HP）", model="CF226A", price_fen=45000,
                               reference=50000), title="惠普（HP）CF226A 黑色硒鼓")


@pytest.fixture
def buyer(client, session):
    user = make_member(session, OrganisationKind.PURCHASING_UNIT, login="shopper")
    login(client, "shopper")
    page = client.get("/search").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_from(page), "next": "/search"})
    return user


def _offer_cards(html: str) -> list[str]:
    return re.findall(r'<li class="result-card">(.*?)</li>', html, re.S)


def test_searching_copy_paper_finds_the_paper_products_not_the_toner(client, buyer, mall):
    html = client.get("/search?q=复印纸").get_data(as_text=True)
    cards = _offer_cards(html)
    assert len(cards) == 2  # grouped: the deli paper (3 suppliers) and the M&G paper
    assert not any("CF226A" in card for card in cards)
    deli = next(c for c in cards if "ZB-A4-70" in c)
    assert "from ¥25.90" in deli and "3 suppliers" in deli
    assert f'/products/{mall["product_id"]}' in deli


def test_every_offer_is_listed_when_not_grouped(client, buyer, mall):
    html = client.get("/search?q=复印纸&group=0&group=1&group=0&sort=price_asc") \
        .get_data(as_text=True)
    prices = re.findall(r'<span class="price">(¥[\d,.]+)</span>', html)
    assert prices == ["¥18.90", "¥25.90", "¥27.90", "¥29.90"]


def test_brand_and_price_filters_narrow_and_facet_counts_are_exact(client, backend, buyer,
                                                                    mall):
    result = client.get("/api/v1/search", query_string={"q": "复印纸", "group": "false"}).json
    assert result["total"] == 4
    assert {f["value"]: f["count"] for f in result["facets"]["brand"]} == {DELI: 3,
                                                                           CHENGUANG: 1}
    narrowed = client.get("/api/v1/search", query_string={
        "q": "复印纸", "brand": DELI, "price_max_fen": 2800, "group": "false"}).json
    assert narrowed["total"] == 2
    assert sorted(h["price_fen"] for h in narrowed["hits"]) == [2590, 2790]
    assert narrowed["facets"]["brand"] == [{"value": DELI, "count": 2}]
    assert sum(f["count"] for f in narrowed["facets"]["supplier"]) == 2
    categories = {f["value"]: f["count"] for f in narrowed["facets"]["category"]}
    assert categories[PAPER] == 2 and categories[PAPER[:3] + "000000"] == 2  # rolled up
    html = client.get("/search", query_string={"q": "复印纸", "brand": DELI,
                                               "price_min": "26", "group": "0"}) \
        .get_data(as_text=True)
    assert re.findall(r'<span class="price">(¥[\d,.]+)</span>', html) in (
        ["¥27.90", "¥29.90"], ["¥29.90", "¥27.90"])
    assert f'value="{DELI}" checked' in html


def test_a_bad_price_filter_is_explained_next_to_the_field(client, buyer, mall):
    response = client.get("/search?q=复印纸&price_min=abc&price_max=30")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="price_min-error"' in html and "Enter an amount in yuan" in html
    assert 'aria-invalid="true" aria-describedby="price_min-error"' in html
    assert len(_offer_cards(html)) == 2  # the other filters still apply


def test_the_api_answers_a_bad_price_filter_with_a_problem(client, buyer, mall):
    response = client.get("/api/v1/search?q=纸&price_min_fen=cheap&page_size=500")
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.json["code"] == "validation_failed"
    assert set(response.json["errors"]) == {"price_min_fen", "page_size"}
    reversed_range = client.get("/api/v1/search?price_min_fen=500&price_max_fen=100")
    assert reversed_range.json["errors"] == {
        "price_max_fen": ["The lowest price must not exceed the highest price."]}


def test_the_product_page_lists_three_suppliers_prices_cheapest_first(client, buyer, mall):
    html = client.get(f"/products/{mall['product_id']}").get_data(as_text=True)
    prices = re.findall(r'<td class="price">(¥[\d,.]+)<', html)
    assert prices == ["¥25.90", "¥27.90", "¥29.90"]
    assert html.count("Add to cart</button>") == 3
    assert "ZB-A4-70" in html and "克重" in html
    api = client.get(f"/api/v1/products/{mall['product_id']}").json
    assert [o["price_fen"] for o in api["offers"]] == [2590, 2790, 2990]
    assert api["category_path"][-1]["code"] == PAPER


def test_frozen_and_suspended_offers_are_not_on_the_product_page(client, session, buyer,
                                                                 mall):
    ids = mall["ids"]
    session.get(Offer, ids[2590]).status = OfferStatus.FROZEN
    session.get(Offer, ids[2790]).suspended = True
    session.flush()
    html = client.get(f"/products/{mall['product_id']}").get_data(as_text=True)
    assert re.findall(r'<td class="price">(¥[\d,.]+)<', html) == ["¥29.90"]
    offers = client.get(f"/api/v1/products/{mall['product_id']}").json["offers"]
    assert [o["offer_id"] for o in offers] == [ids[2990]]


def test_the_api_refuses_a_token_without_catalog_read(client, session, mall):
    approver = make_member(session, OrganisationKind.PURCHASING_UNIT,
                           roles=[Role.BUYER, Role.APPROVER])
    _token, narrow = issue_token(session, actor_for(approver), name="ERP",
                                 scopes=["account:read"])
    _token, reader = issue_token(session, actor_for(approver), name="ERP2",
                                 scopes=["catalog:read"])
    session.flush()
    refused = client.get("/api/v1/search?q=复印纸",
                         headers={"Authorization": f"Bearer {narrow}"})
    assert refused.status_code == 403 and refused.json["code"] == "scope_required"
    assert client.get("/api/v1/search?q=复印纸").status_code == 401
    allowed = client.get("/api/v1/search?q=复印纸&group=false",
                         headers={"Authorization": f"Bearer {reader}"})
    assert allowed.status_code == 200 and allowed.json["total"] == 4
    hit = allowed.json["hits"][0]
    assert set(hit) == {"offer_id", "product_id", "title", "category_code", "brand",
                        "supplier_id", "supplier_name", "price_fen", "stock"}


def _cart_count(html: str) -> int:
    return int(re.search(r'id="cart-count">(\d+)<', html).group(1))


def test_add_to_cart_increments_the_count_and_refuses_an_invisible_offer(client, session,
                                                                         buyer, mall):
    product_url = f"/products/{mall['product_id']}"
    html = client.get(product_url).get_data(as_text=True)
    assert _cart_count(html) == 0
    token = csrf_from(html)
    added = client.post("/cart/add", data={"csrf_token": token, "offer_id": mall["ids"][2590],
                                           "quantity": "2", "next": product_url},
                        follow_redirects=True)
    html = added.get_data(as_text=True)
    # The count is of cart lines (mall.purchasing.orders.cart.count_items), not of pieces.
    assert _cart_count(html) == 1 and "Added to your cart" in html
    session.get(Offer, mall["ids"][2790]).status = OfferStatus.FROZEN
    session.flush()
    refused = client.post("/cart/add", data={"csrf_token": token, "offer_id": mall["ids"][2790],
                                             "next": "https://evil.example/"},
                          follow_redirects=True)
    html = refused.get_data(as_text=True)
    assert "This offer is no longer available." in html
    assert _cart_count(html) == 1
    session.expire_all()
    held = session.execute(select(CartItem.offer_id, CartItem.quantity)).all()
    assert held == [(mall["ids"][2590], 2)]


def test_suggestions_complete_the_last_word(client, buyer, mall):
    words = client.get("/search/suggest?q=复印").json
    assert isinstance(words, list)
    assert client.get("/search/suggest?q=").json == []


def test_the_category_sidebar_shows_the_path_and_children_with_rolled_up_counts(client,
                                                                                buyer, mall):
    top = client.get("/search").get_data(as_text=True)
    assert re.findall(r'category=(\w+)">[^<]+</a> <span class="muted">\((\d+)\)', top) == [
        ("A05000000", "5")]  # paper and toner share the top level
    html = client.get("/search?category=A05040000").get_data(as_text=True)
    assert re.findall(r'category=(\w+)"(?: aria-current="true")?>[^<]+</a> '
                      r'<span class="muted">\((\d+)\)', html) == [
        ("A05000000", "5"), ("A05040000", "5"), ("A05040100", "4"), ("A05040200", "1")]
    assert 'category=A05040000" aria-current="true"' in html


def test_pages_require_login_and_suppliers_may_not_browse(client, session, mall):
    response = client.get("/search")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    make_member(session, OrganisationKind.SUPPLIER, login="seller-browse")
    login(client, "seller-browse")
    assert client.get("/search").status_code == 403


def test_no_offer_that_is_not_listed_is_found(client, session, backend, buyer, mall):
    offer = session.scalar(select(Offer).where(Offer.id == mall["ids"]["mg"]))
    offer.status = OfferStatus.FROZEN
    session.flush()
    refresh_offers(session, backend, offer_ids=[offer.id])
    result = client.get("/api/v1/search?q=晨光&group=false").json
    assert all(h["offer_id"] != offer.id for h in result["hits"])
