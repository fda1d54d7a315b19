"""The operator keeps the search synonyms; the index follows through the outbox."""

import pytest

from catalog.models import SynonymGroup
from catalog.search import SearchQuery, make_backend
from catalog.search.documents import refresh_offers
from catalog.sync import drain_outbox
from catalog.synonyms import add_synonym_group, delete_synonym_group, ensure_default_synonyms
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind
from mall.core.errors import PermissionDenied, ValidationFailed
from tests.factories.accounts import make_member
from tests.factories.suppliers import admitted_supplier, offer_input, operator_actor


def test_a_group_needs_two_different_words(session):
    operator = operator_actor(session)
    with pytest.raises(ValidationFailed):
        add_synonym_group(session, operator, terms=["白板", " 白板 "])
    group = add_synonym_group(session, operator, terms=["白板", "书写板", "ＷＢ"])
    assert group.terms == ["白板", "书写板", "wb"]


def test_only_the_operator_edits_synonyms(session):
    buyer = actor_for(make_member(session, OrganisationKind.PURCHASING_UNIT))
    with pytest.raises(PermissionDenied):
        add_synonym_group(session, buyer, terms=["白板", "书写板"])


def test_a_new_group_changes_what_buyers_find(session, tmp_path):
    from suppliers.listings import save_offers

    backend = make_backend("tantivy", var_dir=tmp_path, synonyms=[])
    backend.ensure_index()
    _user, supplier = admitted_supplier(session)
    offer_id = save_offers(session, supplier, supplier_id=supplier.organisation_id, items=[
        offer_input("SYN-1", brand="得力（deli）", model="BB-9")]).results[0].offer_id
    refresh_offers(session, backend, offer_ids=[offer_id])
    assert backend.search(SearchQuery(text="书写纸")).total == 0
    operator = operator_actor(session)
    group = add_synonym_group(session, operator, terms=["复印纸", "书写纸"])
    while drain_outbox(session, backend):
        pass
    assert [h.offer_id for h in backend.search(SearchQuery(text="书写纸")).hits] == [offer_id]
    delete_synonym_group(session, operator, group_id=group.id)
    while drain_outbox(session, backend):
        pass
    assert backend.search(SearchQuery(text="书写纸")).total == 0


def test_the_defaults_are_loaded_once(session):
    session.query(SynonymGroup).delete()
    assert ensure_default_synonyms(session) > 10
    assert ensure_default_synonyms(session) == 0

