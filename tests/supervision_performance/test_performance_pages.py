"""The performance and sanction pages through the Flask test client: oversight's ranking and
supplier page (a refused sanction form comes back next to its fields, what was typed kept), a
supplier's own pages, the public bad-conduct list, a suspension that takes the offers out of
search while the supplier reads why, nobody seeing another supplier's performance, and a
Chinese translation for every message of these pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.search import SearchQuery, make_backend
from mall.accounts.models import User
from mall.accounts.services import actor_for
from mall.core.auth import Actor, OrganisationKind
from mall.core.clock import frozen_clock, local_today
from mall.core.jobs import REGISTRY, run_job
from supervision.performance import sanctions
from supervision.performance.models import Sanction, SupplierMonth
from supervision.performance.sanctions import SanctionInput
from supervision.performance.services import compute_month, previous_month
from suppliers.listings import save_offers
from suppliers.models import CategoryAdmission
from tests.conftest import login, post_form
from tests.factories.accounts import make_member
from tests.factories.financing import confirmed_orders
from tests.factories.suppliers import admitted_supplier, offer_input, operator_actor
from tests.translation_coverage import untranslated

ROOT = Path(__file__).resolve().parents[2]
SYNC = "catalog.search_sync"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _browser(app, session, actor: Actor, *, english: bool = True):
    browser = app.test_client()
    if english:
        post_form(browser, "/login", "/language/en", {"next": "/login"})
    login(browser, session.get_one(User, actor.user_id).login)
    return browser


def _supervisor(session) -> Actor:
    return actor_for(make_member(session, OrganisationKind.SUPERVISOR))


def _scored(session):
    """A supplier with a confirmed order this month and its month computed."""
    deal = confirmed_orders(session, count=2)
    compute_month(session, month=local_today())
    session.flush()
    return deal.supplier


def test_oversight_ranks_a_month_and_filters_it(app, session):
    supplier = _scored(session)
    name = session.get_one(User, supplier.user_id).organisation.name
    operator = _browser(app, session, operator_actor(session))
    page = _html(operator.get("/supervision/suppliers/performance"))
    assert name in page and 'id="ranking-table"' in page
    row = re.search(r"<tr><td class=\"number\">\d+</td><td><a href=\"/supervision/suppliers/"
                    rf"{supplier.organisation_id}/performance\">", page)
    assert row, page
    assert name not in _html(operator.get("/supervision/suppliers/performance?name=zzz-none"))
    refused = operator.get("/supervision/suppliers/performance?month=2026-13&below=abc")
    assert refused.status_code == 422
    assert 'id="month-error"' in _html(refused) and 'value="2026-13"' in _html(refused)
    assert 'id="below-error"' in _html(refused)


def test_a_refused_sanction_form_keeps_what_was_typed_and_a_good_one_is_listed(app, session):
    supplier = _scored(session)
    sid = supplier.organisation_id
    supervisor = _browser(app, session, _supervisor(session))
    url = f"/supervision/suppliers/{sid}/performance"
    page = _html(supervisor.get(url))
    assert 'id="components"' in page and 'id="trend-table"' in page
    chart = json.loads(re.search(r'<script type="application/json" id="performance-data">'
                                 r"(.*?)</script>", page, re.S).group(1))
    assert len(chart["labels"]) == 12 and chart["scores"][-1] == session.scalar(
        select(SupplierMonth.score).where(SupplierMonth.supplier_id == sid))
    refused = post_form(supervisor, url, f"/supervision/suppliers/{sid}/sanctions",
                        {"kind": "points", "reason": "", "points": "99",
                         "legal_basis": "《政府采购法》第七十七条"})
    assert refused.status_code == 422
    html = _html(refused)
    assert 'id="impose-reason-error"' in html and 'id="impose-points-error"' in html
    assert "Give the reason for the decision." in html
    assert 'value="《政府采购法》第七十七条"' in html and 'value="99"' in html
    done = post_form(supervisor, url, f"/supervision/suppliers/{sid}/sanctions",
                     {"kind": "warning", "reason": "多次逾期确认订单"})
    assert done.status_code == 302
    session.expire_all()
    sanction = session.scalar(select(Sanction).where(Sanction.supplier_id == sid))
    assert sanction.reason == "多次逾期确认订单"
    assert "多次逾期确认订单" in _html(supervisor.get(url))
    revoked = post_form(supervisor, url, f"/supervision/sanctions/{sanction.id}/revoke",
                        {"reason": ""})
    assert revoked.status_code == 422 and f'id="revoke-{sanction.id}-reason-error"' in _html(
        revoked)


def test_the_operator_is_offered_only_its_own_kinds(app, session):
    supplier = _scored(session)
    operator = _browser(app, session, operator_actor(session))
    url = f"/supervision/suppliers/{supplier.organisation_id}/performance"
    page = _html(operator.get(url))
    assert 'value="suspension"' in page and 'value="expulsion"' not in page
    refused = post_form(operator, url,
                        f"/supervision/suppliers/{supplier.organisation_id}/sanctions",
                        {"kind": "expulsion", "reason": "串通投标"})
    assert refused.status_code == 403
    assert "Only the supervisor decides this sanction." in _html(refused)
    admission_id = session.scalar(select(CategoryAdmission.id).where(
        CategoryAdmission.supplier_id == supplier.organisation_id).order_by(CategoryAdmission.id))
    action = f"/supervision/suppliers/{supplier.organisation_id}/sanctions"
    form = {"kind": "suspension", "reason": "价格虚高", "admission_ids": str(admission_id)}
    too_early = post_form(operator, url, action, {**form, "ends_on": local_today().isoformat()})
    assert too_early.status_code == 422 and 'id="impose-ends_on-error"' in _html(too_early)
    assert f'<option value="{admission_id}" selected>' in _html(too_early)
    ends_on = (local_today() + timedelta(days=20)).isoformat()
    assert post_form(operator, url, action, {**form, "ends_on": ends_on}).status_code == 302
    session.expire_all()
    assert session.get_one(CategoryAdmission, admission_id).suspended_until.isoformat() == ends_on


def test_a_supplier_sees_its_own_performance_and_nobody_elses(app, session):
    supplier = _scored(session)
    _user, other = admitted_supplier(session)
    own = _browser(app, session, supplier)
    page = _html(own.get("/supervision/my-performance"))
    assert 'id="components"' in page and "How to improve" in page
    assert own.get(f"/supervision/suppliers/{supplier.organisation_id}/performance"
                   ).status_code == 302
    stranger = _browser(app, session, other)
    assert stranger.get(f"/supervision/suppliers/{supplier.organisation_id}/performance"
                        ).status_code == 404
    assert 'id="components"' not in _html(stranger.get("/supervision/my-performance"))
    assert stranger.post(f"/supervision/suppliers/{supplier.organisation_id}/sanctions",
                         data={}).status_code in (400, 403)


def test_the_public_list_needs_no_login_and_shows_current_entries(app, session):
    supervisor = _supervisor(session)
    listed_user, listed = admitted_supplier(session)
    gone_user, gone = admitted_supplier(session)
    sanctions.impose(session, supervisor, supplier_id=listed.organisation_id,
                     data=SanctionInput("bad_conduct", "提供虚假材料谋取成交", ban_years=3))
    old = sanctions.impose(session, supervisor, supplier_id=gone.organisation_id,
                           data=SanctionInput("bad_conduct", "恶意投诉", ban_years=1))
    old.starts_on, old.ends_on = date(2020, 1, 1), date(2021, 1, 1)  # served long ago
    session.flush()
    page = _html(app.test_client().get("/supervision/bad-conduct"))
    assert listed_user.organisation.name in page and listed_user.organisation.credit_code in page
    assert "提供虚假材料谋取成交" in page and sanctions.LAW_77 in page
    assert local_today().isoformat() in page
    assert gone_user.organisation.name not in page


@pytest.fixture
def index(app, tmp_path, monkeypatch):
    backend = make_backend("tantivy", var_dir=tmp_path)
    backend.ensure_index()
    monkeypatch.setitem(app.extensions, "search", lambda: backend)
    return backend


def test_a_suspension_takes_the_offers_out_of_search_and_the_supplier_reads_why(
        app, session, index):
    user, supplier = admitted_supplier(session)
    offer_id = save_offers(session, supplier, supplier_id=supplier.organisation_id, items=[
        offer_input("PERF-1", model="QX-PERF-41")]).results[0].offer_id
    start = datetime.now(UTC)
    with frozen_clock(start) as clock:
        def sync() -> None:
            session.flush()
            clock[0] += timedelta(seconds=REGISTRY[SYNC].seconds)
            run_job(app, SYNC)

        def found() -> list[int]:
            return [hit.offer_id for hit in index.search(SearchQuery(text="QX-PERF-41")).hits]

        sync()
        assert found() == [offer_id]
        admission_id = session.scalar(select(CategoryAdmission.id).where(
            CategoryAdmission.supplier_id == supplier.organisation_id).order_by(
            CategoryAdmission.id))
        ends_on = local_today() + timedelta(days=45)
        sanctions.impose(session, operator_actor(session), supplier_id=supplier.organisation_id,
                         data=SanctionInput("suspension", "巡检发现价格虚高，暂停整改",
                                            ends_on=ends_on, admission_ids=[admission_id]))
        sync()
        assert found() == []
        page = _html(_browser(app, session, supplier).get("/supervision/my-sanctions"))
        assert "巡检发现价格虚高，暂停整改" in page and ends_on.isoformat() in page
        assert "In force" in page
        assert user.organisation_id == supplier.organisation_id


def _page_files() -> list:
    return [*sorted((ROOT / "templates" / "supervision").glob("performance*.html")),
                 ROOT / "templates/supervision/sanctions_mine.html",
                 ROOT / "templates/supervision/bad_conduct.html",
                 *(ROOT / "supervision/performance" / name for name in ("views.py", "sanctions.py"))]


def test_every_message_of_the_pages_has_a_chinese_translation():
    missing = untranslated(_page_files())
    assert not missing, missing


def test_a_month_of_the_trend_opens_its_components(app, session):
    supplier = _scored(session)
    earlier = previous_month(local_today())
    session.add(SupplierMonth(supplier_id=supplier.organisation_id, month=earlier,
                              computed_at=datetime.now(UTC), not_confirmed=1, score=0))
    session.flush()
    page = _html(_browser(app, session, supplier).get("/supervision/my-performance"))
    assert f'href="?month={earlier:%Y-%m}#components"' in page
    assert f"for {local_today():%Y-%m}</caption>" in page  # the latest month first
    chosen = _html(_browser(app, session, supplier).get(
        f"/supervision/my-performance?month={earlier:%Y-%m}"))
    assert f"Score 0 of 100 for {earlier:%Y-%m}</caption>" in chosen


def test_the_pages_render_in_chinese_and_english(app, session):
    supplier = _scored(session)
    supervisor = _supervisor(session)
    sanctions.impose(session, supervisor, supplier_id=supplier.organisation_id,
                     data=SanctionInput("warning", "逾期确认"))
    session.flush()
    for english in (False, True):
        own = _browser(app, session, supplier, english=english)
        oversight = _browser(app, session, supervisor, english=english)
        for browser, url in ((own, "/supervision/my-performance"),
                             (own, "/supervision/my-sanctions"),
                             (oversight, "/supervision/suppliers/performance"),
                             (oversight, f"/supervision/suppliers/{supplier.organisation_id}"
                                         "/performance"),
                             (oversight, "/supervision/bad-conduct")):
            answer = browser.get(url)
            assert answer.status_code == 200, url
            assert ('lang="en"' if english else 'lang="zh-CN"') in _html(answer), url
