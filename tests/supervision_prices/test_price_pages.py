"""The price monitoring pages through the test client: the operator's worklist and filters, a
case with its evidence and price history, freeze and dismiss with a note, the supplier's own
cases (and not another's), the settings form, the monthly report as a page and a PDF; bad
input answered next to its field, never with a 500."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from mall.accounts.models import Organisation, User
from mall.core.auth import OrganisationKind
from mall.core.clock import local_today
from supervision.prices.models import CaseStatus, PriceCase
from supervision.prices.services import run_inspection
from tests.conftest import login, post_form
from tests.factories.accounts import make_member
from tests.translation_coverage import untranslated

ROOT = Path(__file__).resolve().parents[2]


def _html(response) -> str:
    return response.get_data(as_text=True)


def _browser(app, session, user_id: int, *, english: bool = False):
    browser = app.test_client()
    if english:
        post_form(browser, "/login", "/language/en", {"next": "/login"})
    assert login(browser, session.get_one(User, user_id).login).status_code == 302
    return browser


@pytest.fixture
def staff(session):
    """An operator and a supervisor (users)."""
    return (make_member(session, OrganisationKind.OPERATOR),
            make_member(session, OrganisationKind.SUPERVISOR))


@pytest.fixture
def opened(session, market):
    """Supplier 0 has an open reference case and a frozen one; supplier 1 an open one."""
    open_id = market.product([11_000], reference=10_000)[0]
    frozen_id = market.product([14_000], reference=10_000)[0]
    other_id = market.product([12_000], reference=10_000, sellers=[1])[0]
    market.set_price(open_id, 11_500)
    run_inspection(session)
    found = {c.offer_id: c for c in session.scalars(select(PriceCase))}
    return found[open_id], found[frozen_id], found[other_id]


def test_the_worklist_shows_open_cases_first_and_filters_them(app, session, market, staff,
                                                              opened):
    operator, _supervisor = staff
    open_case, frozen_case, other_case = opened
    browser = _browser(app, session, operator.id)
    page = _html(browser.get("/supervision/price-cases"))
    ids = [int(i) for i in re.findall(r'data-case-id="(\d+)"', page)]
    assert ids.index(frozen_case.id) > max(ids.index(open_case.id), ids.index(other_case.id))
    assert "1 cases opened" not in page and 'id="last-inspection"' in page
    supplier = market.actors[1].organisation_id
    page = _html(browser.get(f"/supervision/price-cases?supplier_id={supplier}"))
    assert re.findall(r'data-case-id="(\d+)"', page) == [str(other_case.id)]
    page = _html(browser.get("/supervision/price-cases?status=frozen"))
    assert re.findall(r'data-case-id="(\d+)"', page) == [str(frozen_case.id)]
    category = open_case.category_id
    page = _html(browser.get(f"/supervision/price-cases?category_id={category}"))
    assert len(re.findall(r'data-case-id="(\d+)"', page)) == 3


@pytest.mark.parametrize("query", ["?status=nonsense", "?supplier_id=abc", "?category_id=-1",
                                   "?page=zz", "?supplier_id=99999999999999999999"])
def test_junk_in_the_worklist_filters_is_ignored(app, session, staff, opened, query):
    browser = _browser(app, session, staff[0].id)
    answer = browser.get("/supervision/price-cases" + query)
    assert answer.status_code == 200


def test_the_case_page_shows_evidence_and_the_price_history_beside_its_chart(
        app, session, staff, opened):
    open_case = opened[0]
    page = _html(_browser(app, session, staff[1].id).get(
        f"/supervision/price-cases/{open_case.id}"))
    assert 'id="price-history-chart"' in page and "js/price_history.js" in page
    data = json.loads(re.search(r'id="price-history-data">(.*?)</script>', page, re.S).group(1))
    assert data["prices"] == [10.0, 110.0, 115.0] and data["reference"] == 100.0
    history = page.split('id="price-history"')[1].split("</table>")[0]
    assert all(v in history for v in ("¥10.00", "¥110.00", "¥115.00"))
    assert "<script>" not in page  # CSP: no inline script code
    assert 'id="decide-form"' not in page  # the supervisor reads only


def test_the_operator_freezes_with_a_note_and_the_supplier_is_told(app, session, market, staff,
                                                                    opened):
    open_case = opened[0]
    url = f"/supervision/price-cases/{open_case.id}"
    browser = _browser(app, session, staff[0].id)
    answer = post_form(browser, url, url + "/freeze", {"note": ""})
    assert answer.status_code == 422
    assert 'id="note-error"' in _html(answer)
    answer = post_form(browser, url, url + "/freeze", {"note": "高于官网价，冻结。"})
    assert answer.status_code == 302
    session.expire_all()
    case = session.get(PriceCase, open_case.id)
    assert case.status is CaseStatus.FROZEN and case.closed_by_id == staff[0].id
    assert session.get(Offer, case.offer_id).status is OfferStatus.FROZEN
    again = post_form(browser, url, url + "/dismiss", {"note": "再次"})
    assert again.status_code == 409
    mine = _html(_browser(app, session, market.people[0][0].id).get("/supervision/my-price-cases"))
    assert "高于官网价，冻结。" in mine


def test_dismissing_keeps_the_offer_on_sale_and_no_new_case_at_that_price(app, session, staff,
                                                                          opened):
    open_case = opened[0]
    url = f"/supervision/price-cases/{open_case.id}"
    answer = post_form(_browser(app, session, staff[0].id), url, url + "/dismiss",
                       {"note": "官网已涨价"})
    assert answer.status_code == 302
    run_inspection(session)
    session.expire_all()
    assert session.get(PriceCase, open_case.id).status is CaseStatus.DISMISSED
    assert session.get(Offer, open_case.offer_id).status is OfferStatus.LISTED
    cases = session.scalars(select(PriceCase).where(
        PriceCase.offer_id == open_case.offer_id)).all()
    assert len(cases) == 1


def test_a_second_decision_on_a_closed_case_is_refused_next_to_the_form(app, session, staff,
                                                                        opened):
    frozen_case = opened[1]
    url = f"/supervision/price-cases/{frozen_case.id}"
    browser = _browser(app, session, staff[0].id)
    page = _html(browser.get(url))
    assert 'id="decide-form"' not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = browser.post(url + "/dismiss", data={"note": "x", "csrf_token": token})
    assert answer.status_code == 409
    assert 'role="alert"' in _html(answer)


def test_the_supervisor_and_suppliers_cannot_decide(app, session, market, staff, opened):
    url = f"/supervision/price-cases/{opened[0].id}"
    for user_id in (staff[1].id, market.people[0][0].id):
        browser = _browser(app, session, user_id)
        page_url = url if user_id == staff[1].id else "/supervision/my-price-cases"
        answer = post_form(browser, page_url, url + "/freeze", {"note": "冻结"})
        assert answer.status_code == 403
    session.expire_all()
    assert session.get(PriceCase, opened[0].id).status is CaseStatus.OPEN


def test_a_supplier_sees_its_own_cases_only_and_no_other_supplier(app, session, market, opened):
    open_case, frozen_case, other_case = opened
    browser = _browser(app, session, market.people[0][0].id)
    mine = _html(browser.get("/supervision/my-price-cases"))
    ids = set(re.findall(r'data-case-id="(\d+)"', mine))
    assert ids == {str(open_case.id), str(frozen_case.id)}
    assert "Above its reference price" in mine or "高于参考价" in mine
    assert browser.get(f"/supervision/price-cases/{other_case.id}").status_code == 404
    page = _html(browser.get(f"/supervision/price-cases/{open_case.id}"))
    others = [session.get_one(Organisation, a.organisation_id).name for a in market.actors[1:]]
    assert not [name for name in others if name in page]  # no other supplier named
    assert browser.get("/supervision/price-cases").status_code == 403
    assert browser.get("/supervision/price-cases/999999999").status_code == 404


def test_buyers_have_no_price_pages(app, session, opened):
    buyer = make_member(session, OrganisationKind.PURCHASING_UNIT)
    browser = _browser(app, session, buyer.id)
    assert browser.get(f"/supervision/price-cases/{opened[0].id}").status_code in (403, 404)
    assert browser.get("/supervision/my-price-cases").status_code == 403
    assert browser.get("/supervision/price-report").status_code == 403


def test_the_operator_changes_the_settings_and_bad_values_stay_next_to_their_field(
        app, session, staff):
    browser = _browser(app, session, staff[0].id)
    url = "/supervision/price-settings"
    answer = post_form(browser, url, url, {"min_peers": "abc", "quartile_margin_pct": "20",
                                           "hard_ratio_pct": "90"})
    page = _html(answer)
    assert answer.status_code == 422
    assert 'id="min_peers-error"' in page and 'id="hard_ratio_pct-error"' in page
    assert 'value="abc"' in page  # what was typed is kept
    answer = post_form(browser, url, url, {"min_peers": "4", "quartile_margin_pct": "25",
                                           "hard_ratio_pct": "140"})
    assert answer.status_code == 302
    page = _html(browser.get(url))
    assert 'value="4"' in page and 'value="25"' in page and 'value="140"' in page
    supervisor = _browser(app, session, staff[1].id)
    assert "readonly" in _html(supervisor.get(url))
    assert post_form(supervisor, url, url, {"min_peers": "3", "quartile_margin_pct": "20",
                                            "hard_ratio_pct": "130"}).status_code == 403


def test_the_monthly_report_counts_inspections_violations_and_actions(app, session, market,
                                                                       staff, opened):
    month = local_today().strftime("%Y-%m")
    supplier = market.actors[0].organisation_id
    browser = _browser(app, session, staff[1].id)
    page = _html(browser.get(f"/supervision/price-report?supplier_id={supplier}&month={month}"))

    def figure(key):
        row = page.split(f'id="report-{key}"')[1].split("</tr>")[0]
        return int(re.search(r'class="number">([\d,]+)<', row).group(1).replace(",", ""))

    assert figure("inspections") == 1
    assert figure("inspected") == 2  # supplier 0's two listed offers in that run
    assert (figure("opened"), figure("violations"), figure("frozen-at-once")) == (2, 1, 1)
    assert (figure("open"), figure("dismissed"), figure("resolved")) == (1, 0, 0)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_the_monthly_report_prints_as_a_pdf_with_its_figures(app, session, market, staff,
                                                             opened, tmp_path):
    month = local_today().strftime("%Y-%m")
    supplier_user = market.people[0][0]
    browser = _browser(app, session, supplier_user.id)
    answer = browser.get(f"/supervision/price-report?month={month}&format=pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(answer.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    name = session.scalar(select(User.organisation_id).where(User.id == supplier_user.id))
    assert month in text
    assert "月度价格巡检报告" in text or "Monthly price inspection report" in text
    assert f"#{opened[0].id}" in text and f"#{opened[1].id}" in text
    assert f"#{opened[2].id}" not in text
    assert "¥115.00" in text and "¥140.00" in text and name


def test_a_supplier_asks_only_for_its_own_report(app, session, market, opened):
    browser = _browser(app, session, market.people[0][0].id)
    other = market.actors[1].organisation_id
    page = _html(browser.get(f"/supervision/price-report?supplier_id={other}"))
    assert f"#{opened[2].id}" not in page and f"#{opened[0].id}" in page


@pytest.mark.parametrize("month", ["2026-13", "abc", "1999-01", "2999-01", "2026-1-1"])
def test_a_bad_month_is_answered_next_to_the_field(app, session, staff, opened, month):
    browser = _browser(app, session, staff[0].id)
    answer = browser.get(f"/supervision/price-report?supplier_id=1&month={month}")
    assert answer.status_code == 422
    assert 'id="month-error"' in _html(answer)


def test_a_report_of_an_organisation_that_is_no_supplier_is_not_found(app, session, staff):
    browser = _browser(app, session, staff[0].id)
    operator_org = session.get_one(User, staff[0].id).organisation_id
    assert browser.get(f"/supervision/price-report?supplier_id={operator_org}").status_code == 404


def test_the_pages_render_in_chinese_and_english(app, session, market, staff, opened):
    for english in (False, True):
        desk = _browser(app, session, staff[0].id, english=english)
        shop = _browser(app, session, market.people[0][0].id, english=english)
        for browser, url in ((desk, "/supervision/price-cases"),
                             (desk, f"/supervision/price-cases/{opened[0].id}"),
                             (desk, "/supervision/price-settings"),
                             (desk, "/supervision/price-report"),
                             (shop, "/supervision/my-price-cases"),
                             (shop, f"/supervision/price-cases/{opened[1].id}"),
                             (shop, "/supervision/price-report")):
            answer = browser.get(url)
            assert answer.status_code == 200, url
            assert ('lang="en"' if english else 'lang="zh-CN"') in _html(answer)


def _page_files() -> list:
    return [*sorted((ROOT / "templates" / "supervision").glob("price*.html")),
                 *(ROOT / "supervision" / "prices" / name for name in (
                     "views.py", "services.py", "cases.py", "settings.py", "reports.py"))]


def test_every_message_of_the_pages_has_a_chinese_translation():
    missing = untranslated(_page_files())
    assert not missing, missing

