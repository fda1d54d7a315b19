"""The operator's page of search synonyms."""

from __future__ import annotations

from catalog.models import SynonymGroup
from mall.core.auth import OrganisationKind
from tests.conftest import login, post_form
from tests.factories.accounts import make_member


def test_the_operator_page_adds_and_removes_a_group(client, session):
    make_member(session, OrganisationKind.OPERATOR, login="centre-syn")
    login(client, "centre-syn")
    bad = post_form(client, "/admin/synonyms", "/admin/synonyms", {"terms": "白板"})
    assert bad.status_code == 422 and 'id="terms-error"' in bad.get_data(as_text=True)
    ok = post_form(client, "/admin/synonyms", "/admin/synonyms", {"terms": "白板，书写板"})
    assert ok.status_code == 302
    assert "白板 = 书写板" in client.get("/admin/synonyms").get_data(as_text=True)
    session.expire_all()
    group = session.query(SynonymGroup).filter(SynonymGroup.terms.is_not(None)).order_by(
        SynonymGroup.id.desc()).first()
    post_form(client, "/admin/synonyms", "/admin/synonyms", {"delete": str(group.id)})
    assert "白板 = 书写板" not in client.get("/admin/synonyms").get_data(as_text=True)
