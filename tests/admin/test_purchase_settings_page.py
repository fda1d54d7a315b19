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


def test_the_operator_raises_a_regions_open_tender_threshold_and_its_direct_limit_at_once(
        client, session):
    unit = make_unit(session, region_code="430121")
    make_member(session, OrganisationKind.OPERATOR, login="centre-tender")
    login(client, "centre-tender")

    saved = post_form(client, PAGE, PAGE, {"region_code": "430121", "direct_limit": "3,000,000",
                                           "warn_pct": "80", "open_tender": "4,000,000"})

    assert saved.status_code == 302
    limits = budget.unit_limits(session, unit.organisation.id)
    assert (limits.direct_limit_fen, limits.open_tender_fen) == (300_000_000, 400_000_000)
    html = client.get(PAGE).get_data(as_text=True)
    row = html.split('data-region="430121"')[1].split("</tr>")[0]
    assert "¥3,000,000.00" in row and "¥4,000,000.00" in row
    edit = client.get(f"{PAGE}?region=430121").get_data(as_text=True)
    assert 'name="open_tender" inputmode="decimal" value="4000000.00"' in edit
    assert 'name="open_tender_inherit" value="1" >' in edit  # its own: not ticked

    # Only the limit changes: the empty threshold field keeps the region's threshold.
    post_form(client, PAGE, PAGE, {"region_code": "430121", "direct_limit": "3,500,000",
                                   "warn_pct": "80", "open_tender": ""})
    assert budget.unit_limits(session, unit.organisation.id).open_tender_fen == 400_000_000


def test_a_direct_limit_at_the_open_tender_threshold_is_refused_in_chinese_next_to_it(
        client, session):
    unit = make_unit(session, region_code="430122")
    make_member(session, OrganisationKind.OPERATOR, login="centre-tender-2")
    login(client, "centre-tender-2")  # the page in the mall's language, Chinese
    before = budget.unit_limits(session, unit.organisation.id)

    refused = post_form(client, PAGE, PAGE, {"region_code": "430122", "direct_limit": "2,000,000",
                                             "warn_pct": "80", "open_tender": ""})

    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    message = html.split('id="direct_limit-error"')[1].split("</span>")[0]
    assert "直购限额须低于" in message and "¥2,000,000.00" in message
    assert 'aria-describedby="direct_limit-error"' in html
    assert 'value="2,000,000"' in html  # what was typed stays in the form
    assert budget.unit_limits(session, unit.organisation.id) == before

    # A threshold typed at or below the limit is named next to the threshold.
    refused = post_form(client, PAGE, PAGE, {"region_code": "430122", "direct_limit": "3,000,000",
                                             "warn_pct": "80", "open_tender": "3,000,000",
                                             "settlement_max": "20000"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "直购限额须低于" in html.split(
        'id="open_tender-error"')[1].split("</span>")[0]
    assert 'id="direct_limit-error"' not in html
    assert 'value="3,000,000"' in html and 'value="20000"' in html
    assert budget.unit_limits(session, unit.organisation.id) == before


@pytest.mark.parametrize("typed", ["abc", "0", HUGE])
def test_a_bad_open_tender_threshold_is_named_next_to_its_field(client, session, typed):
    make_member(session, OrganisationKind.OPERATOR, login="centre-tender-3")
    login(client, "centre-tender-3")
    refused = post_form(client, PAGE, PAGE, {"region_code": "430123", "direct_limit": "800000",
                                             "warn_pct": "80", "open_tender": typed})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="open_tender-error"' in html
    assert 'aria-describedby="open_tender-error"' in html and f'value="{typed}"' in html


def test_a_region_left_to_its_province_shows_the_threshold_as_inherited(client, session):
    unit = make_unit(session, region_code="430124")
    make_member(session, OrganisationKind.OPERATOR, login="centre-tender-4")
    login(client, "centre-tender-4")
    post_form(client, PAGE, PAGE, {"region_code": "430000", "direct_limit": "1,000,000",
                                   "warn_pct": "80", "open_tender": "4,000,000"})
    post_form(client, PAGE, PAGE, {"region_code": "430124", "direct_limit": "3,000,000",
                                   "warn_pct": "80", "open_tender": "5,000,000"})
    assert budget.unit_limits(session, unit.organisation.id).open_tender_fen == 500_000_000

    saved = post_form(client, PAGE, PAGE, {"region_code": "430124", "direct_limit": "3,000,000",
                                           "warn_pct": "80", "open_tender": "",
                                           "open_tender_inherit": "1"})

    assert saved.status_code == 302
    assert budget.unit_limits(session, unit.organisation.id).open_tender_fen == 400_000_000
    html = client.get(PAGE).get_data(as_text=True)
    row = html.split('data-region="430124"')[1].split("</tr>")[0]
    assert 'data-column="open-tender">同上级设置</td>' in row
    edit = client.get(f"{PAGE}?region=430124").get_data(as_text=True)
    assert 'name="open_tender_inherit" value="1" checked>' in edit
