"""The daily inspection: which offers become cases, which are frozen at once, no second case
for an offer, cases resolved when the supplier lowers its price."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from mall.core.errors import PermissionDenied, ValidationFailed
from mall.purchasing.orders.models import Notification
from supervision.prices import settings
from supervision.prices.models import CaseStatus, PriceCase, PriceInspection
from supervision.prices.services import quartiles_x4, run_inspection
from suppliers.models import ListingDecision
from tests.factories.suppliers import operator_actor


def _cases(session, offer_ids) -> dict[int, PriceCase]:
    return {c.offer_id: c for c in session.scalars(
        select(PriceCase).where(PriceCase.offer_id.in_(offer_ids)))}


def _status(session, offer_id) -> OfferStatus:
    return session.scalar(select(Offer.status).where(Offer.id == offer_id))


def test_quartiles_interpolate_like_percentile_cont():
    # PostgreSQL: percentile_cont(0.25/0.5/0.75) of 10, 20, 30, 40 = 17.5, 25, 32.5
    assert quartiles_x4([10, 20, 30, 40]) == (70, 100, 130)
    assert quartiles_x4([7]) == (28, 28, 28)
    assert quartiles_x4([1, 2, 3, 4, 5]) == (8, 12, 16)


def test_reference_rule_opens_a_case_above_it_and_freezes_from_130_percent(session, market):
    # Each its own product (no peers); the reference is 100.00 yuan.
    prices = [10_000, 10_001, 12_999, 13_000, 13_001]
    ids = [market.product([p], reference=10_000)[0] for p in prices]
    inspection = run_inspection(session)
    cases = _cases(session, ids)
    assert ids[0] not in cases  # at the reference: in line
    assert cases[ids[1]].status is CaseStatus.OPEN
    assert cases[ids[1]].reasons == ["above_reference"]
    assert cases[ids[1]].ratio_permille == 1000  # 100.01 %, rounded to per mille
    assert cases[ids[2]].status is CaseStatus.OPEN
    assert _status(session, ids[2]) is OfferStatus.LISTED
    for frozen in ids[3:]:
        assert cases[frozen].status is CaseStatus.FROZEN
        assert cases[frozen].closed_at is not None and cases[frozen].closed_by_id is None
        assert _status(session, frozen) is OfferStatus.FROZEN
    assert cases[ids[3]].ratio_permille == 1300
    assert (inspection.offers_inspected, inspection.cases_opened, inspection.frozen) == (5, 4, 2)
    held = session.scalar(select(Offer.held_by_operator).where(Offer.id == ids[3]))
    assert held  # the supplier's edits do not relist it
    decision = session.scalars(select(ListingDecision).where(
        ListingDecision.offer_id == ids[3], ListingDecision.action == "freeze")).one()
    assert decision.reasons == ["above_reference_price"] and decision.decided_by_id is None


def test_quartile_rule_needs_more_than_the_margin_above_the_upper_quartile(session, market):
    # Four other suppliers at 10.00 yuan: upper quartile and median 10.00; margin 20 %,
    # hard ratio 130 % of the median. The reference is far above.
    candidates = {12_00: None, 12_01: CaseStatus.OPEN, 12_99: CaseStatus.OPEN,
                  13_00: CaseStatus.FROZEN}
    ids = {price: market.product([1000, 1000, 1000, 1000, price])[4] for price in candidates}
    run_inspection(session)
    cases = _cases(session, ids.values())
    for price, expected in candidates.items():
        found = cases.get(ids[price])
        assert (found.status if found else None) is expected, price
    case = cases[ids[12_01]]
    assert case.reasons == ["above_peer_quartile"]
    assert (case.peers, case.peer_q1_fen, case.peer_median_fen, case.peer_q3_fen) == (
        4, 1000, 1000, 1000)
    assert case.reference_price_fen == 100_000
    assert case.ratio_permille == 12  # 12.01 / 1000.00 yuan, per mille of the reference


def test_peers_are_the_other_suppliers_only(session, market):
    # The candidate's own second offer at 50.00 yuan does not count among its peers.
    ids = market.product([1000, 1000, 1000, 1250, 5000], sellers=[0, 1, 2, 3, 3])
    run_inspection(session)
    cases = _cases(session, ids)
    # Supplier 3's peers: 10.00 × 3 → 12.50 is above 12.00 (a case) and 50.00 is frozen.
    assert cases[ids[3]].status is CaseStatus.OPEN and cases[ids[3]].peers == 3
    assert cases[ids[4]].status is CaseStatus.FROZEN
    # Suppliers 0–2 see 10.00, 10.00, 12.50, 50.00 as peers: upper quartile 21.875, no case.
    assert not set(ids[:3]) & set(cases)


def test_without_enough_peers_only_the_reference_counts(session, market):
    ids = market.product([1000, 1000, 5000])  # two peers, three needed by default
    run_inspection(session)
    assert _cases(session, ids) == {}
    settings.save(session, operator_actor(session), min_peers=2, quartile_margin_pct=20,
                  hard_ratio_pct=130)
    run_inspection(session)
    assert _cases(session, ids)[ids[2]].status is CaseStatus.FROZEN
    assert _status(session, ids[2]) is OfferStatus.FROZEN


def test_an_offer_with_an_open_case_gets_no_second_one(session, market):
    offer_id = market.product([11_000], reference=10_000)[0]
    first = run_inspection(session)
    second = run_inspection(session)
    assert (first.cases_opened, second.cases_opened) == (1, 0)
    assert len(session.scalars(select(PriceCase).where(PriceCase.offer_id == offer_id)).all()) == 1


def test_a_price_cut_resolves_the_case_at_the_next_inspection(session, market):
    offer_id = market.product([11_000], reference=10_000)[0]
    run_inspection(session)
    market.set_price(offer_id, 9_900)
    inspection = run_inspection(session)
    case = _cases(session, [offer_id])[offer_id]
    assert case.status is CaseStatus.RESOLVED and case.closing_price_fen == 9_900
    assert inspection.resolved == 1
    assert _status(session, offer_id) is OfferStatus.LISTED


def test_an_open_case_whose_price_rises_past_the_hard_ratio_is_frozen(session, market):
    offer_id = market.product([11_000], reference=10_000)[0]
    run_inspection(session)
    market.set_price(offer_id, 14_000)
    run_inspection(session)
    case = _cases(session, [offer_id])[offer_id]
    assert case.status is CaseStatus.FROZEN
    assert _status(session, offer_id) is OfferStatus.FROZEN


def test_the_supplier_is_told_what_the_inspection_found(session, market):
    market.product([11_000], reference=10_000)
    market.product([14_000], reference=10_000)
    run_inspection(session)
    notes = session.scalars(select(Notification).where(
        Notification.organisation_id == market.actors[0].organisation_id,
        Notification.kind == "price_cases_opened")).all()
    assert len(notes) == 1
    assert (notes[0].params["count"], notes[0].params["frozen"]) == ("2", "1")


def test_each_run_is_recorded_with_the_settings_it_applied(session, market):
    market.product([10_000], reference=10_000)
    inspection = run_inspection(session)
    stored = session.get(PriceInspection, inspection.id)
    assert stored.finished_at is not None and stored.offers_inspected == 1
    assert (stored.min_peers, stored.quartile_margin_pct, stored.hard_ratio_pct) == (3, 20, 130)


@pytest.mark.parametrize("values, field", [
    ({"min_peers": 0}, "min_peers"),
    ({"min_peers": None}, "min_peers"),
    ({"quartile_margin_pct": -1}, "quartile_margin_pct"),
    ({"hard_ratio_pct": 100}, "hard_ratio_pct"),
    ({"hard_ratio_pct": 100_000}, "hard_ratio_pct"),
])
def test_settings_out_of_range_are_refused_by_field(session, values, field):
    given = {"min_peers": 3, "quartile_margin_pct": 20, "hard_ratio_pct": 130, **values}
    with pytest.raises(ValidationFailed) as refused:
        settings.save(session, operator_actor(session), **given)
    assert list(refused.value.errors) == [field]


def test_only_the_operator_changes_the_settings(session, market):
    with pytest.raises(PermissionDenied):
        settings.save(session, market.actors[0], min_peers=3, quartile_margin_pct=20,
                      hard_ratio_pct=130)
