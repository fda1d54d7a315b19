"""In a real browser: the operator reaches a price case from the to-do on its home page, sees
the price history drawn by Chart.js beside its table without breaking the
Content-Security-Policy, freezes the offer with a note, and the offer is gone from search."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from catalog.models import Offer, OfferStatus, PriceChange
from mall.core.auth import OrganisationKind
from mall.core.clock import now
from mall.core.jobs import run_job
from supervision.prices.models import PriceCase
from supervision.prices.services import run_inspection
from tests.conftest import PASSWORD, own_app, wait_until
from tests.factories.accounts import make_member
from tests.factories.suppliers import PAPER, admitted_supplier, listed_offer

pytestmark = pytest.mark.browser
MODEL = "PMB-77077"  # the offer's model: what the search looks for
SYNC = "catalog.search_sync"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    with own_app(tmp_path_factory, "browser_prices") as application:
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
def case_id(live_app):
    """An offer repriced twice, the second time above its reference: an open case."""
    from mall.extensions import db

    with live_app.app_context():
        session = db.session
        _user, supplier = admitted_supplier(session, codes=(PAPER,))
        offer_id = listed_offer(session, supplier, price_fen=9_000, reference=10_000,
                                model=MODEL).offer_id
        for old, new in ((9_000, 9_500), (9_500, 11_200)):
            session.execute(update(Offer).where(Offer.id == offer_id).values(price_fen=new))
            session.add(PriceChange(offer_id=offer_id, changed_at=now(), old_price_fen=old,
                                    new_price_fen=new))
        run_inspection(session)
        make_member(session, OrganisationKind.OPERATOR, login="prices-operator")
        found = session.scalar(select(PriceCase.id).where(PriceCase.offer_id == offer_id))
        session.commit()
        session.remove()
    return found


def test_the_operator_reads_the_chart_and_freezes_the_offer(live_app, live_server, case_id,
                                                            tmp_path, browser):
    # ``browser`` (tests/conftest.py) fails the test on a Content-Security-Policy violation.
    context = browser.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(f"{live_server}/login")
    tab.locator("#login").fill("prices-operator")
    tab.locator("#password").fill(PASSWORD)
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{live_server}/")
    run_job(live_app, SYNC)
    tab.goto(f"{live_server}/search?q={MODEL}")
    assert tab.locator(".result-card").filter(has_text=MODEL).count() == 1  # on sale
    tab.goto(f"{live_server}/")
    tab.locator(".todo-list a", has_text="待处理的价格监测案件").click()  # the home to-do
    tab.wait_for_url(f"{live_server}/supervision/price-cases")
    tab.locator(f"a[href='/supervision/price-cases/{case_id}']").click()
    wait_until(tab, "document.getElementById('price-history-chart').chart")
    points = tab.evaluate("document.getElementById('price-history-chart')"
                          ".chart.data.datasets.map(d => d.data)")
    assert points == [[90.0, 95.0, 112.0], [100.0, 100.0, 100.0]]
    assert tab.locator("#price-history tbody tr").count() == 3
    tab.screenshot(path=str(tmp_path / "case.png"), full_page=True)
    tab.locator("#note").fill("高于参考价，冻结。")
    with tab.expect_navigation():
        tab.locator("#freeze").click()
    assert tab.locator("#decide-form").count() == 0
    assert "高于参考价，冻结。" in tab.locator("#evidence-closed").inner_text()
    run_job(live_app, SYNC)
    tab.goto(f"{live_server}/search?q={MODEL}")
    tab.locator("#q").wait_for()
    assert tab.locator(".result-card").filter(has_text=MODEL).count() == 0  # gone
    context.close()
    from mall.extensions import db

    with live_app.app_context():
        offer_id = db.session.get_one(PriceCase, case_id).offer_id
        assert db.session.get_one(Offer, offer_id).status is OfferStatus.FROZEN
        db.session.remove()
