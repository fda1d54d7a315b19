"""Random expert acceptance through the pages: the operator's pool and draw, the buyer's and
the supplier's order page (experts by number until the acceptance, then by name), the
expert's work list and review form."""

from __future__ import annotations

import re

import pytest

from mall.accounts.models import User
from mall.core.auth import OrganisationKind
from mall.purchasing.experts import pool
from mall.purchasing.experts import services as experts
from mall.purchasing.orders.models import OrderStatus
from tests.conftest import login, post_form
from tests.factories.accounts import make_member
from tests.factories.experts import add_experts, delivered, operator, placed_order, signed


def _login_of(session, actor) -> str:
    return session.get(User, actor.user_id).login


@pytest.fixture
def drawn(session):
    """An order asked for experts, signed, drawn (seed "page-seed") and received."""
    op = operator(session)
    team = add_experts(session, op, 5)
    deal = signed(session, placed_order(session))
    experts.request_experts(session, deal.unit.buyer, deal.order.id, reason="专家验收")
    draw = experts.draw_experts(session, op, deal.order.id, seed="page-seed")
    delivered(session, deal)
    session.flush()
    return op, team, deal, draw


def _as(app, login_name: str):
    """A client of its own, logged in as ``login_name``."""
    client = app.test_client()
    login(client, login_name)
    return client


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_parties_see_experts_by_number_until_the_acceptance_then_by_name(app, session, drawn):
    op, team, deal, draw = drawn
    chosen = [e for i in draw.chosen_ids for e in team if e.id == i]
    order_url = f"/orders/{deal.order.id}"
    for party in (deal.unit.buyer, deal.supplier):
        html = _page(_as(app, _login_of(session, party)), order_url)
        assert 'id="expert-panel"' in html and 'id="experts-awaiting"' in html
        assert not any(e.name in html for e in team)
    client = _as(app, _login_of(session, deal.unit.buyer))
    html = _page(client, order_url)
    assert 'id="accept-result' not in html and "accept-reasons" not in html  # no form of its own
    refused = post_form(client, order_url, f"{order_url}/accept", {"result": "pass"})
    assert refused.status_code == 409
    assert 'id="action-error"' in refused.get_data(as_text=True)
    for expert in chosen:
        url = f"/expert/assignments/{draw.id}"
        signer = _as(app, session.get(User, expert.user_id).login)
        done = post_form(signer, url, url, {"result": "pass", "opinion": "货物与合同一致，验收合格"})
        assert done.status_code == 302
    session.expire_all()
    assert deal.order.status is OrderStatus.ACCEPTED
    for party in (deal.unit.buyer, deal.supplier):
        html = _page(_as(app, _login_of(session, party)), order_url)
        assert all(e.name in html for e in chosen) and 'id="experts-done"' in html


def test_the_operator_draws_and_sees_exclusions_and_the_reproduction(client, session):
    op = operator(session)
    deal = signed(session, placed_order(session))
    experts.request_experts(session, deal.unit.buyer, deal.order.id, reason="专家验收")
    team = add_experts(session, op, 4)
    supplier_code = session.get(User, deal.supplier.user_id).organisation.credit_code
    pool.add_tie(session, op, team[0].id, credit_code=supplier_code, note="近亲属任职")
    session.flush()
    login(client, _login_of(session, op))
    waiting = _page(client, "/expert-draws")
    assert f'data-order-id="{deal.order.id}"' in waiting
    url = f"/expert-draws/{deal.order.id}"
    bad = post_form(client, url, url, {"seed": "no spaces allowed"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert 'value="no spaces allowed"' in bad.get_data(as_text=True)
    assert post_form(client, url, url, {"seed": "public-lottery-7"}).status_code == 302
    html = _page(client, url)
    assert "public-lottery-7" in html and "tag-accepted" in html  # drawn again: the same panel
    excluded = re.search(r'<table id="excluded">(.*?)</table>', html, re.S).group(1)
    assert team[0].name in excluded
    again = post_form(client, url, url, {"seed": ""})
    assert again.status_code == 409


def test_too_few_experts_is_said_on_the_draw_page(client, session):
    op = operator(session)
    deal = signed(session, placed_order(session))
    experts.request_experts(session, deal.unit.buyer, deal.order.id, reason="专家验收")
    add_experts(session, op, 1)
    session.flush()
    login(client, _login_of(session, op))
    url = f"/expert-draws/{deal.order.id}"
    refused = post_form(client, url, url, {"seed": ""})
    assert refused.status_code == 409 and 'id="draw-error"' in refused.get_data(as_text=True)


def test_the_buyer_asks_for_experts_on_its_order_page(client, session):
    deal = placed_order(session)
    session.flush()
    login(client, _login_of(session, deal.unit.buyer))
    url = f"/orders/{deal.order.id}"
    action = f"{url}/experts-request"
    empty = post_form(client, url, action, {"reason": "   "})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.get_data(as_text=True)
    assert post_form(client, url, action, {"reason": "金额较大，请专家验收"}).status_code == 302
    html = _page(client, url)
    assert "金额较大，请专家验收" in html and 'id="experts-awaiting"' in html
    other = placed_order(session)
    session.flush()
    assert post_form(client, url, f"/orders/{other.order.id}/experts-request",
                     {"reason": "x"}).status_code == 404


def test_the_expert_signs_only_its_own_assignments(app, session, drawn):
    op, team, deal, draw = drawn
    chosen = next(e for e in team if e.id == draw.chosen_ids[0])
    outsider = next(e for e in team if e.id not in draw.chosen_ids)
    client = _as(app, session.get(User, chosen.user_id).login)
    work = _page(client, "/expert/assignments")
    assert f'data-draw-id="{draw.id}"' in work
    url = f"/expert/assignments/{draw.id}"
    bad = post_form(client, url, url, {"result": "partial", f"quantity-{deal.order.lines[0].id}": "abc",
                                        "opinion": ""})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert text.count('aria-invalid="true"') >= 2 and 'value="abc"' in text
    assert client.get(f"/orders/{deal.order.id}").status_code == 404  # not a party's page
    other = _as(app, session.get(User, outsider.user_id).login)
    assert other.get(url).status_code == 404
    assert f'data-draw-id="{draw.id}"' not in _page(other, "/expert/assignments")
    buyer = _as(app, _login_of(session, deal.unit.buyer))
    assert buyer.get("/expert/assignments").status_code == 403
    assert buyer.get("/experts").status_code == 403


def test_the_operator_adds_an_expert_and_the_supervisor_only_reads(app, session):
    op = operator(session)
    session.flush()
    client = _as(app, _login_of(session, op))
    bad = post_form(client, "/experts", "/experts", {
        "name": "王五", "login": "wangwu-expert", "password": "short", "employer_name": "中南大学",
        "category_codes": "A0504 Z12"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'value="wangwu-expert"' in text and "Z12" in text
    done = post_form(client, "/experts", "/experts", {
        "name": "王五", "login": "wangwu-expert", "password": "a-long-password",
        "employer_name": "中南大学", "category_codes": "A0504"})
    assert done.status_code == 302
    assert "王五" in _page(client, "/experts")
    reader = make_member(session, OrganisationKind.SUPERVISOR)
    session.flush()
    client = _as(app, reader.login)
    html = _page(client, "/experts")
    assert "王五" in html and 'action="/experts"' not in html
    assert post_form(client, "/experts", "/experts/rule",
                     {"threshold": "1", "panel_size": "3"}).status_code == 403


def test_the_api_refuses_the_buyers_acceptance_while_experts_accept(app, session, drawn):
    from mall.accounts.services import issue_token

    op, team, deal, draw = drawn
    _token, secret = issue_token(session, deal.unit.approver, name="ERP",
                                 scopes=["orders:read", "orders:write"])
    session.flush()
    response = app.test_client().post(f"/api/v1/orders/{deal.order.id}/accept",
                                      json={"result": "pass"},
                                      headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "expert_acceptance_required"


def test_an_expert_has_a_home_page_and_its_role_in_words(app, session, drawn):
    op, team, deal, draw = drawn
    client = _as(app, session.get(User, team[0].user_id).login)
    home = client.get("/")
    assert home.status_code == 200
    assert "expert_pool" not in home.get_data(as_text=True)


def test_the_operator_sets_the_amount_and_the_panel_size(app, session):
    op = operator(session)
    session.flush()
    client = _as(app, _login_of(session, op))
    bad = post_form(client, "/experts", "/experts/rule", {"threshold": "abc", "panel_size": "3"})
    assert bad.status_code == 422 and 'value="abc"' in bad.get_data(as_text=True)
    too_many = post_form(client, "/experts", "/experts/rule",
                         {"threshold": "5000", "panel_size": "12"})
    assert too_many.status_code == 422 and 'value="12"' in too_many.get_data(as_text=True)
    assert post_form(client, "/experts", "/experts/rule",
                     {"threshold": "5,000.50", "panel_size": "5"}).status_code == 302
    assert experts.current_rule(session) == experts.Rule(500_050, 5)
    assert 'value="5000.50"' in _page(client, "/experts")
