"""The operator sets purchase limits per region on a page: the direct-purchase limit, the
warning share, the settlement threshold and the split-order window; units of the region then
live by them."""

from __future__ import annotations

import pytest

from mall.core.auth import OrganisationKind
from mall.purchasing.budget import services as budget
from tests.conftest import login, post_form
from tests.factories.accounts import make_member, make_organisation
from tests.factories.purchasing import make_unit
from tests.factories.suppliers import operator_actor

PAGE = "/admin/purchase-settings"
HUGE = "99999999999999999999"


def _client(app, session, actor):
    from mall.accounts.models import User

    browser = app.test_client()
    post_form(browser, "/login", "/language/en", {"next": "/login"})
    login(browser, session.get(User, actor.user_id).login)
    return browser


def test_the_operator_sets_a_regions_limits_and_its_units_follow_them(client, session):
    unit = make_unit(session, region_code="430104")
    make_member(session, OrganisationKind.OPERATOR, login="centre-limits")
    login(client, "centre-limits")

    saved = post_form(client, PAGE, PAGE, {"region_code": "430104", "direct_limit": "800,000",
                                           "warn_pct": "90", "settlement_max": "20000"})
    assert saved.status_code == 302

    limits = budget.unit_limits(session, unit.organisation.id)
    assert (limits.direct_limit_fen, limits.warn_pct) == (80_000_000, 90)
    assert budget.settlement_threshold(session, unit.organisation.id) == 2_000_000
    html = client.get(PAGE).get_data(as_text=True)
    assert 'data-region="430104"' in html and "¥800,000.00" in html and "¥20,000.00" in html


def test_bad_input_is_named_next_to_its_field_and_changes_nothing(client, session):
    unit = make_unit(session, region_code="430105")
    make_member(session, OrganisationKind.OPERATOR, login="centre-limits-2")
    login(client, "centre-limits-2")
    before = budget.unit_limits(session, unit.organisation.id)

    refused = post_form(client, PAGE, PAGE, {"region_code": "4301", "direct_limit": "1.001",
                                             "warn_pct": "abc", "settlement_max": "-5"})

    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for field in ("region_code", "direct_limit", "warn_pct"):
        assert f'id="{field}-error"' in html and f'aria-describedby="{field}-error"' in html
    assert 'value="1.001"' in html  # what was typed stays in the form
    assert budget.unit_limits(session, unit.organisation.id) == before


def test_the_supervisor_reads_the_limits_but_cannot_change_them(client, session):
    make_member(session, OrganisationKind.SUPERVISOR, login="watch-limits")
    login(client, "watch-limits")
    page = client.get(PAGE)
    assert page.status_code == 200 and 'id="form-purchase-settings"' not in page.get_data(as_text=True)
    refused = post_form(client, PAGE, PAGE, {"region_code": "", "direct_limit": "1",
                                             "warn_pct": "80", "settlement_max": ""})
    assert refused.status_code == 403


def test_a_buyer_has_no_business_there(client, session):
    login(client, make_unit(session).buyer_user.login)
    assert client.get(PAGE).status_code == 403


def test_changing_only_the_limit_keeps_the_regions_threshold_and_the_form_shows_a_row(
        client, session):
    unit = make_unit(session, region_code="430111")
    make_member(session, OrganisationKind.OPERATOR, login="centre-limits-3")
    login(client, "centre-limits-3")
    post_form(client, PAGE, PAGE, {"region_code": "430111", "direct_limit": "800000",
                                   "warn_pct": "80", "settlement_max": "20000"})

    edit = client.get(f"{PAGE}?region=430111").get_data(as_text=True)
    assert 'value="800000.00"' in edit and 'value="20000.00"' in edit  # the row's values

    post_form(client, PAGE, PAGE, {"region_code": "430111", "direct_limit": "700000",
                                   "warn_pct": "80", "settlement_max": ""})
    assert budget.unit_limits(session, unit.organisation.id).direct_limit_fen == 70_000_000
    assert budget.settlement_threshold(session, unit.organisation.id) == 2_000_000  # unchanged

    post_form(client, PAGE, PAGE, {"region_code": "430111", "direct_limit": "700000",
                                   "warn_pct": "80", "settlement_max": "",
                                   "settlement_inherit": "1"})
    elsewhere = make_unit(session, region_code="440100")  # a region without a row of its own
    assert (budget.settlement_threshold(session, unit.organisation.id)
            == budget.settlement_threshold(session, elsewhere.organisation.id) != 2_000_000)


def test_a_warning_share_out_of_range_is_named_next_to_its_own_field(client, session):
    make_member(session, OrganisationKind.OPERATOR, login="centre-limits-4")
    login(client, "centre-limits-4")
    refused = post_form(client, PAGE, PAGE, {"region_code": "", "direct_limit": "1000000",
                                             "warn_pct": "150", "settlement_max": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="warn_pct-error"' in html and 'id="direct_limit-error"' not in html


@pytest.mark.parametrize(("form", "field"), [
    ({"direct_limit": HUGE}, "direct_limit"), ({"direct_limit": "1e30"}, "direct_limit"),
    ({"settlement_max": HUGE}, "settlement_max"), ({"warn_pct": "²"}, "warn_pct"),
    ({"warn_pct": HUGE}, "warn_pct")])
def test_the_purchase_limits_page_refuses_huge_numbers_next_to_their_fields(client, session,
                                                                           form, field):
    make_member(session, OrganisationKind.OPERATOR, login="centre-money")
    login(client, "centre-money")
    page = "/admin/purchase-settings"
    refused = post_form(client, page, page, {"region_code": "", "direct_limit": "800000",
                                             "warn_pct": "80", "settlement_max": "", **form})
    assert refused.status_code == 422 and f'id="{field}-error"' in refused.text


def test_the_operator_sets_the_approval_window_on_the_purchase_limits_page(app, session):
    operator = operator_actor(session)
    browser = _client(app, session, operator)
    refused = post_form(browser, "/admin/purchase-settings", "/admin/purchase-settings", {
        "region_code": "", "direct_limit": "1,000,000", "warn_pct": "80",
        "split_window": "abc"})
    assert refused.status_code == 422 and 'id="split_window-error"' in refused.get_data(
        as_text=True)
    saved = post_form(browser, "/admin/purchase-settings", "/admin/purchase-settings", {
        "region_code": "", "direct_limit": "1,000,000", "warn_pct": "80",
        "split_window": "14"})
    assert saved.status_code == 302
    unit_org = make_organisation(session, OrganisationKind.PURCHASING_UNIT, region_code="110100")
    assert budget.split_window_days(session, unit_org.id) == 14
    html = browser.get("/admin/purchase-settings?region=default").get_data(as_text=True)
    assert 'name="split_window" inputmode="numeric" maxlength="3" value="14"' in html
