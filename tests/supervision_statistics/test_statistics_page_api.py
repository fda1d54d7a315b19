"""The statistics page, its XLSX export and GET /api/v1/statistics show the hand-worked
figures of the seeded set for the same filters; bad filters get a message by the field (page)
or a problem document naming the filter (API); buyers and suppliers are refused."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from mall.accounts.models import User
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import OrganisationKind, Role
from tests.conftest import login
from tests.factories.accounts import make_member, make_user

PAGE, API = "/supervision/statistics", "/api/v1/statistics"
PROBLEM = "application/problem+json"
# Q1 2026 of the hand-worked set: deals (amount, budget) 29,900 (32,900), 20,000 (24,000),
# 14,950 (16,450) direct and 700,000 (1,000,000) by a round; SME: all but the 20,000 one.
AMOUNT, BUDGET, SME_AMOUNT = 764_850, 1_073_350, 744_850
SAVINGS_RATE = round(100 * (BUDGET - AMOUNT) / BUDGET, 2)  # 28.74
SME_BY_COUNT, SME_BY_AMOUNT = round(100 * 3 / 4, 2), round(100 * SME_AMOUNT / AMOUNT, 2)


def figure(html: str, key: str) -> str:
    match = re.search(rf'<tr id="figure-{key}"><th scope="row">[^<]*</th><td[^>]*>([^<]*)</td>',
                      html)
    assert match, key
    return match[1].strip()


@pytest.fixture
def supervisor(session, client):
    user = make_member(session, OrganisationKind.SUPERVISOR)
    session.flush()
    login(client, user.login)
    return user


def test_the_page_shows_the_hand_worked_figures_with_charts_and_tables(
        session, client, mall, supervisor):
    response = client.get(PAGE, query_string={"quarter": "2026-Q1"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert figure(html, "deals") == "4"
    assert figure(html, "amount") == "¥7,648.50" and figure(html, "budget") == "¥10,733.50"
    assert figure(html, "savings-rate") == f"{SAVINGS_RATE:.2f}%" == "28.74%"
    assert figure(html, "sme-count") == f"{SME_BY_COUNT:.2f}%"
    assert figure(html, "sme-amount") == f"{SME_BY_AMOUNT:.2f}%"
    assert figure(html, "failure-rate") == "50.00%"
    for chart in ("trend-chart", "mode-chart", "category-chart", "supplier-chart"):
        assert f'<canvas id="{chart}"' in html
    assert 'id="statistics-data"' in html and "js/statistics.js" in html
    trend = re.search(r'<table id="trend-table">.*?</table>', html, re.S)[0]
    assert [int(n) for n in re.findall(r'class="deals">(\d+)<', trend)] == [0, 0, 4]
    assert 'id="basis"' in html  # the page says what the budget is


def test_bad_filters_are_shown_next_to_their_fields_and_what_was_typed_is_kept(
        session, client, mall, supervisor):
    response = client.get(PAGE, query_string={"quarter": "2026-Q9", "region": "43x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="quarter-error"' in html and 'id="region-error"' in html
    assert 'value="2026-Q9"' in html and 'value="43x"' in html
    assert 'id="headline"' not in html


def test_the_xlsx_export_has_the_same_figures_for_the_same_filters(
        session, client, mall, supervisor):
    html = client.get(PAGE, query_string={"quarter": "2026-Q1", "region": "430000"}
                      ).get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="export-xlsx"', html)[1].replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(BytesIO(response.data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    blank = rows.index((None, None))
    assert rows[blank - 5][1] == "430000"  # the region among the filters
    # The headline in the page's order: deals, amount, budget, savings, savings rate, ...
    deals, amount, budget, savings, rate = (row[1] for row in rows[blank + 1:blank + 6])
    # Hunan only: the Beijing unit's 14,950 (16,450) is left out.
    assert (deals, amount, budget) == (3, (AMOUNT - 14_950) / 100, (BUDGET - 16_450) / 100)
    assert savings == round(budget - amount, 2)
    assert rate == round(100 * (BUDGET - 16_450 - AMOUNT + 14_950) / (BUDGET - 16_450), 2)
    page_rate = figure(html, "savings-rate")
    assert page_rate == f"{rate:.2f}%"
    trend = list(book.worksheets[1].iter_rows(values_only=True))
    assert trend[1:] == [("2026-01", 0, 0, 0, None), ("2026-02", 0, 0, 0, None),
                         ("2026-03", 3, 7_499.0, 10_569.0, rate)]


@pytest.mark.parametrize("kind", [OrganisationKind.OPERATOR, OrganisationKind.SUPERVISOR])
def test_the_api_answers_the_same_figures(session, client, mall, kind):
    staff = make_member(session, kind)  # both issue their own statistics:read tokens
    _token, secret = issue_token(session, actor_for(staff), name="statistics",
                                 scopes=["statistics:read"])
    session.flush()
    response = client.get(API, query_string={"quarter": "2026-Q1"},
                          headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    totals = body["totals"]
    assert (totals["deals"], totals["amount_fen"], totals["budget_fen"]) == (4, AMOUNT, BUDGET)
    assert totals["savings_rate_pct"] == SAVINGS_RATE
    assert totals["sme_share_count_pct"] == SME_BY_COUNT
    assert totals["sme_share_amount_pct"] == SME_BY_AMOUNT
    assert body["rounds"]["failure_rate_pct"] == 50.0
    assert body["rounds"]["challenge_rate_pct"] == 50.0
    assert [p["deals"] for p in body["trend"]] == [0, 0, 4]
    assert body["filters"]["from_month"] == "2026-01" and body["filters"]["to_month"] == "2026-03"
    assert [m["mode"] for m in body["by_mode"]] == ["direct", "quick", "framework"]
    mine = client.get(API, query_string={"quarter": "2026-Q1", "mode": "direct",
                                         "region": "110000"},
                      headers={"Authorization": f"Bearer {secret}"}).json
    assert mine["totals"]["amount_fen"] == 14_950 and mine["rounds"] is None


def test_the_api_names_a_bad_filter_in_a_problem_document(session, client, mall, supervisor):
    response = client.get(API, query_string={"from_month": "2026-1", "unit_id": "x"})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.json["code"] == "validation_failed"
    assert set(response.json["errors"]) == {"from_month", "unit_id"}


def test_buyers_and_suppliers_are_refused_on_the_page_and_the_api(session, client, mall):
    buyer = session.get_one(User, mall.hunan.buyer.user_id)
    login(client, buyer.login)
    assert client.get(PAGE).status_code == 403
    refused = client.get(API)
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert refused.json["code"] == "role_required"
    admin = make_user(session, session.get_one(User, mall.sme.user.id).organisation,
                      roles=[Role.SUPPLIER_ADMIN])
    _token, secret = issue_token(session, actor_for(admin), name="erp", scopes=["orders:read"])
    session.flush()
    answer = client.get(API, headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 403 and answer.mimetype == PROBLEM


@pytest.mark.parametrize("query", [
    {"from_month": "1000-01", "to_month": "9999-12"},  # years outside 1900-2999
    {"from_month": "2000-01", "to_month": "2026-12"},  # more than ten years
    {"from_month": "1990-01"},  # more than ten years up to this month
    {"from_month": "2026-01\n"}, {"quarter": "２０２６-Q4"}, {"region": "４３０１００"},
])
def test_a_period_too_long_or_odd_digits_are_refused(client, supervisor, query):
    response = client.get(API, query_string=query)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert set(response.json["errors"]) & {"from_month", "to_month", "quarter", "region"}
