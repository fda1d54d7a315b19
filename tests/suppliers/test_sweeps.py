"""The suppliers' timed sweeps, run as the scheduler runs them, on a frozen clock: a timed
suspension runs out and the supplier sells in the category again; a framework agreement
past its term ends and its ceiling prices stop applying."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.models import Offer, OfferStatus
from mall.core.audit import AuditEvent
from mall.core.clock import frozen_clock
from mall.core.jobs import REGISTRY
from suppliers import admission, frameworks, moderation
from suppliers.ceilings import AboveCeiling, PricedItem, require_within_ceilings
from suppliers.listings import PriceStockUpdate, save_offers, update_prices
from suppliers.models import AdmissionStatus, AgreementStatus
from tests.factories.suppliers import (
    DESKTOP,
    PAPER,
    admitted_supplier,
    listed_offer,
    offer_input,
    operator_actor,
)

# Shanghai is UTC+8: 16:00 UTC is midnight there.
SUSPENDED_ON = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
LAST_EVENING = datetime(2027, 3, 9, 15, 30, tzinfo=UTC)  # 23:30 on 9 March in Shanghai
NEXT_MORNING = datetime(2027, 3, 9, 16, 30, tzinfo=UTC)  # 00:30 on 10 March in Shanghai


def _run(app, session, job_id: str) -> None:
    with app.app_context():
        REGISTRY[job_id].run(session)


def test_a_timed_suspension_runs_out_and_the_supplier_sells_in_the_category_again(app, session):
    with frozen_clock(SUSPENDED_ON) as clock:
        _user, supplier = admitted_supplier(session, codes=(PAPER,))
        offer = session.get(Offer, listed_offer(session, supplier).offer_id)
        record = admission.list_admissions(session, supplier,
                                           supplier_id=supplier.organisation_id)[0][0]
        admission.suspend_admission(session, operator_actor(session), admission_id=record.id,
                                    reason="未按期发货", until=date(2027, 3, 10))
        assert not offer.visible

        clock[0] = LAST_EVENING
        _run(app, session, "suppliers.suspensions")
        session.expire_all()
        assert record.status is AdmissionStatus.SUSPENDED and not offer.visible
        refused = save_offers(session, supplier, supplier_id=supplier.organisation_id,
                              items=[offer_input()])
        assert refused.results[0].error == "category_not_admitted"

        clock[0] = NEXT_MORNING
        _run(app, session, "suppliers.suspensions")
        session.expire_all()
        assert record.status is AdmissionStatus.ACTIVE and record.suspended_until is None
        assert offer.visible
        saved = save_offers(session, supplier, supplier_id=supplier.organisation_id,
                            items=[offer_input()])
        assert (saved.results[0].outcome, saved.results[0].status) == ("created", "listed")

        _run(app, session, "suppliers.suspensions")  # the next hour's run finds nothing
        reinstated = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "admission.reinstated",
            AuditEvent.object_id == str(record.id)))
        assert reinstated == 1


def test_an_agreement_past_its_term_ends_and_its_ceiling_stops_applying(app, session):
    with frozen_clock(datetime(2027, 3, 1, 2, 0, tzinfo=UTC)) as clock:
        (_u1, first), (_u2, second) = admitted_supplier(session), admitted_supplier(session)
        offer = session.get(Offer, listed_offer(session, first, code=DESKTOP, model="SWEEP-1",
                                                price_fen=591_603, reference=600_000).offer_id)
        operator = operator_actor(session)
        agreement = frameworks.create_agreement(
            session, operator, number="FW-SWEEP", title="台式计算机", category_code=DESKTOP,
            starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 9),
            supplier_ids=[first.organisation_id, second.organisation_id])
        frameworks.set_price_cap(session, operator, agreement_id=agreement.id,
                                 product_id=offer.product_id, cap_fen=580_000)
        assert offer.status is OfferStatus.PENDING_REVIEW  # held: above the ceiling
        priced = [PricedItem(offer.product_id, offer.price_fen, "台式计算机")]

        clock[0] = LAST_EVENING  # the agreement's last day: the ceiling still applies
        _run(app, session, "suppliers.framework_ceilings")
        assert agreement.status is AgreementStatus.ACTIVE
        with pytest.raises(AboveCeiling):
            moderation.decide_offers(session, operator, offer_ids=[offer.id], action="approve")
        with pytest.raises(AboveCeiling):
            require_within_ceilings(session, priced, on=date(2027, 3, 9))

        clock[0] = NEXT_MORNING
        _run(app, session, "suppliers.framework_ceilings")
        session.expire_all()
        listed = {a.number: a.status for a, _category in
                  frameworks.list_agreements(session, operator)}
        assert listed["FW-SWEEP"] is AgreementStatus.ENDED
        moderation.decide_offers(session, operator, offer_ids=[offer.id], action="approve")
        assert offer.status is OfferStatus.LISTED
        require_within_ceilings(session, priced, on=date(2027, 3, 10))  # buyers may buy it
        report = update_prices(session, first, supplier_id=first.organisation_id,
                               updates=[PriceStockUpdate(offer.supplier_sku, price_fen=595_000)])
        assert (report.results[0].status, report.results[0].reasons) == ("listed", [])
        clock[0] = NEXT_MORNING + timedelta(hours=1)
        _run(app, session, "suppliers.framework_ceilings")  # the next run holds nothing
        session.expire_all()
        assert offer.status is OfferStatus.LISTED
