"""Framework ceiling prices are enforced: setting or lowering one takes the listed offers above
it off sale for review (the supplier told, the search index following), the operator cannot
list them again, and checkout refuses a price above a ceiling in force."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from catalog.search import SearchQuery, make_backend
from catalog.search.documents import refresh_offers
from catalog.sync import drain_outbox
from mall.core.clock import frozen_clock, local_today
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders.models import Notification
from suppliers import frameworks, moderation
from suppliers.ceilings import AboveCeiling
from suppliers.listings import PriceStockUpdate, update_prices
from suppliers.models import ListingDecision
from tests.factories.purchasing import make_unit, token
from tests.factories.suppliers import admitted_supplier, listed_offer, operator_actor

PRICE = 591_603  # ¥5,916.03, as seen listed under a ¥5,800 ceiling


def _agreement(session, operator, suppliers, *, starts_on: date | None = None):
    starts_on = starts_on or local_today()
    return frameworks.create_agreement(
        session, operator, number=f"FW-{starts_on:%m%d}-{len(suppliers)}", title="台式计算机",
        category_code="A05040101", starts_on=starts_on, ends_on=starts_on + timedelta(days=180),
        supplier_ids=[s.organisation_id for s in suppliers])


def _two_listed(session, model: str, price_fen: int = PRICE):
    """Two suppliers listing the same product at ``price_fen``; their actors and offers."""
    _u1, first = admitted_supplier(session)
    _u2, second = admitted_supplier(session)
    offers = [listed_offer(session, s, model=model, price_fen=price_fen, reference=price_fen + 10_000)
              for s in (first, second)]
    assert [o.status for o in offers] == ["listed", "listed"]
    return (first, second), [session.get(Offer, o.offer_id) for o in offers]


def test_a_ceiling_below_listed_offers_takes_them_off_sale_and_tells_the_suppliers(
        session, tmp_path):
    backend = make_backend("tantivy", var_dir=tmp_path, synonyms=[])
    backend.ensure_index()
    suppliers, offers = _two_listed(session, "CEIL-1")
    _u3, third = admitted_supplier(session)
    cheap = session.get(Offer, listed_offer(session, third, model="CEIL-1", price_fen=579_000,
                                            reference=600_000).offer_id)
    refresh_offers(session, backend, offer_ids=[o.id for o in [*offers, cheap]])
    assert backend.search(SearchQuery(text="CEIL-1")).total == 3
    operator = operator_actor(session)
    agreement = _agreement(session, operator, suppliers)

    frameworks.set_price_cap(session, operator, agreement_id=agreement.id,
                             product_id=offers[0].product_id, cap_fen=580_000)

    for offer in offers:
        assert offer.status is OfferStatus.PENDING_REVIEW
        assert "above_framework_cap" in offer.review_reasons
        decision = session.scalars(select(ListingDecision).where(
            ListingDecision.offer_id == offer.id).order_by(ListingDecision.id.desc())).first()
        assert decision.action == "queued" and decision.reasons == offer.review_reasons
        assert decision.note == f"{agreement.number}: ¥5,800.00"
        (note,) = session.scalars(select(Notification).where(
            Notification.organisation_id == offer.supplier_id,
            Notification.kind == "offers_above_ceiling")).all()
        assert note.order_id is None
        assert (note.message % note.params).startswith(
            f"Framework agreement {agreement.number} sets a ceiling price of ¥5,800.00 for ")
    assert cheap.status is OfferStatus.LISTED
    while drain_outbox(session, backend):
        pass
    assert [h.offer_id for h in backend.search(SearchQuery(text="CEIL-1")).hits] == [cheap.id]
    rows, _total = moderation.review_queue(session, operator, reason="above_framework_cap")
    assert {o.id for o in offers} <= {r.offer.id for r in rows}


def test_lowering_a_ceiling_checks_the_listed_offers_again(session):
    suppliers, offers = _two_listed(session, "CEIL-2")
    operator = operator_actor(session)
    agreement = _agreement(session, operator, suppliers)
    frameworks.set_price_cap(session, operator, agreement_id=agreement.id,
                             product_id=offers[0].product_id, cap_fen=600_000)
    assert {o.status for o in offers} == {OfferStatus.LISTED}
    frameworks.set_price_cap(session, operator, agreement_id=agreement.id,
                             product_id=offers[0].product_id, cap_fen=591_602)
    assert {o.status for o in offers} == {OfferStatus.PENDING_REVIEW}
    # Run again (or by the sweep): nothing more is held, nobody is told twice.
    assert frameworks.hold_offers_above_ceilings(session, today=local_today()) == 0
    assert session.scalar(select(Notification.id).where(
        Notification.organisation_id == suppliers[0].organisation_id,
        Notification.kind == "offers_above_ceiling").offset(1)) is None


def test_the_operator_cannot_list_an_offer_above_a_ceiling_in_force(session):
    suppliers, (under, frozen) = _two_listed(session, "CEIL-3", price_fen=570_000)
    operator = operator_actor(session)
    agreement = _agreement(session, operator, suppliers)
    frameworks.set_price_cap(session, operator, agreement_id=agreement.id,
                             product_id=under.product_id, cap_fen=580_000)
    _u3, third = admitted_supplier(session)
    above = session.get(Offer, listed_offer(session, third, model="CEIL-3", price_fen=PRICE,
                                            reference=PRICE + 10_000).offer_id)
    assert "above_framework_cap" in above.review_reasons
    with pytest.raises(AboveCeiling) as caught:
        moderation.decide_offers(session, operator, offer_ids=[above.id], action="approve")
    assert caught.value.code == "above_framework_cap"
    # A frozen offer whose supplier raised its price is not reinstated either.
    moderation.decide_offers(session, operator, offer_ids=[frozen.id], action="freeze",
                             reason="虚假宣传")
    update_prices(session, suppliers[1], supplier_id=suppliers[1].organisation_id,
                  updates=[PriceStockUpdate(frozen.supplier_sku, price_fen=PRICE)])
    session.expire_all()  # written by a bulk statement
    with pytest.raises(AboveCeiling):
        moderation.decide_offers(session, operator, offer_ids=[frozen.id], action="reinstate")
    # At the ceiling the offer may be listed.
    update_prices(session, third, supplier_id=third.organisation_id,
                  updates=[PriceStockUpdate(above.supplier_sku, price_fen=580_000)])
    session.expire_all()
    moderation.decide_offers(session, operator, offer_ids=[above.id], action="approve")
    assert above.status is OfferStatus.LISTED


def test_a_supplier_raising_a_price_above_the_ceiling_sends_the_offer_to_review(session):
    suppliers, offers = _two_listed(session, "CEIL-4", price_fen=500_000)
    operator = operator_actor(session)
    agreement = _agreement(session, operator, suppliers)
    frameworks.set_price_cap(session, operator, agreement_id=agreement.id,
                             product_id=offers[0].product_id, cap_fen=550_000)
    report = update_prices(session, suppliers[0], supplier_id=suppliers[0].organisation_id,
                           updates=[PriceStockUpdate(offers[0].supplier_sku, price_fen=560_000)])
    assert report.results[0].status == "pending_review"
    assert "above_framework_cap" in report.results[0].reasons


def test_checkout_refuses_a_price_above_a_ceiling_in_force(session):
    start = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # a fixed day: no year end in between
    with frozen_clock(start) as clock:
        unit = make_unit(session)
        suppliers, offers = _two_listed(session, "CEIL-5")
        operator = operator_actor(session)
        # An agreement from tomorrow: its ceiling is not in force yet, the offers stay listed.
        agreement = _agreement(session, operator, suppliers, starts_on=date(2026, 6, 11))
        frameworks.set_price_cap(session, operator, agreement_id=agreement.id,
                                 product_id=offers[0].product_id, cap_fen=580_000)
        assert offers[0].status is OfferStatus.LISTED
        cart.add_item(session, unit.buyer, offer_id=offers[0].id, quantity=1)
        clock[0] = start + timedelta(days=1)
        with pytest.raises(AboveCeiling) as caught:
            checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                              delivery_address="长沙市岳麓区麓山路1号",
                              contact="李四 13800000000", token=token())
        assert caught.value.code == "above_framework_cap"
        assert "above the framework ceiling price of ¥5,800.00" in caught.value.detail
        session.refresh(offers[0])
        assert offers[0].stock == 100
        # The daily sweep then takes both offers off sale.
        assert frameworks.hold_offers_above_ceilings(session, today=date(2026, 6, 11)) == 2
