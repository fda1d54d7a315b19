"""The operator's switchboard of catalogue leaves: which are sold in the mall, and which are
centrally procured (集中采购目录) and so always need a contract."""

from __future__ import annotations

import re

from catalog import services as catalog
from mall.core.auth import OrganisationKind
from tests.conftest import login, post_form
from tests.factories.accounts import make_member
from tests.factories.suppliers import DESKTOP


def test_the_operator_page_switches_a_leaf_on(client, session):
    make_member(session, OrganisationKind.OPERATOR, login="centre-op2")
    login(client, "centre-op2")
    page = "/admin/categories?parent=A05040100"
    html = client.get(page).get_data(as_text=True)
    assert "复印纸" in html
    response = post_form(client, page, "/admin/categories",
                         {"codes": ["A05040101"], "action": "enable", "back": page})
    assert response.status_code == 302
    assert "已启用" in client.get(page).get_data(as_text=True)
    session.expire_all()
    assert catalog.get_category(session, "A05040101").enabled


def test_the_operator_page_shows_and_toggles_the_mark(app, session):
    make_member(session, OrganisationKind.OPERATOR, login="central-op2")
    client = app.test_client()
    login(client, "central-op2")
    page = "/admin/categories?parent=A02010100"
    response = post_form(client, page, "/admin/categories",
                         {"codes": [DESKTOP], "action": "central", "back": page})
    assert response.status_code == 302
    session.expire_all()
    assert catalog.get_category(session, DESKTOP).centrally_procured
    html = client.get(page).get_data(as_text=True)
    row = re.search(rf"<tr>(?:(?!</tr>).)*{DESKTOP}(?:(?!</tr>).)*</tr>", html, re.DOTALL).group(0)
    assert "是，须签订合同" in row
    assert 'value="central"' in html and 'value="not-central"' in html
    post_form(client, page, "/admin/categories",
              {"codes": [DESKTOP], "action": "not-central", "back": page})
    session.expire_all()
    assert not catalog.get_category(session, DESKTOP).centrally_procured
