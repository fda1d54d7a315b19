"""The financing pages through the Flask test client: the supplier grants a bank access and
applies from a signed contract; the bank takes each step through its forms (the payout locks
the contract's payee account, full repayment releases it); refusals come back next to their
form, translated; the bank's contracts page logs its reads; nobody sees another's loans; the
pages render in Chinese and English and every message has a Chinese translation."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from financing import consent, loans, products
from financing.models import AccessRecord, Loan, LoanStatus
from mall.accounts.models import User
from mall.core.auth import Actor
from mall.core.clock import local_today
from mall.core.errors import NotFound
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.payee import current_payee
from mall.purchasing.orders.models import Order
from tests.conftest import login, own_app, post_form
from tests.factories.financing import confirmed_orders, make_bank
from tests.translation_coverage import untranslated

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "6222020200112233"


@pytest.fixture(scope="module")
def app(app, tmp_path_factory):
    """The shared app once the financing pages are registered in mall/app.py; until then an
    app of this module's own with them registered (before its first request)."""
    if "financing" in app.blueprints:
        yield app
        return
    with own_app(tmp_path_factory, "financing_pages") as fresh:
        import financing.views  # noqa: F401  (the routes register on the blueprint)
        from financing.pages import blueprint

        fresh.register_blueprint(blueprint)
        yield fresh


def _html(response) -> str:
    return response.get_data(as_text=True)


def _browser(app, session, actor: Actor, *, english: bool = False):
    browser = app.test_client()
    if english:
        post_form(browser, "/login", "/language/en", {"next": "/login"})
    login(browser, session.get_one(User, actor.user_id).login)
    return browser


def _signed(session, *, consented_to: Actor | None = None):
    deal = confirmed_orders(session)
    order = deal.orders[0]
    contracts.sign(session, deal.supplier, order.id)
    contracts.sign(session, deal.unit.buyer, order.id)
    if consented_to is not None:
        consent.grant(session, deal.supplier, bank_org_id=consented_to.organisation_id,
                      scope="all", expires_on=local_today() + timedelta(days=30))
    session.flush()
    return deal.supplier, order


def _product(session, bank: Actor) -> int:
    return products.create_product(session, bank, products.product_data(
        {"name": "政采贷·订单融资", "max_share_pct": "80", "rate_min": "3.65",
         "rate_max": "6.00", "term_days": "180", "regions": "000000"})).id


def test_a_supplier_grants_access_and_applies_and_the_bank_takes_the_loan_to_the_end(
        app, session):
    bank = make_bank(session)
    product_id = _product(session, bank)
    supplier, order = _signed(session)
    own_account = current_payee(session, order).account_number
    shop = _browser(app, session, supplier)

    page = _html(shop.get("/financing"))
    assert "政采贷·订单融资" in page and f'/financing/apply/{order.id}' in page
    early = post_form(shop, f"/financing/apply/{order.id}", f"/financing/apply/{order.id}",
                      {"product_id": str(product_id), "amount": "40.00"})
    assert early.status_code == 409 and "/financing#consents" in _html(early)

    granted = post_form(shop, "/financing", "/financing/consents",
                        {"bank_org_id": str(bank.organisation_id), "scope": "chosen",
                         "order_ids": str(order.id),
                         "expires_on": (local_today() + timedelta(days=60)).isoformat()})
    assert granted.status_code == 302, _html(granted)
    above = post_form(shop, f"/financing/apply/{order.id}", f"/financing/apply/{order.id}",
                      {"product_id": str(product_id), "amount": "47.85"})  # 80 % is 47.84
    assert above.status_code == 422 and 'id="apply-amount-error"' in _html(above)
    applied = post_form(shop, f"/financing/apply/{order.id}", f"/financing/apply/{order.id}",
                        {"product_id": str(product_id), "amount": "40.00"})
    assert applied.status_code == 302, _html(applied)
    loan = session.scalar(select(Loan).where(Loan.order_id == order.id))
    assert loan.requested_fen == 4000
    assert f'/financing/apply/{order.id}' not in _html(shop.get("/financing"))  # one at a time

    desk = _browser(app, session, bank, english=True)
    bank_page = _html(desk.get("/financing/bank"))
    assert loan.number in bank_page
    # One webhook section, inside the page's content; the title is text only.
    assert bank_page.count('id="webhooks"') == 1
    assert re.search(r"<title>[^<]*</title>", bank_page)
    base = f"/financing/bank/loans/{loan.id}"
    wrong = post_form(desk, "/financing/bank", f"{base}/repay",
                      {"amount": "10.00", "on_day": local_today().isoformat()})
    assert wrong.status_code == 409 and "Only a paid-out loan takes repayments." in _html(wrong)
    for step, data in (
            ("approve", {"amount": "40.00", "rate": "4.35", "term_days": "90"}),
            ("disburse", {"amount": "40.00", "value_date": local_today().isoformat(),
                          "bank_name": "湖南银行长沙分行", "account_name": "政采贷回款专户",
                          "account_number": ACCOUNT, "bank_reference": "HN-1"}),
            ("repay", {"amount": "15.00", "on_day": local_today().isoformat()})):
        done = post_form(desk, "/financing/bank", f"{base}/{step}", data)
        assert done.status_code == 302, (step, _html(done))
    session.expire_all()
    assert current_payee(session, session.get_one(Order, order.id)).account_number == ACCOUNT
    mine = _html(shop.get("/financing"))
    assert loan.number in mine and ACCOUNT in mine and "¥15.00" in mine

    done = post_form(desk, "/financing/bank", f"{base}/repay",
                     {"amount": "25.00", "on_day": local_today().isoformat()})
    assert done.status_code == 302
    session.expire_all()
    assert session.get_one(Loan, loan.id).status is LoanStatus.REPAID
    payee = current_payee(session, session.get_one(Order, order.id))
    assert payee.account_number == own_account and not payee.locked_for_financing
    assert post_form(desk, "/financing/bank", f"{base}/close", {}).status_code == 302


def test_the_banks_contract_page_shows_only_readable_contracts_and_logs_each_read(
        app, session):
    bank, other_bank = make_bank(session), make_bank(session)
    supplier, order = _signed(session, consented_to=bank)
    _stranger, hidden = _signed(session)
    desk = _browser(app, session, bank, english=True)
    page = _html(desk.get("/financing/bank/contracts"))
    assert order.number not in page  # contracts by their contract number
    numbers = contracts_numbers(session, order, hidden)
    assert numbers[0] in page and numbers[1] not in page
    session.expire_all()
    reads = session.scalars(select(AccessRecord).where(
        AccessRecord.supplier_id == supplier.organisation_id)).all()
    assert [(r.order_id, r.via, r.bank_org_id) for r in reads] == [
        (order.id, "page", bank.organisation_id)]
    assert numbers[0] not in _html(_browser(app, session, other_bank)
                                   .get("/financing/bank/contracts"))
    log = _html(_browser(app, session, supplier).get("/financing"))
    assert 'id="access-list"' in log and numbers[0] in log


def contracts_numbers(session, *orders: Order) -> list[str]:
    from mall.purchasing.contracts.models import Contract

    return [session.scalar(select(Contract.number).where(Contract.order_id == o.id))
            for o in orders]


def test_nobody_sees_or_moves_another_organisations_loans(app, session):
    bank, other_bank = make_bank(session), make_bank(session)
    supplier, order = _signed(session, consented_to=bank)
    loan = loans.apply_for_loan(session, supplier, order_id=order.id,
                                product_id=_product(session, bank), amount_fen=1000)
    other_supplier, _other_order = _signed(session)
    session.flush()
    assert loan.number not in _html(_browser(app, session, other_supplier).get("/financing"))
    stranger = _browser(app, session, other_bank)
    assert loan.number not in _html(stranger.get("/financing/bank"))
    refused = post_form(stranger, "/financing/bank", f"/financing/bank/loans/{loan.id}/reject",
                        {"reason": "no"})
    assert refused.status_code == 404
    assert _browser(app, session, bank).get("/financing").status_code == 403
    assert _browser(app, session, supplier).get("/financing/bank").status_code == 403
    with pytest.raises(NotFound):
        loans.reject(session, other_bank, loan.id, reason="no")
    assert session.get_one(Loan, loan.id).status is LoanStatus.APPLIED


def test_the_pages_render_in_chinese_and_english(app, session):
    bank = make_bank(session)
    supplier, order = _signed(session, consented_to=bank)
    loan = loans.apply_for_loan(session, supplier, order_id=order.id,
                                product_id=_product(session, bank), amount_fen=1000)
    loans.approve(session, bank, loan.id, amount_fen=1000, rate_bp=400, term_days=60)
    session.flush()
    for english in (False, True):
        shop = _browser(app, session, supplier, english=english)
        desk = _browser(app, session, bank, english=english)
        for browser, url in ((shop, "/financing"), (shop, f"/financing/apply/{order.id}"),
                             (shop, "/"), (desk, "/financing/bank"),
                             (desk, "/financing/bank/contracts"), (desk, "/")):
            answer = browser.get(url)
            assert answer.status_code == 200, url
            assert ('lang="en"' if english else 'lang="zh-CN"') in _html(answer)
        assert "/financing/bank" in _html(desk.get("/"))
        assert 'href="/financing"' in _html(shop.get("/"))


def _page_files() -> list:
    return [*sorted((ROOT / "templates" / "financing").glob("*.html")),
                 *(ROOT / "financing" / name for name in (
                     "views.py", "pages.py", "loans.py", "products.py", "portfolio.py"))]


def test_every_message_of_the_pages_has_a_chinese_translation():
    missing = untranslated(_page_files())
    assert not missing, missing
