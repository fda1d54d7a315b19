"""Offers are matched to products, upserted by SKU, checked, and their prices kept in history."""

from dataclasses import replace

import pytest
from sqlalchemy import select

from catalog.models import Offer, OfferStatus, PriceChange
from mall.core.errors import NotFound, PermissionDenied
from suppliers.listings import PriceStockUpdate, delist_offers, save_offers, update_prices
from suppliers.models import ListingDecision
from tests.factories.suppliers import DESKTOP, PAPER, admitted_supplier, offer_input


def _save(session, actor, *items):
    return save_offers(session, actor, supplier_id=actor.organisation_id, items=list(items))


def test_a_fair_offer_is_listed_at_once_with_its_first_price_in_history(session):
    _user, actor = admitted_supplier(session)
    result = _save(session, actor, offer_input("P-1")).results[0]
    assert (result.outcome, result.status, result.reasons) == ("created", "listed", [])
    history = session.scalars(select(PriceChange).where(PriceChange.offer_id == result.offer_id))
    assert [(h.old_price_fen, h.new_price_fen) for h in history] == [(None, 2990)]


def test_an_offer_above_its_reference_price_goes_to_review_with_the_reason(session):
    _user, actor = admitted_supplier(session)
    result = _save(session, actor, offer_input("P-2", price_fen=3500, reference=3290)).results[0]
    assert result.status == "pending_review"
    assert result.reasons == ["above_reference_price"]
    decision = session.scalars(select(ListingDecision)
                               .where(ListingDecision.offer_id == result.offer_id)).one()
    assert decision.reasons == ["above_reference_price"]


def test_two_suppliers_offering_the_same_model_share_one_product(session):
    _u1, first = admitted_supplier(session)
    _u2, second = admitted_supplier(session)
    a = _save(session, first, offer_input("A", model="ZB-7788 ")).results[0]
    b = _save(session, second, offer_input("B", model="zb 7788")).results[0]
    offers = session.scalars(select(Offer).where(Offer.id.in_([a.offer_id, b.offer_id]))).all()
    assert len({o.product_id for o in offers}) == 1


def test_a_price_far_above_other_suppliers_average_is_held_for_review(session):
    _u1, first = admitted_supplier(session)
    _u2, second = admitted_supplier(session)
    _save(session, first, offer_input("A", model="M-1", price_fen=2000, reference=5000))
    result = _save(session, second, offer_input("B", model="M-1", price_fen=2700,
                                                reference=5000)).results[0]
    assert result.reasons == ["above_market_average"]


def test_listing_the_same_product_twice_is_flagged_as_duplicate(session):
    _user, actor = admitted_supplier(session)
    _save(session, actor, offer_input("X1", model="DUP-1"))
    result = _save(session, actor, offer_input("X2", model="DUP-1")).results[0]
    assert "duplicate_listing" in result.reasons


def test_a_category_the_supplier_is_not_admitted_for_is_refused_per_item(session):
    _user, actor = admitted_supplier(session, codes=(PAPER,))
    admitted_supplier(session, codes=(DESKTOP,))  # desktops are sold, just not by this one
    report = _save(session, actor, offer_input("OK"), offer_input("NO", code=DESKTOP))
    assert [(r.outcome, r.error) for r in report.results] == [
        ("created", None), ("refused", "category_not_admitted")]


def test_sending_the_same_offer_again_changes_nothing(session):
    _user, actor = admitted_supplier(session)
    item = offer_input("SAME")
    _save(session, actor, item)
    again = _save(session, actor, item).results[0]
    assert again.outcome == "unchanged"
    assert len(session.scalars(select(PriceChange)
                               .where(PriceChange.offer_id == again.offer_id)).all()) == 1


def test_a_price_change_is_kept_with_who_and_old_and_new(session):
    user, actor = admitted_supplier(session)
    item = offer_input("CHG")
    _save(session, actor, item)
    result = _save(session, actor, replace(item, price_fen=2890)).results[0]
    assert result.outcome == "updated"
    last = session.scalars(select(PriceChange).where(PriceChange.offer_id == result.offer_id)
                           .order_by(PriceChange.id.desc())).first()
    assert (last.old_price_fen, last.new_price_fen, last.changed_by_id) == (2990, 2890, user.id)


def test_batch_price_updates_recheck_the_reference_price(session):
    _user, actor = admitted_supplier(session)
    _save(session, actor, offer_input("U1"), offer_input("U2"))
    report = update_prices(session, actor, supplier_id=actor.organisation_id, updates=[
        PriceStockUpdate("U1", price_fen=2500, stock=7),
        PriceStockUpdate("U2", price_fen=9999),
        PriceStockUpdate("NOPE", stock=1)])
    assert [(r.outcome, r.status) for r in report.results] == [
        ("updated", "listed"), ("updated", "pending_review"), ("refused", None)]
    assert report.results[2].error == "unknown_sku"
    u1 = session.get(Offer, report.results[0].offer_id)
    assert (u1.price_fen, u1.stock) == (2500, 7)


def test_a_supplier_cannot_touch_another_suppliers_offers(session):
    _u1, owner = admitted_supplier(session)
    _u2, rival = admitted_supplier(session)
    _save(session, owner, offer_input("MINE"))
    with pytest.raises(NotFound):
        save_offers(session, rival, supplier_id=owner.organisation_id, items=[offer_input()])
    report = update_prices(session, rival, supplier_id=rival.organisation_id,
                           updates=[PriceStockUpdate("MINE", price_fen=1)])
    assert report.results[0].error == "unknown_sku"  # SKUs are per supplier


def test_a_buyer_cannot_save_offers(session):
    from mall.accounts.services import actor_for
    from mall.core.auth import OrganisationKind
    from tests.factories.accounts import make_member

    buyer = actor_for(make_member(session, OrganisationKind.PURCHASING_UNIT))
    with pytest.raises((NotFound, PermissionDenied)):
        save_offers(session, buyer, supplier_id=buyer.organisation_id, items=[offer_input()])


def test_the_supplier_delists_its_own_offer(session):
    _user, actor = admitted_supplier(session)
    result = _save(session, actor, offer_input("DEL")).results[0]
    assert delist_offers(session, actor, supplier_id=actor.organisation_id, skus=["DEL"]) == 1
    assert session.get(Offer, result.offer_id).status is OfferStatus.DELISTED


def test_a_batch_naming_one_sku_twice_is_refused_whole(session):
    from mall.core.errors import ValidationFailed

    _user, actor = admitted_supplier(session)
    _save(session, actor, offer_input("TWICE"))
    with pytest.raises(ValidationFailed):
        update_prices(session, actor, supplier_id=actor.organisation_id, updates=[
            PriceStockUpdate("TWICE", price_fen=2500), PriceStockUpdate("TWICE", price_fen=2400)])
    offer = session.scalar(select(Offer).where(Offer.supplier_sku == "TWICE"))
    assert offer.price_fen == 2990
