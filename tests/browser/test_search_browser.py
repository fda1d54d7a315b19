"""In a real browser: search 复印纸, narrow by brand and price, open a product, see three
suppliers' prices sorted, add to cart."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from catalog.search.documents import iter_documents
from mall.core.auth import OrganisationKind
from suppliers.listings import save_offers
from tests.conftest import own_app
from tests.factories.suppliers import PAPER, admitted_supplier, offer_input

pytestmark = pytest.mark.browser
DELI, CHENGUANG = "得力（deli）", "晨光（M&G）"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """A live mall of this module, so its search index holds only its own offers."""
    with own_app(tmp_path_factory, "browser_search") as application:
        yield application


@pytest.fixture(scope="module")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def paper_offers(live_app):
    """Three suppliers selling one deli paper, one of them also a cheaper M&G paper; indexed."""
    from mall.extensions import db

    with live_app.app_context():
        sellers = [admitted_supplier(db.session, codes=(PAPER,))[1] for _ in range(3)]
        for actor, price in zip(sellers, (2990, 2590, 2790), strict=True):
            save_offers(db.session, actor, supplier_id=actor.organisation_id,
                        items=[offer_input(model="ZB-A4-80", price_fen=price)])
        save_offers(db.session, sellers[0], supplier_id=sellers[0].organisation_id,
                    items=[offer_input(brand=CHENGUANG, model="APYVQ960", price_fen=1890,
                                       reference=2000)])
        db.session.commit()
        backend = live_app.extensions["search"]()
        backend.clear()
        backend.index_documents(iter_documents(db.session))
        db.session.remove()


def test_a_buyer_searches_narrows_compares_and_adds_to_cart(page, live_server, paper_offers,
                                                            make_live_member):
    make_live_member(OrganisationKind.PURCHASING_UNIT, "search-buyer")
    page.goto(f"{live_server}/search")
    page.get_by_label("用户名").fill("search-buyer")
    page.get_by_label("密码").fill("Correct-Horse-42")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/search")

    page.locator("#q").fill("复印纸")
    page.keyboard.press("Enter")  # keyboard-usable: Enter searches
    page.wait_for_url("**/search?*")
    cards = page.locator(".result-card")
    assert cards.count() == 2

    page.get_by_role("checkbox", name=DELI).check()
    page.locator("#price_max").fill("30")
    page.locator("#price_min").fill("20")
    page.locator("#price_min").press("Enter")
    page.wait_for_url("**price_min=20**")
    assert cards.count() == 1
    card = cards.first
    assert "ZB-A4-80" in card.inner_text()
    assert "3" in card.inner_text()  # three suppliers

    card.get_by_role("link").click()
    page.wait_for_url("**/products/*")
    prices = page.locator("td.price").all_inner_texts()
    assert [p.split("/")[0].strip() for p in prices] == ["¥25.90", "¥27.90", "¥29.90"]
    assert page.locator("#cart-count").inner_text() == "0"

    # Located by structure, not by label: the Chinese texts arrive with the next .po merge.
    page.locator("tr[data-offer-id] button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator("#cart-count").inner_text() == "1"
    assert page.get_by_role("status").first.is_visible()
