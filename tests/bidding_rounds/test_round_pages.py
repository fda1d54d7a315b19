"""The bidding pages through the Flask test client: the round form (from the cart and blank,
errors next to the fields), quotes through the quote page, the seal on every page of the unit
and of oversight while open, the ranked quotes after closing, the award confirmed into an
order, refusals with their reasons, and every message of the pages translated."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from sqlalchemy import select

from bidding_rounds import closing
from bidding_rounds.models import BiddingRound, QuoteSubmission, RoundStatus
from mall.accounts.models import Organisation, User
from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock, now, to_local
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.orders import cart
from mall.purchasing.orders.models import CartItem
from mall.purchasing.orders.models import Order as PurchaseOrder
from suppliers.models import SizeClass
from tests.conftest import login, post_form
from tests.factories.accounts import make_member
from tests.factories.purchasing import make_unit, supplier_with_offers
from tests.factories.rounds import make_bidder, paper_round
from tests.factories.suppliers import TONER, operator_actor

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "长沙市岳麓区麓山路1号 行政楼201"
CONTACT = "李四 13800000000"
NAMES = ("湘江纸业有限公司", "麓山办公用品有限公司", "橘洲文具商贸有限公司")


def _html(response) -> str:
    return response.get_data(as_text=True)


def _errors(response) -> list[str]:
    return re.findall(r'(?:field-error|note-error)"[^>]*>(.*?)</', _html(response), re.S)


def _browser(app, session, user_id: int, *, english: bool = True):
    browser = app.test_client()
    if english:
        post_form(browser, "/login", "/language/en", {"next": "/login"})
    login(browser, session.get_one(User, user_id).login)
    return browser


def _round_form(**changes) -> dict[str, str]:
    data = {"mode": "quick", "title": "复印纸竞价", "items.0.category_code": "A05040101",
            "items.0.name": "A4复印纸 70g", "items.0.spec": "500张/包", "items.0.quantity": "100",
            "items.0.unit": "包", "ceiling": "10,000.00", "delivery_address": ADDRESS,
            "contact": CONTACT, "delivery_days": "7", "sme_deduction_pct": "10",
            "deadline": (to_local(now() + timedelta(hours=24))).strftime("%Y-%m-%dT%H:%M")}
    data.update(changes)
    return data


def _named_bidders(session, sizes=(SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL)):
    bidders = []
    for name, size in zip(NAMES, sizes, strict=True):
        bidder = make_bidder(session, size=size)
        session.get_one(Organisation, bidder.id).name = name
        bidders.append(bidder)
    session.flush()
    return bidders


def _quote(browser, round_id: int, item_id: int, price: str, **extra):
    url = f"/rounds/{round_id}/quote"
    return post_form(browser, url, url, {f"price-{item_id}": price,
                                         "device_fingerprint": "ab" * 32, **extra})


# -- the round form -------------------------------------------------------------------------------

def test_a_round_from_the_cart_takes_its_items_and_total_and_empties_the_cart(app, session):
    unit = make_unit(session)
    _user, _actor, offers = supplier_with_offers(session, prices=(2990,))
    cart.add_item(session, unit.buyer, offer_id=offers[0], quantity=40)
    session.flush()
    buyer = _browser(app, session, unit.buyer.user_id)

    form = _html(buyer.get("/rounds/new?from_cart=1"))
    assert 'value="1196.00"' in form  # the ceiling: the cart at mall prices (40 × ¥29.90)
    assert 'name="items.0.quantity"' in form and 'value="40"' in form
    assert "复印纸" in form  # the category's name next to its code

    fields = {"mode": "quick", "items.0.category_code": "A05040101",
              "items.0.name": "得力 A4复印纸", "items.0.quantity": "40", "items.0.unit": "包",
              "items.0.product_id": re.search(r'name="items.0.product_id" value="(\d+)"',
                                              form).group(1),
              "ceiling": "1196.00", "budget_line_id": str(unit.line_id), "from_cart": "1",
              "delivery_address": ADDRESS, "contact": CONTACT, "delivery_days": "7",
              "sme_deduction_pct": "12"}
    made = post_form(buyer, "/rounds/new?from_cart=1", "/rounds/new", fields)
    assert made.status_code == 302, _html(made)
    session.expire_all()
    bidding_round = session.scalar(select(BiddingRound).where(
        BiddingRound.buyer_org_id == unit.organisation.id))
    assert made.location.endswith(f"/rounds/{bidding_round.id}")
    assert bidding_round.ceiling_fen == 119_600 and bidding_round.sme_deduction_pct == 12
    assert bidding_round.items[0].product_id is not None
    assert session.scalars(select(CartItem).where(
        CartItem.user_id == unit.buyer.user_id)).all() == []
    assert session.get_one(BudgetLine, unit.line_id).reserved_fen == 119_600


def test_a_blank_round_form_keeps_the_input_and_shows_errors_next_to_the_fields(app, session):
    unit = make_unit(session)
    make_bidder(session)  # paper is sold in the mall
    buyer = _browser(app, session, unit.buyer.user_id)
    blank = _html(buyer.get("/rounds/new"))
    assert blank.count('class="item-row"') == 3 and 'type="datetime-local"' in blank

    refused = post_form(buyer, "/rounds/new", "/rounds/new", _round_form(
        **{"items.0.category_code": "Z99999999", "items.0.quantity": "many",
           "ceiling": "ten thousand", "budget_line_id": str(unit.line_id),
           "deadline": "tomorrow", "contact": ""}))
    html = _html(refused)
    assert refused.status_code == 422
    for field in ("items-0-category_code", "items-0-quantity", "ceiling", "deadline", "contact"):
        assert f'id="{field}-error"' in html, field
    assert "Choose a category sold in the mall." in html
    assert "Enter a quantity from 1 to 100,000." in html
    assert 'value="Z99999999"' in html and 'value="many"' in html  # nothing typed is lost
    assert 'value="ten thousand"' in html and "麓山路1号" in html
    assert session.scalar(select(BiddingRound).where(
        BiddingRound.buyer_org_id == unit.organisation.id)) is None

    more = post_form(buyer, "/rounds/new", "/rounds/new", _round_form(add_row="1"))
    assert _html(more).count('class="item-row"') == 2 and more.status_code == 200

    made = post_form(buyer, "/rounds/new", "/rounds/new",
                     _round_form(budget_line_id=str(unit.line_id)))
    assert made.status_code == 302, _errors(made)
    page = _html(buyer.get(made.location))
    assert "复印纸竞价" in page and "¥10,000.00" in page and "0 quotes" in page
    assert "Quick bidding" in page and "Open for quotes" in page


def test_the_round_form_sent_twice_publishes_one_round(app, session):
    unit = make_unit(session)
    make_bidder(session)  # enables the category
    buyer = _browser(app, session, unit.buyer.user_id)
    page = _html(buyer.get("/rounds/new"))
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    fields = _round_form(budget_line_id=str(unit.line_id), token=token)
    first = post_form(buyer, "/rounds/new", "/rounds/new", fields)
    again = post_form(buyer, "/rounds/new", "/rounds/new", fields)  # a double click
    assert first.status_code == again.status_code == 302
    assert again.location == first.location
    assert len(session.scalars(select(BiddingRound).where(
        BiddingRound.buyer_org_id == unit.organisation.id)).all()) == 1


# -- quotes and the seal ------------------------------------------------------------------------

def test_quotes_stay_sealed_on_every_page_until_closing_then_the_winner_confirms(app, session):
    unit = make_unit(session)
    bidders = _named_bidders(session)
    operator = operator_actor(session)
    supervisor = make_member(session, OrganisationKind.SUPERVISOR)
    start = now()
    with frozen_clock(start) as clock:
        bidding_round = paper_round(session, unit, ceiling_fen=1_000_000, sme_deduction_pct=10)
        session.flush()
        item_id = bidding_round.items[0].id
        browsers = [_browser(app, session, b.user.id) for b in bidders]
        opportunities = _html(browsers[0].get("/rounds/opportunities"))
        assert bidding_round.number in opportunities and "A4复印纸 70g" in opportunities

        form = _html(browsers[0].get(f"/rounds/{bidding_round.id}/quote"))
        assert 'src="/static/js/quote.js"' in form and 'name="device_fingerprint"' in form
        for browser, price in zip(browsers, ("91.11", "93.33", "98.88"), strict=True):
            sent = _quote(browser, bidding_round.id, item_id, price,
                          **({"sme_goods": "1"} if browser is browsers[2] else {}))
            assert sent.status_code == 302, _html(sent)
        clock[0] = start + timedelta(minutes=10)
        assert _quote(browsers[1], bidding_round.id, item_id, "92.22").status_code == 302
        revised = _html(browsers[1].get(f"/rounds/{bidding_round.id}/quote"))
        assert 'value="92.22"' in revised and "2 submissions" in revised
        submissions = session.scalars(select(QuoteSubmission)).all()
        assert len(submissions) == 4 and all(s.device_fingerprint == "ab" * 32
                                             for s in submissions)

        readers = [_browser(app, session, unit.buyer.user_id),
                   _browser(app, session, operator.user_id),
                   _browser(app, session, supervisor.id)]
        for reader in readers:
            for url in (f"/rounds/{bidding_round.id}", "/rounds"):
                html = _html(reader.get(url))
                assert bidding_round.number in html
                assert "3 quotes" in html or '<td class="number quote-count">3</td>' in html
                for secret in (*NAMES, "91.11", "92.22", "93.33", "98.88", "9,111", "9,888",
                               "¥9,222.00", "Ranked quotes"):
                    assert secret not in html, (url, secret)

        clock[0] = bidding_round.deadline
        assert closing.close_due_rounds(session) == 1
        session.expire_all()
        # a day later everyone signs in again (sessions end after 30 idle minutes)
        readers = [_browser(app, session, user_id) for user_id in (
            unit.buyer.user_id, operator.user_id, supervisor.id)]
        browsers = [_browser(app, session, b.user.id) for b in bidders]
        for reader in readers:
            html = _html(reader.get(f"/rounds/{bidding_round.id}"))
            assert "Ranked quotes" in html and all(name in html for name in NAMES)
            # the small enterprise's 9,888.00 less 10 % ranks first
            assert html.index(NAMES[2]) < html.index(NAMES[0]) < html.index(NAMES[1])
            assert "¥8,899.20" in html and "¥98.88" in html
        ranks = _html(browsers[0].get("/rounds/my-quotes"))
        assert '<td class="my-rank">2</td>' in ranks

        winner = browsers[2]
        waiting = _html(winner.get("/rounds/my-quotes"))
        assert "Confirm the award" in waiting
        confirmed = post_form(winner, "/rounds/my-quotes",
                              f"/rounds/{bidding_round.id}/award/confirm", {})
    session.expire_all()
    round_now = session.get_one(BiddingRound, bidding_round.id)
    assert round_now.status is RoundStatus.CONFIRMED
    order = session.get_one(PurchaseOrder, round_now.order_id)
    assert confirmed.status_code == 302 and confirmed.location.endswith(f"/orders/{order.id}")
    assert order.number in _html(winner.get(confirmed.location))
    buyer_page = _html(readers[0].get(f"/rounds/{bidding_round.id}"))
    assert f'href="/orders/{order.id}"' in buyer_page


def test_a_supplier_of_another_category_is_told_why_it_may_not_quote(app, session):
    unit = make_unit(session)
    bidding_round = paper_round(session, unit)
    stranger = make_bidder(session, codes=(TONER,))
    session.flush()
    browser = _browser(app, session, stranger.user.id)
    page = _html(browser.get(f"/rounds/{bidding_round.id}/quote"))
    assert "is not admitted (or is suspended) for category 复印纸 (A05040101)" in page
    assert 'id="quote-form"' not in page
    refused = _quote(browser, bidding_round.id, bidding_round.items[0].id, "50.00")
    assert refused.status_code == 403
    assert "is not admitted (or is suspended) for category 复印纸 (A05040101)" in _html(refused)
    assert bidding_round.number not in _html(browser.get("/rounds/opportunities"))


def test_a_price_above_the_ceiling_is_refused_next_to_the_form_with_the_input_kept(app, session):
    unit = make_unit(session)
    bidding_round = paper_round(session, unit, ceiling_fen=100_000, quantity=10)
    bidder = make_bidder(session)
    session.flush()
    browser = _browser(app, session, bidder.user.id)
    refused = _quote(browser, bidding_round.id, bidding_round.items[0].id, "200.00")
    html = _html(refused)
    assert refused.status_code == 422
    assert "above the round&#39;s ceiling price of ¥1,000.00" in html and 'value="200.00"' in html
    typo = _quote(browser, bidding_round.id, bidding_round.items[0].id, "abc")
    assert typo.status_code == 422
    assert f'id="price-{bidding_round.items[0].id}-error"' in _html(typo)


def test_another_units_buyer_and_a_supplier_get_404_on_the_round_page(app, session):
    unit, other = make_unit(session), make_unit(session)
    bidding_round = paper_round(session, unit)
    bidder = make_bidder(session)
    session.flush()
    assert _browser(app, session, other.buyer.user_id).get(
        f"/rounds/{bidding_round.id}").status_code == 404
    assert _browser(app, session, bidder.user.id).get(
        f"/rounds/{bidding_round.id}").status_code in (403, 404)
    assert bidding_round.number not in _html(
        _browser(app, session, other.buyer.user_id).get("/rounds"))


def test_the_unit_cancels_an_open_round_with_a_reason_and_may_run_it_again(app, session):
    unit = make_unit(session)
    bidding_round = paper_round(session, unit)
    session.flush()
    buyer = _browser(app, session, unit.buyer.user_id)
    url = f"/rounds/{bidding_round.id}"
    missing = post_form(buyer, url, f"{url}/cancel", {"reason": ""})
    assert missing.status_code == 422 and 'id="cancel-reason-error"' in _html(missing)
    done = post_form(buyer, url, f"{url}/cancel", {"reason": "需求变更"})
    assert done.status_code == 302
    page = _html(buyer.get(url))
    assert "Cancelled" in page and "需求变更" in page and 'id="rerun-link"' in page
    again = _html(buyer.get(f"/rounds/new?rerun={bidding_round.id}"))
    assert f'name="rerun_of_id" value="{bidding_round.id}"' in again
    assert 'value="A4复印纸 70g"' in again and 'value="10000.00"' in again


def test_the_operator_saves_the_bidding_settings_and_the_supervisor_reads_them(app, session):
    operator = operator_actor(session)
    supervisor = make_member(session, OrganisationKind.SUPERVISOR)
    session.flush()
    browser = _browser(app, session, operator.user_id)
    refused = post_form(browser, "/rounds/settings", "/rounds/settings",
                        {"default_window_hours": "48", "min_window_hours": "2",
                         "min_quotes": "zero", "confirm_hours": "72"})
    assert refused.status_code == 422 and 'id="min_quotes-error"' in _html(refused)
    assert 'value="zero"' in _html(refused)
    saved = post_form(browser, "/rounds/settings", "/rounds/settings",
                      {"default_window_hours": "48", "min_window_hours": "2",
                       "min_quotes": "3", "confirm_hours": "72"})
    assert saved.status_code == 302
    reader = _html(_browser(app, session, supervisor.id).get("/rounds/settings"))
    assert 'value="48"' in reader and "disabled" in reader and "Save the settings" not in reader


def test_each_role_finds_the_bidding_pages_from_its_home_page(app, session):
    unit = make_unit(session)
    paper_round(session, unit)
    bidder = make_bidder(session)
    operator = operator_actor(session)
    session.flush()
    assert 'href="/rounds"' in _html(_browser(app, session, unit.buyer.user_id).get("/"))
    assert 'href="/rounds"' in _html(_browser(app, session, operator.user_id).get("/"))
    home = _html(_browser(app, session, bidder.user.id).get("/"))
    assert 'href="/rounds/opportunities"' in home and 'id="opportunity-count">1<' in home
    assert 'href="/rounds/my-quotes"' in home


# -- languages ------------------------------------------------------------------------------------

def test_the_pages_render_in_chinese_and_english(app, session):
    unit = make_unit(session)
    bidding_round = paper_round(session, unit)
    bidder = make_bidder(session)
    operator = operator_actor(session)
    session.flush()
    for english in (False, True):
        buyer = _browser(app, session, unit.buyer.user_id, english=english)
        supplier = _browser(app, session, bidder.user.id, english=english)
        staff = _browser(app, session, operator.user_id, english=english)
        for browser, url in ((buyer, "/rounds/new"), (buyer, "/rounds"),
                             (buyer, f"/rounds/{bidding_round.id}"),
                             (supplier, "/rounds/opportunities"), (supplier, "/rounds/my-quotes"),
                             (supplier, f"/rounds/{bidding_round.id}/quote"),
                             (staff, "/rounds/settings"), (staff, "/rounds")):
            answer = browser.get(url)
            assert answer.status_code == 200, url
            assert ('lang="en"' if english else 'lang="zh-CN"') in _html(answer)


def _page_messages() -> set[str]:
    files = [*sorted((ROOT / "templates" / "bidding_rounds").glob("*.html")),
             *(ROOT / "bidding_rounds" / name for name in (
                 "views.py", "supplier_views.py", "oversight_views.py", "forms.py",
                 "page_helpers.py"))]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None}
    found = set()
    for path in files:
        if path.name.startswith(("challenge", "signal")):
            continue  # the challenges' own pages and translations
        method = "jinja2" if path.suffix == ".html" else "python"
        for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords=keywords,
                options={"extensions": "jinja2.ext.do"} if method == "jinja2" else None):
            found.add(message if isinstance(message, str) else message[0])
    return found - {""}


def test_every_message_of_the_pages_has_a_chinese_translation():
    with (ROOT / "mall/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    for pending in (ROOT / "mall/translations/pending").glob("*.json"):
        translated |= {k for k, v in json.loads(pending.read_text(encoding="utf-8")).items() if v}
    missing = sorted(_page_messages() - translated)
    assert not missing, missing
