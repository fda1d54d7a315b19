"""The official catalogue in the database, and the operator's switchboard of leaves."""

import pytest
from sqlalchemy import func, select

from catalog import services
from catalog.models import Category
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind
from mall.core.errors import PermissionDenied, ValidationFailed
from tests.conftest import login
from tests.factories.accounts import make_member


def test_the_database_holds_all_4301_codes_of_the_2022_catalogue(session):
    assert session.scalar(select(func.count()).select_from(Category)
                          .where(Category.version == "2022")) == 4301


@pytest.mark.parametrize(("code", "name", "parent"), [
    ("A02010104", "服务器", "A02010100"),
    ("A02010105", "台式计算机", "A02010100"),
    ("A05040101", "复印纸", "A05040100"),
    ("A07050200", "煤气、水煤气、发生炉煤气和类似的可燃气", "A07050000"),
    ("A02010100", "计算机", "A02010000"),
])
def test_codes_carry_their_official_names_and_parents(session, code, name, parent):
    category = services.get_category(session, code)
    assert category.name == name
    assert category.parent.code == parent
    assert category.version == "2022"


def test_the_chain_from_a_leaf_reaches_its_section_root(session):
    chain = []
    category = services.get_category(session, "A02010105")
    while category:
        chain.append(category.code)
        category = category.parent
    assert chain == ["A02010105", "A02010100", "A02010000", "A02000000"]


def test_loading_again_changes_nothing_and_keeps_enabled_leaves(session):
    operator = actor_for(make_member(session, OrganisationKind.OPERATOR))
    services.set_categories_enabled(session, operator, codes=["A05040101"], enabled=True)
    report = services.load_catalogue(session)
    assert (report.total, report.added, report.renamed) == (4301, 0, 0)
    assert services.get_category(session, "A05040101").enabled


def test_the_operator_enables_and_disables_leaves(session):
    operator = actor_for(make_member(session, OrganisationKind.OPERATOR))
    changed = services.set_categories_enabled(session, operator,
                                              codes=["A05040101", "A02010105"], enabled=True)
    assert changed == 2
    assert services.get_category(session, "A02010105").enabled
    services.set_categories_enabled(session, operator, codes=["A02010105"], enabled=False)
    assert not services.get_category(session, "A02010105").enabled


def test_a_parent_code_cannot_be_enabled(session):
    operator = actor_for(make_member(session, OrganisationKind.OPERATOR))
    with pytest.raises(ValidationFailed) as caught:
        services.set_categories_enabled(session, operator, codes=["A02010100"], enabled=True)
    assert "A02010100" in caught.value.errors["codes"][0]


def test_only_the_operator_switches_categories(session):
    for kind in (OrganisationKind.PURCHASING_UNIT, OrganisationKind.SUPPLIER,
                 OrganisationKind.SUPERVISOR):
        actor = actor_for(make_member(session, kind))
        with pytest.raises(PermissionDenied):
            services.set_categories_enabled(session, actor, codes=["A05040101"], enabled=True)


def test_the_api_refuses_a_buyer_who_tries_to_enable_a_category(client, session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="cat-buyer")
    login(client, "cat-buyer")
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/").get_data(as_text=True))
    response = client.put("/api/v1/categories/enabled",
                          json={"codes": ["A05040101"], "enabled": True},
                          headers={"X-CSRFToken": token})
    assert response.status_code == 403 and response.json["code"] == "role_required"
    assert client.get("/api/v1/categories/A05040101").json["enabled"] is False


def test_the_api_lists_children_and_finds_categories_by_name(client, session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="cat-reader")
    login(client, "cat-reader")
    children = client.get("/api/v1/categories?parent=A02010100").json
    assert {"code": "A02010105", "name": "台式计算机"}.items() <= {
        k: v for c in children if c["code"] == "A02010105" for k, v in c.items()}.items()
    found = client.get("/api/v1/categories", query_string={"q": "复印纸"}).json
    assert [c["code"] for c in found] == ["A05040101"]
    bad = client.get("/api/v1/categories?parent=XYZ")
    assert bad.status_code == 422 and "parent" in bad.json["errors"]

