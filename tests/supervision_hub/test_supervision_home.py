"""Each role finds what waits for it from its home page: the to-do list counts price cases,
splitting alerts, complaints, expert draws and sanctions, and links straight to the worklist;
the supervision hub gathers oversight's tools; nobody else reaches the hub."""

from __future__ import annotations

import re

from sqlalchemy import update

from catalog.models import Offer
from mall.accounts.models import User
from mall.core.auth import OrganisationKind
from supervision.prices.services import run_inspection
from tests.conftest import login, post_form
from tests.factories.accounts import make_member
from tests.factories.suppliers import admitted_supplier, listed_offer


def _browser(app, session, user_id: int, *, english: bool = True):
    browser = app.test_client()
    if english:
        post_form(browser, "/login", "/language/en", {"next": "/login"})
    assert login(browser, session.get_one(User, user_id).login).status_code == 302
    return browser


def _todo(html: str, label: str) -> tuple[str, int]:
    """The link and count of one to-do line of the home page."""
    found = re.search(r'<li><a href="([^"]+)">' + re.escape(label)
                      + r'</a> <span class="badge[^"]*">(\d+)</span>', html)
    assert found, f"no to-do {label!r} on the page"
    return found.group(1), int(found.group(2))


def _overpriced_offer(session) -> tuple[int, int]:
    """A listed offer whose reference price fell below its price: (offer id, supplier user id)."""
    user, actor = admitted_supplier(session)
    result = listed_offer(session, actor, price_fen=9_000, reference=10_000, sku="HOME-1")
    session.execute(update(Offer).where(Offer.id == result.offer_id)
                    .values(reference_price_fen=8_500))
    session.flush()
    return result.offer_id, user.id


def test_the_operator_home_counts_price_cases_and_links_to_the_worklist(app, session):
    operator = make_member(session, OrganisationKind.OPERATOR)
    browser = _browser(app, session, operator.id)
    link, before = _todo(browser.get("/").get_data(as_text=True), "Price cases to decide")
    _overpriced_offer(session)
    run_inspection(session)
    session.flush()
    home = browser.get("/").get_data(as_text=True)
    link, after = _todo(home, "Price cases to decide")
    assert after == before + 1
    assert link == "/supervision/price-cases"
    assert browser.get(link).status_code == 200
    assert "Orders waiting for an expert draw" in home
    assert "Complaints to decide" not in home  # the supervisor decides complaints


def test_the_supervisor_home_lists_complaints_and_alerts_and_the_hub_has_every_tool(app, session):
    supervisor = make_member(session, OrganisationKind.SUPERVISOR)
    browser = _browser(app, session, supervisor.id)
    home = browser.get("/").get_data(as_text=True)
    assert _todo(home, "Complaints to decide")[0] == "/rounds/complaints"
    assert _todo(home, "Splitting alerts to review")[0] == "/supervision/splitting-alerts"
    hub = browser.get("/supervision/")
    assert hub.status_code == 200
    text = hub.get_data(as_text=True)
    for path in ("/supervision/statistics", "/supervision/price-cases", "/supervision/splitting-alerts",
                 "/rounds/complaints", "/supervision/suppliers/performance",
                 "/supervision/bad-conduct", "/admin/audit", "/expert-draws", "/experts"):
        assert f'href="{path}"' in text, path  # the supervisor reads the draws too


def test_a_supplier_home_shows_its_own_price_cases_and_sanctions(app, session):
    _offer_id, user_id = _overpriced_offer(session)
    run_inspection(session)
    session.flush()
    browser = _browser(app, session, user_id)
    home = browser.get("/").get_data(as_text=True)
    assert _todo(home, "Price cases about our offers") == ("/supervision/my-price-cases", 1)
    assert _todo(home, "Sanctions in force") == ("/supervision/my-sanctions", 0)
    other_user, _actor = admitted_supplier(session)
    other = _browser(app, session, other_user.id)
    assert _todo(other.get("/").get_data(as_text=True), "Price cases about our offers")[1] == 0


def test_buyers_and_suppliers_do_not_reach_the_hub(app, session):
    buyer = make_member(session, OrganisationKind.PURCHASING_UNIT)
    supplier_user, _actor = admitted_supplier(session)
    for user_id in (buyer.id, supplier_user.id):
        browser = _browser(app, session, user_id)
        assert browser.get("/supervision/").status_code in (403, 404)
        assert "Price cases to decide" not in browser.get("/").get_data(as_text=True)


def test_the_home_to_dos_read_in_chinese(app, session):
    operator = make_member(session, OrganisationKind.OPERATOR)
    browser = _browser(app, session, operator.id, english=False)
    home = browser.get("/").get_data(as_text=True)
    assert "待办" in home and "价格" in home
    assert "Price cases to decide" not in home
